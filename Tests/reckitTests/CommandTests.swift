import ArgumentParser
import Foundation
import RecKit
import Testing
import _RecKitTestSupport

@testable import reckit

@Suite struct CommandTests {
    @Test func unknownPresetIsRejectedWithAMessage() {
        #expect(throws: (any Error).self) {
            _ = try RecKitCommand.parseAsRoot(["data", "synth", "--preset", "huge", "--out", "/tmp/x"])
        }
        do {
            _ = try RecKitCommand.parseAsRoot(["data", "synth", "--preset", "huge", "--out", "/tmp/x"])
        } catch {
            #expect(RecKitCommand.message(for: error).contains("huge"))
        }
    }

    @Test func badDelimiterIsRejected() {
        #expect(throws: (any Error).self) {
            _ = try RecKitCommand.parseAsRoot(["data", "inspect", "x.csv", "--delimiter", "ab"])
        }
    }

    @Test func synthThenInspectAndConvert() async throws {
        let folder = TemporaryDirectory()
        var synth = try #require(
            try RecKitCommand.parseAsRoot(
                ["data", "synth", "--preset", "tiny", "--seed", "3", "--out", folder.path + "/d", "--quiet"])
                as? AsyncParsableCommand)
        try await synth.run()
        let dataset = try Dataset.load(folder.path + "/d")
        #expect(dataset.interactions.count == SyntheticData.generate(preset: .tiny, seed: 3).ratings.interactions.count)
        var convert = try #require(
            try RecKitCommand.parseAsRoot(
                ["data", "convert", folder.path + "/d", "--out", folder.path + "/c.csv", "--quiet"])
                as? AsyncParsableCommand)
        try await convert.run()
        let converted = try Dataset.load(folder.path + "/c.csv")
        #expect(converted.interactions == dataset.interactions)
        let text = SummaryText.render(DatasetSummary(dataset), report: dataset.report)
        #expect(text.contains("users                 300"))
        #expect(text.contains("long tail"))
    }
}

@Suite struct EvaluateCommandTests {
    @Test func rejectsBadInput() {
        for arguments in [
            ["evaluate", "--model", "popularity"], // no data
            ["evaluate", "--split-dir", "y", "--positive-threshold", "4", "--model", "popularity"], // --data only
            ["evaluate", "--data", "x", "--model", "nope"], // unknown model
            ["evaluate", "--data", "x", "--model", "popularity", "--set", "window=-3"], // bad setting
            ["evaluate", "--data", "x", "--model", "popularity", "--set", "colour=red"], // unknown setting
            ["evaluate", "--data", "x", "--model", "popularity", "--metrics", "ndcg"], // no cut-off
            ["evaluate", "--data", "x", "--model", "popularity", "--split", "holdout:2"], // bad split
        ] {
            #expect(throws: (any Error).self, "\(arguments)") { _ = try RecKitCommand.parseAsRoot(arguments) }
        }
    }

    @Test func evaluatesASyntheticSplitAndWritesReports() async throws {
        let folder = TemporaryDirectory()
        try SyntheticData.generate(preset: .tiny, seed: 1).write(to: folder.path + "/d")
        var command = try #require(
            try RecKitCommand.parseAsRoot([
                "evaluate", "--data", folder.path + "/d", "--split", "holdout:0.2", "--model", "popularity,random",
                "--report", folder.path + "/r.html", "--markdown", folder.path + "/r.md", "--quiet",
            ]) as? AsyncParsableCommand)
        try await command.run()
        let html = try String(contentsOfFile: folder.path + "/r.html", encoding: .utf8)
        #expect(
            html.contains("<svg") && html.contains("popularity") && html.contains("full ranking")
                && !html.contains("<script"))
        let markdown = try String(contentsOfFile: folder.path + "/r.md", encoding: .utf8)
        #expect(markdown.contains("| popularity |") && markdown.contains("| random |"))
    }
}

@Suite struct EvaluateSeedsCommandTests {
    @Test func seedsAverageSeededModelsOnly() async throws {
        let folder = TemporaryDirectory()
        try SyntheticData.generate(preset: .tiny, seed: 1).write(to: folder.path + "/d")
        var command = try #require(
            try RecKitCommand.parseAsRoot([
                "evaluate", "--data", folder.path + "/d", "--model", "itemknn,random", "--seeds", "3", "--metrics",
                "ndcg@10",
                "--markdown", folder.path + "/r.md", "--quiet",
            ]) as? AsyncParsableCommand)
        try await command.run()
        let markdown = try String(contentsOfFile: folder.path + "/r.md", encoding: .utf8)
        let rows = markdown.split(separator: "\n").filter { $0.hasPrefix("| itemknn") || $0.hasPrefix("| random") }
        #expect(rows.count == 2 && !rows[0].contains("±") && rows[1].contains("±"), "\(rows)")
        for arguments in [["--model", "random", "--seeds", "0"], ["--saved", folder.path, "--seeds", "2"]] {
            #expect(throws: (any Error).self) {
                _ = try RecKitCommand.parseAsRoot(["evaluate", "--data", folder.path + "/d"] + arguments)
            }
        }
        // Without --seeds, the same --saved arguments parse.
        #expect(
            try RecKitCommand.parseAsRoot(["evaluate", "--data", folder.path + "/d", "--saved", folder.path])
                is Evaluate)
    }
}

@Suite struct TrainRecommendCommandTests {
    @Test func trainRecommendAndSimilar() async throws {
        let folder = TemporaryDirectory()
        try SyntheticData.generate(preset: .tiny, seed: 2).write(to: folder.path + "/d")
        folder.write("ials.yaml", "# settings\nfactors: 8\niterations: 2\n")
        var train = try #require(
            try RecKitCommand.parseAsRoot([
                "train", "--data", folder.path + "/d", "--model", "ials", "--config", folder.path + "/ials.yaml",
                "--set", "alpha=5",
                "--out", folder.path + "/m", "--quiet",
            ]) as? AsyncParsableCommand)
        try await train.run()
        let saved = try ModelStore.load(folder.path + "/m")
        let config = try #require(saved.model as? ImplicitALS).config
        #expect(
            config.factorCount == 8 && config.iterationCount == 2 && config.alpha == 5 && config.regularization == 0.05)
        #expect(saved.itemTitles?.contains { $0 != nil } == true)
        for arguments in [["--user", "1"], ["--history", "1,2,3"], ["--users", "all", "--tsv"]] {
            var command = try #require(
                try RecKitCommand.parseAsRoot(["recommend", "--model", folder.path + "/m", "-k", "3"] + arguments)
                    as? AsyncParsableCommand)
            try await command.run()
        }
        var similar = try #require(
            try RecKitCommand.parseAsRoot(["similar", "--model", folder.path + "/m", "--item", "1"])
                as? AsyncParsableCommand)
        try await similar.run()
        #expect(throws: (any Error).self) {
            _ = try RecKitCommand.parseAsRoot(["recommend", "--model", "m", "--user", "1", "--history", "2"])
        }
        #expect(throws: (any Error).self) { _ = try SettingsFile.read(folder.write("bad.yaml", "factors 8\n")) }
        let badValue = folder.write("zero.yaml", "# settings\niterations: 2\nfactors: 0\n")
        #expect(throws: RuntimeError("\(badValue):3: ials: factors: must be in 1…4096, not 0")) {
            _ = try SettingsFile.read(badValue, model: "ials")
        }
        // Exit codes: a well-formed command that meets an unknown user is a runtime error (1, one line,
        // no usage); a command-line mistake is 64 with usage.
        var unknown = try #require(
            try RecKitCommand.parseAsRoot(["recommend", "--model", folder.path + "/m", "--user", "nobody"])
                as? AsyncParsableCommand)
        do {
            try await unknown.run()
            Issue.record("an unknown user was accepted")
        } catch {
            #expect(error is RuntimeError && "\(error)" == "user 'nobody' is not in the model's training data")
            #expect(RecKitCommand.exitCode(for: error) == .failure)
            // With --json, stdout gets the error as JSON too.
            let json = try #require(RecKitCommand.jsonError(for: error, arguments: ["recommend", "--json"]))
            #expect(json == #"{"error":"user 'nobody' is not in the model's training data","exit_code":1}"#)
            #expect(RecKitCommand.jsonError(for: error, arguments: ["recommend"]) == nil)
        }
        do {
            _ = try RecKitCommand.parseAsRoot(["recommend", "--model", "m", "-k", "0", "--user", "1"])
            Issue.record("-k 0 was accepted")
        } catch {
            #expect(RecKitCommand.exitCode(for: error) == .validationFailure)
        }
    }
}

@Suite struct EvaluateSavedModelTests {
    @Test func savedModelEvaluatesLikeTheTrainedOne() async throws {
        let folder = TemporaryDirectory()
        let data = SyntheticData.generate(preset: .tiny, seed: 4)
        let split = try data.ratings.split(.holdout(testFraction: 0.2, minimumPerUser: 5), seed: 4)
        // Write the split as a split folder with raw IDs.
        func lines(_ part: Interactions) -> String {
            (0..<part.count).map { "\(split.users.id(at: part.users[$0]))\t\(split.items.id(at: part.items[$0]))\n" }
                .joined()
        }
        folder.write("s/train.tsv", lines(split.train))
        folder.write("s/test.tsv", lines(split.test))
        var train = try #require(
            try RecKitCommand.parseAsRoot(
                [
                    "train", "--split-dir", folder.path + "/s", "--model", "itemknn", "--out", folder.path + "/m",
                    "--quiet",
                ]) as? AsyncParsableCommand)
        try await train.run()
        let saved = try ModelStore.load(folder.path + "/m")
        let reread = try SplitDirectory.load(folder.path + "/s")
        let (test, dropped) = saved.reindex(reread.test, users: reread.users, items: reread.items)
        #expect(dropped == 0)
        let fromSaved = try FullRankingEvaluator(metrics: [.ndcg(10)]).evaluate(
            saved.model, train: saved.seenInteractions, test: test)
        let direct = try FullRankingEvaluator(metrics: [.ndcg(10)]).evaluate(
            try ItemKNN(fitting: reread.train), train: reread.train, test: reread.test)
        #expect(fromSaved["ndcg@10"] == direct["ndcg@10"])
        #expect(throws: (any Error).self) {
            _ = try RecKitCommand.parseAsRoot(["evaluate", "--split-dir", "s", "--model", "ials", "--saved", "m"])
        }
    }
}
