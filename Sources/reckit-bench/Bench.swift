import ArgumentParser
import Foundation
import RecKit

@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reckit-bench",
        abstract:
            "RecKit benchmarks; each prints JSON lines with raw times and ratios to a reference measured in the same "
            + "run.",
        subcommands: [
            ParseBenchmark.self, SynthBenchmark.self, TopKBenchmark.self, FitBenchmark.self, NNBenchmark.self,
            FingerprintBenchmark.self, FeatureExamplesCommand.self, ANNBenchmark.self,
        ]
    )

    /// As `reckit`: on OpenBLAS's fast kernels even on a CPU newer than it, its idle workers asleep (BLASLibrary).
    static func main() {
        BLASLibrary.restartWithOpenBLASSettingsIfNeeded()
        main(nil)
    }
}

/// Machine facts logged with every result.
func environment() -> [String: Any] {
    [
        "cpus": ProcessInfo.processInfo.activeProcessorCount,
        "threads": Parallel.defaultThreadCount,
        "os": ProcessInfo.processInfo.operatingSystemVersionString,
        "reckit": RecKitVersion.current,
    ]
}

func emit(_ object: [String: Any]) {
    var merged = object
    merged["environment"] = environment()
    let data = try! JSONSerialization.data(withJSONObject: merged, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// Peak resident set size of this process in bytes.
func peakRSS() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func time(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Runs a command and returns its standard output.
func runProcess(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ValidationError(
            "\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
    }
    return String(decoding: data, as: UTF8.self)
}
