import ArgumentParser
import Foundation
import RecKit

struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Generate, inspect, convert and export data sets.",
        subcommands: [Synth.self, Inspect.self, Convert.self, SplitCommand.self, Export.self]
    )
}

extension SyntheticPreset: ExpressibleByArgument {
    public init?(argument: String) {
        guard let preset = SyntheticPreset.named(argument) else { return nil }
        self = preset
    }
    public static var allValueStrings: [String] { SyntheticPreset.all.map(\.name) }
    public var defaultValueDescription: String { name }
}

extension DataCommand {
    struct Synth: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Write a synthetic data set (ratings, implicit events, item catalogue) drawn from a known factor model."
        )

        @Option(
            help:
                ArgumentHelp(
                    "Size: "
                        + SyntheticPreset.all.map {
                            "\($0.name) (\($0.userCount) users, \($0.itemCount) items, \($0.ratingCount) ratings)"
                        }.joined(separator: ", ") + ".")
        )
        var preset: SyntheticPreset = .small

        @Option(help: "Random seed; the same preset and seed give byte-identical files.") var seed: UInt64 = 42
        @Option(help: "Output folder (created if missing).") var out: String
        @Option(help: "Threads (changes speed only, never the output).") var threads: Int?
        @Flag(help: "Print nothing on stderr.") var quiet = false
        @Flag(help: "Print a JSON summary on stdout.") var json = false

        func validate() throws {
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        }

        func run() async throws {
            let threadCount = threads ?? Parallel.defaultThreadCount
            let start = Date()
            let data = Terminal.withTicker("generating \(preset.name) (seed \(seed))", quiet: quiet) {
                SyntheticData.generate(preset: preset, seed: seed, threadCount: threadCount)
            }
            let files = try Terminal.withTicker("writing \(out)", quiet: quiet) {
                try data.write(to: out, threadCount: threadCount)
            }
            let seconds = Date().timeIntervalSince(start)
            if json {
                let summary: [String: Any] = [
                    "preset": preset.name, "seed": seed, "users": preset.userCount, "items": preset.itemCount,
                    "ratings": data.ratings.interactions.count, "events": data.events.count, "files": files,
                    "seconds": seconds,
                ]
                try Terminal.printJSON(summary)
            } else if !quiet {
                Terminal.error(
                    String(
                        format: "wrote %d ratings and %d events to %@ in %.2f s", data.ratings.interactions.count,
                        data.events.count, out, seconds))
            }
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Describe a data set: counts, density, ratings, activity quantiles, long tail, time range.")

        @Argument(help: "A data-set folder or an interaction file.") var path: String
        @OptionGroup var load: LoadOptions
        @Flag(help: "Print one JSON object on stdout instead of the table.") var json = false
        @Flag(help: "No progress on stderr.") var quiet = false

        func run() async throws {
            let dataset = try load.load(path, quiet: quiet || json)
            let summary = DatasetSummary(dataset)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(summary), as: UTF8.self))
                return
            }
            print(SummaryText.render(summary, report: dataset.report))
        }
    }

    struct Convert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Convert any supported input to RecKit's canonical CSV (user_id,item_id[,rating][,timestamp][,weight])."
        )

        @Argument(help: "A data-set folder or an interaction file.") var path: String
        @Option(help: "The CSV file to write.") var out: String
        @OptionGroup var load: LoadOptions
        @Flag(help: "No progress on stderr.") var quiet = false

        func run() async throws {
            let dataset = try load.load(path, quiet: quiet)
            try Terminal.withTicker("writing \(out)", quiet: quiet) {
                try dataset.writeCanonicalCSV(to: out)
            }
            if !quiet {
                Terminal.error(
                    "wrote \(dataset.interactions.count) rows "
                        + "(\(dataset.canonicalColumns.joined(separator: ","))) to \(out)"
                )
            }
        }
    }
}

extension DataCommand {
    struct SplitCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "split",
            abstract: "Write a split as a split folder (train.tsv, test.tsv: raw IDs) for other libraries.",
            discussion: """
                The folder is what `--split-dir` reads and what the peer scripts read, so another library trains
                and tests on exactly the split `reckit evaluate --data PATH --split METHOD --seed N` makes, e.g.
                  reckit data split ../shared/data/ml-latest-small-2016 --split cold-items:0.1 --out cold-items
                """)

        @Argument(help: "A data-set folder or an interaction file.") var path: String
        @Option(help: "How to split (as `reckit evaluate --split`): random:F, holdout:F[:MIN], cold-items:F, …")
        var split: String
        @Option(help: "Seed of the split.") var seed: UInt64 = 42
        @Option(help: "Output folder (created if missing).") var out: String
        @OptionGroup var load: LoadOptions
        @Flag(help: "No progress on stderr.") var quiet = false

        func run() async throws {
            guard let method = SplitMethod(argument: split) else {
                throw ValidationError("'\(split)' is not a split method such as holdout:0.2 or cold-items:0.1")
            }
            let dataset = try load.load(path, quiet: quiet)
            let parts = try dataset.split(method, seed: seed)
            try SplitDirectory.write(parts, to: out)
            if !quiet {
                Terminal.error("wrote \(parts.train.count) training and \(parts.test.count) test rows to \(out)")
            }
        }
    }
}

extension ExportCompression: ExpressibleByArgument {}

extension DataCommand {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export interactions and ID maps for a cluster (Spark reads the folder directly).",
            discussion: """
                Writes OUT/interactions/part-NNNNN.csv.gz (user_id,item_id[,rating][,timestamp][,weight], raw IDs, \
                RFC 4180 quoting), OUT/users.csv and OUT/items.csv (index → raw ID) and OUT/export.json. \
                Parquet is not offered: RecKit's dependency set has no maintained Parquet library for Swift, \
                and gzip CSV is read natively by Spark, Hive and DuckDB. `reckit` reads the folder back as a \
                data set (--data OUT).
                """)

        @Argument(help: "A data-set folder or an interaction file.") var path: String
        @Option(help: "Output folder (created if missing; an earlier export there is replaced).") var out: String
        @Option(help: "File format: csv (parquet is not available; see the discussion).") var format = "csv"
        @Option(help: "Part files to write (default: one per million interactions, at least one per core).")
        var partitions: Int?
        @Option(help: "Compression of the part files: gzip or none.") var compression: ExportCompression = .gzip
        @OptionGroup var load: LoadOptions
        @Flag(help: "No progress on stderr.") var quiet = false
        @Flag(help: "Print the export's manifest as JSON on stdout.") var json = false

        func validate() throws {
            if format == "parquet" {
                throw ValidationError(
                    "--format parquet is not available: RecKit's dependency set has no maintained Parquet library "
                        + "for Swift; --format csv writes gzip parts that Spark reads natively")
            }
            guard format == "csv" else { throw ValidationError("--format must be csv, not '\(format)'") }
            if let partitions, partitions < 1 { throw ValidationError("--partitions must be at least 1") }
        }

        func run() async throws {
            let dataset = try load.load(path, quiet: quiet || json)
            let threads = load.threads ?? Parallel.defaultThreadCount
            let parts = partitions ?? max(threads, (dataset.interactions.count + 999_999) / 1_000_000)
            let start = Date()
            let manifest = try Terminal.withTicker("writing \(out)", quiet: quiet || json) {
                try dataset.export(to: out, partitions: parts, compression: compression, threadCount: threads)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(manifest), as: UTF8.self))
            } else if !quiet {
                Terminal.error(
                    String(
                        format: "wrote %d interactions (%@) in %d part(s), %d users and %d items to %@ in %.2f s",
                        manifest.rowCount, manifest.columns.joined(separator: ","), manifest.partitions.count,
                        manifest.userCount, manifest.itemCount, out, Date().timeIntervalSince(start)))
            }
        }
    }
}

/// The text form of `reckit data inspect`.
enum SummaryText {
    static func render(_ summary: DatasetSummary, report: LoadReport) -> String {
        var lines: [String] = []
        func row(_ name: String, _ value: String) {
            lines.append(name.padding(toLength: 22, withPad: " ", startingAt: 0) + value)
        }
        lines.append("\(summary.name)  (\(summary.format))")
        row("users", grouped(summary.userCount))
        row("items", grouped(summary.itemCount))
        row("interactions", grouped(summary.interactionCount))
        if summary.distinctPairCount != summary.interactionCount {
            row("distinct pairs", grouped(summary.distinctPairCount))
        }
        row("density", String(format: "%.4f %%", summary.density * 100))
        if let first = summary.firstTimestamp, let last = summary.lastTimestamp {
            row("time range", "\(isoDate(first)) – \(isoDate(last))")
        }
        if let total = summary.weightTotal { row("total weight", String(format: "%.0f", total)) }
        if report.skippedLineCount > 0 {
            row("skipped lines", "\(report.skippedLineCount)")
            for error in report.firstSkipped { lines.append("    \(error)") }
        }
        if !summary.ratingHistogram.isEmpty {
            lines.append("")
            lines.append("ratings (mean \(String(format: "%.3f", summary.ratingMean ?? 0)))")
            if let outside = summary.ratingsOutsideScale, outside > 0, let scale = summary.ratingScale {
                lines.append(
                    "  warning: \(grouped(outside)) rating(s) outside the format's scale "
                        + String(format: "%g–%g", scale[0], scale[1]))
            }
            let largest = summary.ratingHistogram.map(\.count).max() ?? 1
            for bin in summary.ratingHistogram.prefix(20) {
                let label = bin.rating == bin.rating.rounded() ? String(Int(bin.rating)) : String(bin.rating)
                lines.append(
                    "  " + label.padding(toLength: 6, withPad: " ", startingAt: 0)
                        + Terminal.bar(Double(bin.count) / Double(largest), width: 40) + "  " + grouped(bin.count))
            }
            if summary.ratingHistogram.count > 20 {
                lines.append("  … \(summary.ratingHistogram.count - 20) more values")
            }
        }
        lines.append("")
        lines.append(
            "interactions per      "
                + summary.quantileLevels.map { level in
                    (level == 0 ? "min" : level == 1 ? "max" : "p\(Int(level * 100))").padding(
                        toLength: 9, withPad: " ", startingAt: 0)
                }.joined())
        for (name, values) in [("user", summary.perUserQuantiles), ("item", summary.perItemQuantiles)] {
            lines.append(
                "  " + name.padding(toLength: 20, withPad: " ", startingAt: 0)
                    + values.map { formatQuantile($0).padding(toLength: 9, withPad: " ", startingAt: 0) }.joined())
        }
        lines.append("")
        lines.append("long tail (share of interactions on the most popular items)")
        for share in summary.popularityShares {
            let label = "  top " + String(format: "%g", share.topItemFraction * 100) + " %"
            lines.append(
                label.padding(toLength: 14, withPad: " ", startingAt: 0)
                    + Terminal.bar(share.interactionShare, width: 40)
                    + String(format: "  %.1f %%", share.interactionShare * 100))
        }
        return lines.joined(separator: "\n")
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return result
    }

    static func formatQuantile(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }

    static func isoDate(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
