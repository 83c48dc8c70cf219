import ArgumentParser
import Foundation
import RecKit
import Testing
import _RecKitTestSupport

@testable import reckit

@Suite struct TuneCommandTests {
    func command(_ arguments: [String]) throws -> AsyncParsableCommand {
        try #require(try RecKitCommand.parseAsRoot(arguments) as? AsyncParsableCommand)
    }

    @Test func tunesWritesSettingsTrainReadsAndResumes() async throws {
        let folder = TemporaryDirectory()
        var synth = try command([
            "data", "synth", "--preset", "tiny", "--seed", "5", "--out", folder.path + "/d", "--quiet",
        ])
        try await synth.run()
        folder.write("space.yaml", "regularization: {log: [1, 1000]}\n")
        let arguments = [
            "tune", "--data", folder.path + "/d", "--split", "holdout:0.2", "--model", "ease", "--space",
            folder.path + "/space.yaml", "--out", folder.path + "/t", "--quiet",
        ]
        var tune = try command(arguments + ["--budget", "3"])
        try await tune.run()
        let trials = try String(contentsOfFile: folder.path + "/t/trials.jsonl", encoding: .utf8)
        #expect(trials.split(separator: "\n").count == 4) // header + 3 trials
        // best.yaml is what `reckit train --config` reads.
        let settings = try SettingsFile.read(folder.path + "/t/best.yaml", model: "ease")
        #expect(settings.keys.sorted() == ["regularization"])
        let report = try String(contentsOfFile: folder.path + "/t/report.html", encoding: .utf8)
        #expect(report.contains("<h2>Trials</h2>") && report.contains("best ndcg@10 so far"))
        // Again with a larger budget: the three finished trials stay as they were.
        tune = try command(arguments + ["--budget", "4"])
        try await tune.run()
        let resumed = try String(contentsOfFile: folder.path + "/t/trials.jsonl", encoding: .utf8)
        #expect(resumed.hasPrefix(trials) && resumed.split(separator: "\n").count == 5)
    }

    @Test func rejectsBadSpacesAndOptions() async throws {
        let folder = TemporaryDirectory()
        folder.write("bad.yaml", "regularization: {log: [0, 10]}\n")
        #expect(throws: (any Error).self) { try SpaceFile.read(folder.path + "/bad.yaml") }
        do { _ = try SpaceFile.read(folder.path + "/bad.yaml") } catch {
            #expect("\(error)".contains("bad.yaml:1:") && "\(error)".contains("above 0"))
        }
        folder.write("kind.yaml", "regularization: {cubic: [1, 10]}\n")
        #expect(throws: (any Error).self) { try SpaceFile.read(folder.path + "/kind.yaml") }
        folder.write(
            "good.yaml", "alpha: {uniform: [0, 2]}\nneighbors: {logint: [10, 100]}\nnormalize: [true, false]\n")
        let space = try SpaceFile.read(folder.path + "/good.yaml")
        #expect(
            space.dimensions == [
                "alpha": .uniform(0, 2), "neighbors": .integer(10, 100, log: true),
                "normalize": .choice(["true", "false"]),
            ])
        #expect(throws: (any Error).self) {
            _ = try RecKitCommand.parseAsRoot(["tune", "--data", "x", "--model", "ease"])
        }
        #expect(Tune.seconds("1h30m") == 5400 && Tune.seconds("90s") == 90 && Tune.seconds("10") == nil)
    }
}
