import ArgumentParser
import RecKit

/// How to read `--data` / `PATH`: format detection can be overridden field by field.
struct LoadOptions: ParsableArguments {
    @Option(
        help:
            ArgumentHelp(
                "Input format (default: detected). One of: "
                    + DatasetFormat.allCases.map(\.rawValue).joined(separator: ", ") + "."))
    var format: DatasetFormat?

    @Option(help: "Field delimiter of a delimited file: ',', 'tab', ';', '|' or '::' (default: detected).")
    var delimiter: String?

    @Flag(inversion: .prefixedNo, help: "Whether the first line is a header (default: detected).")
    var header: Bool?

    @Option(help: "User column, by header name or 0-based position.") var userColumn: String?
    @Option(help: "Item column, by header name or 0-based position.") var itemColumn: String?
    @Option(help: "Rating column, by header name or 0-based position.") var ratingColumn: String?
    @Option(help: "Time column (Unix seconds or ISO 8601), by header name or 0-based position.") var timeColumn: String?
    @Option(help: "Weight column (e.g. play counts), by header name or 0-based position.") var weightColumn: String?

    @Option(help: "Text encoding of IDs and titles: utf8 or latin1.") var encoding: TextEncoding = .utf8

    @Flag(help: "Skip lines that cannot be parsed (reporting how many and the first few) instead of stopping.")
    var skipBadLines = false

    @Option(help: "Repeated (user, item) pairs: keepAll, keepLast, sum or max.") var duplicates: DuplicatePolicy =
        .keepAll

    @Option(help: "Threads for parsing (default: all cores).") var threads: Int?

    func validate() throws {
        if let delimiter, Delimiter(name: delimiter) == nil {
            throw ValidationError("--delimiter must be one character, 'tab' or '::', not '\(delimiter)'")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    var fileOptions: InteractionFileOptions {
        var options = InteractionFileOptions(
            format: DelimitedFormat(
                delimiter: delimiter.flatMap(Delimiter.init(name:)), hasHeader: header, encoding: encoding),
            badLines: skipBadLines ? .skip(keepingFirst: 5) : .fail, duplicates: duplicates,
            threadCount: threads ?? Parallel.defaultThreadCount)
        if userColumn != nil || itemColumn != nil || ratingColumn != nil || timeColumn != nil || weightColumn != nil {
            options.mapping = ColumnMapping(
                user: ColumnReference(userColumn ?? "0"), item: ColumnReference(itemColumn ?? "1"),
                rating: ratingColumn.map(ColumnReference.init), timestamp: timeColumn.map(ColumnReference.init),
                weight: weightColumn.map(ColumnReference.init))
        }
        return options
    }

    /// Loads `path` with a progress ticker on stderr.
    func load(_ path: String, quiet: Bool) throws -> Dataset {
        let options = fileOptions
        let format = format
        return try Terminal.withTicker("loading \(path)", quiet: quiet) {
            try Dataset.load(path, format: format, options: options)
        }
    }
}

extension DatasetFormat: ExpressibleByArgument {}
extension TextEncoding: ExpressibleByArgument {}
extension DuplicatePolicy: ExpressibleByArgument {}
