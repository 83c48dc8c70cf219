import ArgumentParser
import Foundation
import RecKit

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Build a RecKit model directory from a model trained elsewhere.",
        subcommands: [SparkALS.self]
    )
}

extension ImportCommand {
    struct SparkALS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "spark-als",
            abstract: "Import Spark MLlib ALS factors written by spark/train_als.py as an ials model directory.",
            discussion: """
                The model is RecKit's ials with Spark's settings (factors, regularization, alpha, iterations), \\
                Cholesky solves and λ scaled by each row's interaction count as Spark does \\
                (regularization_scaling=count), so fold-in of new users solves Spark's objective. The training \\
                interactions (the items recommendations exclude) come from --data: the folder \\
                `reckit data export` wrote, which the job read; its fingerprint must match the job's record.
                """)

        @Option(help: "The job's output folder (user_factors/, item_factors/, metadata/).") var factors: String
        @Option(
            help: "The training data the job read (default: the input the job recorded, when it is a local folder).")
        var data: String?
        @Option(help: "The model directory to write.") var out: String
        @OptionGroup var load: LoadOptions
        @Flag(help: "No progress on stderr.") var quiet = false
        @Flag(help: "Print a JSON summary on stdout.") var json = false

        func run() async throws {
            let metadata = try SparkALSImport.metadata(in: factors)
            let source: String
            if let data {
                source = data
            } else if let input = metadata.input, !input.contains("://") || input.hasPrefix("file://"),
                FileManager.default.fileExists(atPath: input.replacingOccurrences(of: "file://", with: ""))
            {
                source = input.replacingOccurrences(of: "file://", with: "")
            } else {
                throw ValidationError(
                    "give --data: the job read \(metadata.input ?? "an unrecorded input"), which is not a local folder")
            }
            let dataset = try load.load(source, quiet: quiet || json)
            let trained = try SparkALSImport.model(factors: factors, data: dataset)
            try trained.save(to: out)
            if json {
                let summary: [String: Any] = [
                    "out": out, "kind": trained.kind, "users": trained.users.count, "items": trained.items.count,
                    "factors": metadata.factors, "spark_version": metadata.sparkVersion,
                    "training_fingerprint": trained.fingerprint,
                ]
                try Terminal.printJSON(summary)
            } else if !quiet {
                Terminal.error(
                    "imported Spark \(metadata.sparkVersion) ALS (\(metadata.factors) factors, \(trained.users.count) "
                        + "users, \(trained.items.count) items) as an ials model: \(out)")
            }
        }
    }
}
