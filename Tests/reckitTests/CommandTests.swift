import Foundation
import ArgumentParser
import Testing
import _RecKitTestSupport
@testable import reckit
import RecKit

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
        var synth = try #require(try RecKitCommand.parseAsRoot(
            ["data", "synth", "--preset", "tiny", "--seed", "3", "--out", folder.path + "/d", "--quiet"]) as? AsyncParsableCommand)
        try await synth.run()
        let dataset = try Dataset.load(folder.path + "/d")
        #expect(dataset.interactions.count == SyntheticData.generate(preset: .tiny, seed: 3).ratings.interactions.count)
        var convert = try #require(try RecKitCommand.parseAsRoot(
            ["data", "convert", folder.path + "/d", "--out", folder.path + "/c.csv", "--quiet"]) as? AsyncParsableCommand)
        try await convert.run()
        let converted = try Dataset.load(folder.path + "/c.csv")
        #expect(converted.interactions == dataset.interactions)
        let text = SummaryText.render(DatasetSummary(dataset), report: dataset.report)
        #expect(text.contains("users                 300"))
        #expect(text.contains("long tail"))
    }
}
