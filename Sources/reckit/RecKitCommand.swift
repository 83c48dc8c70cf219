import ArgumentParser
import Foundation
import RecKit

@main
struct RecKitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reckit",
        abstract: "Train, evaluate and serve recommender systems.",
        version: RecKitVersion.current,
        subcommands: [
            DataCommand.self, Train.self, Evaluate.self, Recommend.self, Similar.self, Benchmark.self, Models.self,
            ImportCommand.self, Tune.self, Serve.self, EventsCommand.self, ItemsCommand.self,
        ]
    )

    /// ArgumentParser's own loop, except that a run with `--json` that fails also prints the error as
    /// one JSON object on stdout (stdout then always holds JSON); stderr and the exit code are as usual.
    static func main() async {
        BLASLibrary.restartWithOpenBLASSettingsIfNeeded()
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try parseAsRoot(arguments)
            // Still on the main thread, before any other thread allocates (see AllocatorTuning).
            if command is any TrainsModels { AllocatorTuning.retainFreedMemory() }
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if let object = jsonError(for: error, arguments: arguments) { print(object) }
            exit(withError: error)
        }
    }

    /// `{"error": "...", "exit_code": N}` for a failed `--json` run; nil otherwise (or for `--help`).
    static func jsonError(for error: any Error, arguments: [String]) -> String? {
        let code = exitCode(for: error)
        guard arguments.contains("--json"), code != .success else { return nil }
        let object: [String: Any] = ["error": message(for: error), "exit_code": Int(code.rawValue)]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A command that trains models: it reuses large tensors every step, so the process keeps freed memory
/// (`AllocatorTuning.retainFreedMemory`, set up by `RecKitCommand.main` before the command runs).
protocol TrainsModels {}
