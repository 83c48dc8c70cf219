import ArgumentParser
import Foundation
import RecKit
import Testing
import _RecKitTestSupport

@testable import reckit

@Suite struct BenchmarkCommandTests {
    /// A tiny synthetic data set written where a suite can name it by a relative path.
    func folderWithData() async throws -> TemporaryDirectory {
        let folder = TemporaryDirectory()
        var synth = try #require(
            try RecKitCommand.parseAsRoot(
                ["data", "synth", "--preset", "tiny", "--seed", "5", "--out", folder.path + "/data", "--quiet"])
                as? AsyncParsableCommand)
        try await synth.run()
        return folder
    }

    @Test func runsEveryEntryWithItsOwnSettingsAndLabel() async throws {
        let folder = try await folderWithData()
        let suite = folder.write(
            "suite.yaml",
            """
            title: tiny
            metrics: [ndcg@10, recall@20]
            datasets:
              - data: data            # relative to this file
                split: holdout:0.2
                seed: 7
                name: tiny
            models:
              - popularity
              - model: ials
                name: ials-a1
                settings: {factors: 8, alpha: 1, iterations: 5}
              - model: ials
                name: ials-a10
                settings: {factors: 8, alpha: 10, iterations: 5}
            """)
        var command = try #require(
            try RecKitCommand.parseAsRoot(
                [
                    "benchmark", suite, "--report", folder.path + "/r.html", "--markdown", folder.path + "/r.md",
                    "--quiet",
                ]) as? AsyncParsableCommand)
        try await command.run()
        let markdown = try String(contentsOfFile: folder.path + "/r.md", encoding: .utf8)
        #expect(markdown.contains("# tiny") && markdown.contains("## tiny"))
        let html = try String(contentsOfFile: folder.path + "/r.html", encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("ials-a10"))

        // Each row equals a run of the same model and settings on the same split (iALS is deterministic).
        let source = Experiment.SplitSource(data: folder.path + "/data", method: "holdout:0.2", seed: 7)
        let (split, _) = try source.load(try LoadOptions.parse([]), quiet: true)
        for (label, alpha) in [("ials-a1", "1"), ("ials-a10", "10")] {
            let result = try Experiment.run(
                try ConfiguredModel("ials", settings: ["factors": "8", "alpha": alpha, "iterations": "5"]),
                label: label, split: split,
                metrics: [.ndcg(10), .recall(20)], sampled: false, batchSize: 256, threadCount: 2, quiet: true)
            let row = String(format: "| %@ | %.4f | %.4f |", label, result["ndcg@10"]!, result["recall@20"]!)
            #expect(markdown.contains(row), "\(row) in\n\(markdown)")
        }
        #expect(markdown.contains("| popularity |"))
    }

    /// Every suite in benchmarks/ reads and checks (paths, models, settings) against the shared data.
    @Test func theRepositorysSuitesAreValid() throws {
        guard SharedData.peerSplits != nil, SharedData.root != nil else {
            #expect(SharedData.requiredButMissing.isEmpty, "shared data missing on CI")
            print("skipped: ../shared is not beside the project")
            return
        }
        let folder = SharedData.packageRoot + "/benchmarks"
        let suites = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }
        #expect(suites.contains("frontier.yaml") && suites.contains("frontier-tune.yaml"))
        for suite in suites.sorted() { _ = try BenchmarkSuite.read(folder + "/" + suite) }
    }

    @Test func entriesRunOnTheirDataSetsAndTuneFirst() async throws {
        let folder = try await folderWithData()
        let suite = folder.write(
            "tuned.yaml",
            """
            metrics: [ndcg@10]
            datasets:
              - {data: data, seed: 7, name: a}
              - {data: data, seed: 8, name: b}
            models:
              - popularity
              - {model: ease, datasets: [a], tune: {budget: 3}}
              - {model: ease, name: ease, datasets: [b], settings: {regularization: 20}}
            """)
        var command = try #require(
            try RecKitCommand.parseAsRoot(
                ["benchmark", suite, "--markdown", folder.path + "/r.md", "--tune-dir", folder.path + "/t", "--quiet"])
                as? AsyncParsableCommand)
        try await command.run()
        let markdown = try String(contentsOfFile: folder.path + "/r.md", encoding: .utf8)
        let sections = markdown.components(separatedBy: "## ")
        #expect(sections.count == 3 && sections[1].contains("| ease |") && sections[2].contains("| ease |"))
        // a's ease was tuned: its three trials are kept, and its row is that of the best trial's settings.
        let trials = try String(contentsOfFile: folder.path + "/t/a/ease/trials.jsonl", encoding: .utf8)
        #expect(trials.split(separator: "\n").count == 4)
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/t/b"))
        // Two entries of one label on overlapping data sets are refused.
        let clash = folder.write(
            "clash.yaml",
            """
            datasets: [{data: data, name: a}]
            models: [{model: ease, datasets: [a]}, {model: ease}]
            """)
        #expect(throws: (any Error).self) { try BenchmarkSuite.read(clash) }
        let unknown = folder.write(
            "unknown.yaml", "datasets: [{data: data, name: a}]\nmodels: [{model: ease, datasets: [c]}]\n")
        do { _ = try BenchmarkSuite.read(unknown) } catch { #expect("\(error)".contains("'c' is not a data set")) }
    }

    @Test func seededModelsRunOncePerSeedAndAreAveraged() async throws {
        let folder = try await folderWithData()
        let suite = folder.write(
            "seeds.yaml",
            """
            metrics: [ndcg@10]
            seeds: 3
            datasets: [{data: data, seed: 7}]
            models:
              - popularity                                    # no seed: one run
              - {model: ials, name: three, settings: {factors: 8, iterations: 3}}
              - {model: ials, name: two, settings: {factors: 8, iterations: 3}, seeds: [5, 9]}
              - {model: ials, name: fixed, settings: {factors: 8, iterations: 3, seed: 5}}
            """)
        let plan = try BenchmarkSuite.read(suite)
        #expect(plan.seeds == [0, 1, 2] && plan.models[2].seeds == [5, 9])
        var command = try #require(
            try RecKitCommand.parseAsRoot(
                ["benchmark", suite, "--markdown", folder.path + "/s.md", "--quiet"]) as? AsyncParsableCommand)
        try await command.run()
        let markdown = try String(contentsOfFile: folder.path + "/s.md", encoding: .utf8)
        let (split, _) = try Experiment.SplitSource(data: folder.path + "/data", seed: 7).load(
            try LoadOptions.parse([]), quiet: true)
        func ndcg(_ seed: Int) throws -> Double {
            try Experiment.run(
                try ConfiguredModel("ials", settings: ["factors": "8", "iterations": "3", "seed": String(seed)]),
                split: split, metrics: [.ndcg(10)],
                sampled: false, batchSize: 256, threadCount: 2, quiet: true)["ndcg@10"]!
        }
        let (five, nine) = (try ndcg(5), try ndcg(9))
        let mean = (five + nine) / 2
        let deviation = abs(five - nine) / 2.0.squareRoot()
        #expect(markdown.contains(String(format: "| two | %.4f ± %.4f |", mean, deviation)), "\(markdown)")
        #expect(markdown.contains(String(format: "| fixed | %.4f |", five)))
        #expect(
            markdown.contains("| three | ") && markdown.contains(" ± ")
                && !markdown.contains("| popularity | 0.0000 ±")
        )
        #expect(markdown.contains("over 3 seeds"))
    }

    @Test func problemsNameTheFileLineAndField() async throws {
        let folder = try await folderWithData()
        let cases: [(String, String)] = [
            (
                "datasets:\n  - data: data\nmodels:\n  - model: ials\n    settings: {factorz: 8}\n",
                ":5:15: models[0].settings: ials: factorz: unknown setting"
            ),
            (
                "datasets:\n  - data: data\nmodels: [popularity, popularity]\n",
                ":3:22: models[1].name: 'popularity' is used twice"
            ),
            ("datasets:\n  - data: nowhere.csv\nmodels: [popularity]\n", ":2:11: datasets[0].data:"),
            (
                "datasets:\n  - data: data\n    split: halves\nmodels: [popularity]\n",
                ":2:5: datasets[0]: split 'halves'"
            ),
            ("datasets:\n  - data: data\nmodels: [nope]\n", ":3:10: models[0].model: unknown model 'nope'"),
            ("dataset:\n  - data: data\n", ":1:1: suite: unknown key 'dataset'"),
            ("datasets:\n  - data: data\nmodels: []\n", ":3:9: models: a non-empty list of models is required"),
            (
                "datasets:\n  - data: data\nmetrics: [ndcg@x]\nmodels: [popularity]\n",
                ":3:10: metrics: unknown metric 'ndcg@x'"
            ),
            ("datasets: [\n", ": suite: not valid YAML"),
            (
                "datasets:\n  - {split_dir: data, seed: 3}\nmodels: [popularity]\n",
                ":2:29: datasets[0].seed: applies to data"
            ),
            ("seeds: 0\ndatasets:\n  - data: data\nmodels: [popularity]\n", ":1:8: seeds: a count of seeds"),
            (
                "datasets:\n  - data: data\nmodels:\n  - {model: ials, seeds: [1, 1]}\n",
                ":4:26: models[0].seeds: give distinct seeds"
            ),
        ]
        for (index, (text, expected)) in cases.enumerated() {
            let path = folder.write("bad\(index).yaml", text)
            do {
                _ = try BenchmarkSuite.read(path)
                Issue.record("\(text) was accepted")
            } catch {
                #expect("\(error)".hasPrefix(path) && "\(error)".contains(expected), "\(error)")
            }
        }
    }
}
