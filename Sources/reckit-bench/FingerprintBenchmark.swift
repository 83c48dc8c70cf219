import ArgumentParser
import Foundation
import RecKit

/// SHA-256 of a file's bytes (what model checksums and data fingerprints compute), against
/// coreutils' `sha256sum` on the same file in the same run.
struct FingerprintBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fingerprint", abstract: "SHA-256 of a file (swift-crypto) vs sha256sum on the same file.")

    @Option(help: "The file to hash (e.g. a 500 MB ratings.csv from `reckit data synth --preset ml-20m-like`).")
    var file: String
    @Option(help: "Timed repeats (the median is reported).") var repeats = 3

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("\(file): cannot be read")
        }
        var digest = ""
        let ours = (0..<repeats).map { _ in time { digest = Fingerprint.hex(data) } }
        var reference: [Double] = []
        var referenceDigest = ""
        for _ in 0..<repeats {
            reference.append(
                try time { referenceDigest = String(try runProcess("/usr/bin/sha256sum", [file]).prefix(64)) })
        }
        emit([
            "benchmark": "fingerprint", "bytes": data.count, "seconds": median(ours), "all_seconds": ours,
            "megabytes_per_second": Double(data.count) / 1e6 / median(ours), "sha256sum_seconds": median(reference),
            "ratio_to_sha256sum": median(ours) / median(reference), "digests_agree": digest == referenceDigest,
        ])
    }
}
