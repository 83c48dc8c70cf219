import ArgumentParser
import RecKit

@main
struct RecKitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reckit",
        abstract: "Train, evaluate and serve recommender systems.",
        version: RecKitVersion.current,
        subcommands: [
            DataCommand.self, Train.self, Evaluate.self, Recommend.self, Similar.self, Benchmark.self, Models.self,
        ]
    )
}
