import ArgumentParser
import Foundation
import RecKit

struct SynthBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth", abstract: "Time generating and writing a synthetic preset.")
    @Option var preset = "ml-20m-like"
    @Option var seed: UInt64 = 42
    @Option var out: String
    @Option var repeats = 1

    func run() throws {
        guard let preset = SyntheticPreset.named(preset) else { throw ValidationError("unknown preset") }
        var generate: [Double] = []
        var write: [Double] = []
        for _ in 0..<repeats {
            var data: SyntheticData?
            generate.append(time { data = SyntheticData.generate(preset: preset, seed: seed) })
            write.append(try time { try data!.write(to: out) })
        }
        emit([
            "benchmark": "synth", "preset": preset.name, "generate_seconds": median(generate),
            "write_seconds": median(write),
            "total_seconds": median(zip(generate, write).map { $0 + $1 }), "target_seconds": 10,
        ])
    }
}
