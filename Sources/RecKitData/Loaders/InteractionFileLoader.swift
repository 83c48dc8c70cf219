import RecKitTensor

/// Reads user–item interactions from any delimited text file, in parallel byte ranges.
public enum InteractionFileLoader {
    /// Loads `path`.
    /// - Throws: `DataError` naming the file, line and field of the first bad line (or, under
    ///   `.skip`, only for whole-file problems: missing file, empty file, missing column).
    public static func load(_ path: String, options: InteractionFileOptions = .init()) throws(DataError)
        -> LoadedInteractions
    {
        let size = try LineReader.size(of: path)
        guard size > 0 else { throw DataError(file: path, .emptyFile) }
        let sniff = try Sniffer.sniff(path, format: options.format)
        let mapping =
            options.mapping ?? (sniff.header.flatMap(ColumnMapping.detect) ?? .positional(fieldCount: sniff.fieldCount))
        let plan = try ColumnPlan(mapping: mapping, header: sniff.header, fieldCount: sniff.fieldCount, path: path)
        var settings = ChunkSettings(
            path: path, plan: plan, delimiter: sniff.delimiter, quoting: options.format.quoting,
            encoding: options.format.encoding, hasHeader: sniff.hasHeader, badLines: options.badLines)

        let threadCount = max(1, options.threadCount)
        let chunkCount = size < options.minimumChunkBytes ? 1 : threadCount
        var ranges = Parallel.chunks(count: size, chunkCount: chunkCount)
        // One reader from the start knows the quote state, so it can honour newlines inside quotes.
        settings.quoteAware = chunkCount == 1 && options.format.quoting && sniff.sawQuote

        // The columns are allocated once, near their final size, and each range writes its own slice.
        // Sizes come from the mean line length at a few places in the file; a range that turns out to
        // hold more rows than that makes the load count newlines (a bound: every record uses at least
        // one line) and parse again.
        let reader = LineReader(path: path)
        let meanLineLength: Double
        if let override = options.meanLineLengthOverride {
            meanLineLength = override
        } else {
            meanLineLength = try reader.meanLineLength(fileSize: size)
        }
        var capacities = ranges.map { Int(Double($0.count) / meanLineLength * 1.03) + 1024 }
        var columns = ColumnArrays(rowCount: capacities.reduce(0, +), plan: plan)
        var chunks = columns.withSink { sink in
            parseChunks(
                ranges: ranges, capacities: capacities, settings: settings, sink: sink, threadCount: threadCount)
        }
        if chunks.contains(where: \.overflowed) {
            let currentRanges = ranges
            capacities = try Parallel.map(chunkCount: ranges.count, threadCount: threadCount) { index in
                Result { () throws(DataError) -> Int in try reader.countNewlines(in: currentRanges[index]) + 1 }
            }.map { result throws(DataError) in try result.get() }
            columns = ColumnArrays(rowCount: capacities.reduce(0, +), plan: plan)
            chunks = columns.withSink { sink in
                parseChunks(
                    ranges: ranges, capacities: capacities, settings: settings, sink: sink, threadCount: threadCount)
            }
        }
        if chunks.contains(where: \.sawUnterminatedQuote) && chunkCount > 1 {
            // A quoted field spans lines: only a single reader from the start knows the quote state.
            settings.quoteAware = true
            ranges = [0..<size]
            capacities = [try reader.countNewlines(in: 0..<size) + 1]
            columns = ColumnArrays(rowCount: capacities[0], plan: plan)
            chunks = columns.withSink { sink in
                parseChunks(ranges: ranges, capacities: capacities, settings: settings, sink: sink, threadCount: 1)
            }
        }

        // Errors carry chunk-local line numbers; make them file line numbers.
        var report = LoadReport()
        var lineOffset = 0
        for chunk in chunks {
            if let failure = chunk.failure {
                var error = failure
                error.line = error.line.map { $0 + lineOffset }
                throw error
            }
            report.skippedLineCount += chunk.skippedCount
            for var error in chunk.skipped where report.firstSkipped.count < settings.keepSkipped {
                error.line = error.line.map { $0 + lineOffset }
                report.firstSkipped.append(error)
            }
            lineOffset += chunk.lineCount
        }
        report.rowCount = chunks.reduce(0) { $0 + $1.rowCount }
        if report.rowCount == 0 {
            throw DataError(
                file: path, .invalid(report.skippedLineCount > 0 ? "no line could be read" : "no data rows"))
        }
        // Close the gaps between the ranges' slices (header, blank and skipped lines, the bound's slack).
        var segments: [Range<Int>] = []
        var write = 0
        for (index, chunk) in chunks.enumerated() {
            let base = capacities[..<index].reduce(0, +)
            columns.move(rows: base..<(base + chunk.rowCount), to: write)
            segments.append(write..<(write + chunk.rowCount))
            write += chunk.rowCount
        }
        columns.truncate(to: write)
        let userMap = IDColumnState.merge(
            chunks.map(\.users), segments: segments, column: &columns.users, threadCount: threadCount)
        let itemMap = IDColumnState.merge(
            chunks.map(\.items), segments: segments, column: &columns.items, threadCount: threadCount)
        let users = columns.users
        let items = columns.items
        let ratings: [Float]? = plan.rating == nil ? nil : columns.ratings
        let timestamps: [Int64]? = plan.timestamp == nil ? nil : columns.timestamps
        let weights: [Float]? = plan.weight == nil ? nil : columns.weights
        columns = ColumnArrays(rowCount: 0, plan: plan)
        var interactions = Interactions(
            unchecked: users, items, ratings, timestamps, weights, userMap.count, itemMap.count)
        if options.duplicates != .keepAll {
            let before = interactions.count
            interactions = interactions.deduplicated(options.duplicates)
            report.duplicateCount = before - interactions.count
        }
        return LoadedInteractions(
            interactions: interactions, users: userMap, items: itemMap, report: report, delimiter: sniff.delimiter,
            hasHeader: sniff.hasHeader, mapping: mapping)
    }

    private static func parseChunks(
        ranges: [Range<Int>], capacities: [Int], settings: ChunkSettings, sink: ColumnSink, threadCount: Int
    ) -> [ChunkResult] {
        Parallel.map(chunkCount: ranges.count, threadCount: threadCount) { index -> ChunkResult in
            let base = capacities[..<index].reduce(0, +)
            var parser = ChunkParser(
                settings: settings, isFirstChunk: index == 0, sink: sink.advanced(by: base), capacity: capacities[index]
            )
            do throws(DataError) {
                try parser.parse(ranges[index])
            } catch {
                parser.result.failure = error
            }
            return parser.result
        }
    }
}
