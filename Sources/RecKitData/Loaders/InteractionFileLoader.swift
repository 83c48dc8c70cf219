import RecKitTensor

/// How to read an interaction file; unset members are detected.
public struct InteractionFileOptions: Sendable {
    public var format: DelimitedFormat
    /// Which columns hold what; nil detects from header names, or takes user, item[, rating[, time]]
    /// by position.
    public var mapping: ColumnMapping?
    public var badLines: BadLinePolicy
    public var duplicates: DuplicatePolicy
    public var threadCount: Int
    /// Files smaller than this are read by one thread; larger ones in `threadCount` byte ranges.
    public var minimumChunkBytes = 1 << 22
    /// Tests only: replaces the sampled mean line length that sizes the columns.
    var meanLineLengthOverride: Double? = nil

    public init(
        format: DelimitedFormat = .detect, mapping: ColumnMapping? = nil, badLines: BadLinePolicy = .fail,
        duplicates: DuplicatePolicy = .keepAll, threadCount: Int = Parallel.defaultThreadCount
    ) {
        self.format = format
        self.mapping = mapping
        self.badLines = badLines
        self.duplicates = duplicates
        self.threadCount = threadCount
    }
}

/// Interactions read from one file, with the ID maps and what the loader settled on.
public struct LoadedInteractions: Sendable {
    public var interactions: Interactions
    public var users: IDMap
    public var items: IDMap
    public var report: LoadReport
    public var delimiter: Delimiter
    public var hasHeader: Bool
    public var mapping: ColumnMapping
}

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
        let mapping = options.mapping ?? (sniff.header.flatMap(ColumnMapping.detect) ?? .positional(fieldCount: sniff.fieldCount))
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
        if let override = options.meanLineLengthOverride { meanLineLength = override } else {
            meanLineLength = try reader.meanLineLength(fileSize: size)
        }
        var capacities = ranges.map { Int(Double($0.count) / meanLineLength * 1.03) + 1024 }
        var columns = ColumnArrays(rowCount: capacities.reduce(0, +), plan: plan)
        var chunks = columns.withSink { sink in
            parseChunks(ranges: ranges, capacities: capacities, settings: settings, sink: sink, threadCount: threadCount)
        }
        if chunks.contains(where: \.overflowed) {
            let currentRanges = ranges
            capacities = try Parallel.map(chunkCount: ranges.count, threadCount: threadCount) { index in
                Result { () throws(DataError) -> Int in try reader.countNewlines(in: currentRanges[index]) + 1 }
            }.map { result throws(DataError) in try result.get() }
            columns = ColumnArrays(rowCount: capacities.reduce(0, +), plan: plan)
            chunks = columns.withSink { sink in
                parseChunks(ranges: ranges, capacities: capacities, settings: settings, sink: sink, threadCount: threadCount)
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
            throw DataError(file: path, .invalid(report.skippedLineCount > 0 ? "no line could be read" : "no data rows"))
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
        let userMap = IDColumnState.merge(chunks.map(\.users), segments: segments, column: &columns.users, threadCount: threadCount)
        let itemMap = IDColumnState.merge(chunks.map(\.items), segments: segments, column: &columns.items, threadCount: threadCount)
        let users = columns.users, items = columns.items
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
            var parser = ChunkParser(settings: settings, isFirstChunk: index == 0, sink: sink.advanced(by: base), capacity: capacities[index])
            do throws(DataError) {
                try parser.parse(ranges[index])
            } catch {
                parser.result.failure = error
            }
            return parser.result
        }
    }
}

/// The final columns of a load, allocated once at an upper bound of the row count.
struct ColumnArrays {
    var users: [Int32], items: [Int32], ratings: [Float], timestamps: [Int64], weights: [Float]

    /// Columns of `rowCount` uninitialised trivial values: no time is spent zeroing memory the
    /// parsers overwrite; rows never written are dropped by `move` and `truncate` before any read.
    init(rowCount: Int, plan: ColumnPlan) {
        func column<T: BitwiseCopyable>(_ present: Bool) -> [T] {
            present ? [T](unsafeUninitializedCapacity: rowCount) { _, count in count = rowCount } : []
        }
        users = column(true)
        items = column(true)
        ratings = column(plan.rating != nil)
        timestamps = column(plan.timestamp != nil)
        weights = column(plan.weight != nil)
    }

    mutating func withSink<R>(_ body: (ColumnSink) -> R) -> R {
        users.withUnsafeMutableBufferPointer { u in
            items.withUnsafeMutableBufferPointer { i in
                ratings.withUnsafeMutableBufferPointer { r in
                    timestamps.withUnsafeMutableBufferPointer { t in
                        weights.withUnsafeMutableBufferPointer { w in
                            body(ColumnSink(
                                // An absent column is an empty array, whose base address may still be non-nil.
                                users: u.baseAddress!, items: i.baseAddress!, ratings: r.isEmpty ? nil : r.baseAddress,
                                timestamps: t.isEmpty ? nil : t.baseAddress, weights: w.isEmpty ? nil : w.baseAddress))
                        }
                    }
                }
            }
        }
    }

    /// Moves `rows` down to start at `target` (≤ `rows.lowerBound`).
    mutating func move(rows: Range<Int>, to target: Int) {
        guard target != rows.lowerBound, !rows.isEmpty else { return }
        func shift<T>(_ column: inout [T]) {
            guard !column.isEmpty else { return }
            column.withUnsafeMutableBufferPointer { buffer in
                (buffer.baseAddress! + target).update(from: buffer.baseAddress! + rows.lowerBound, count: rows.count)
            }
        }
        shift(&users); shift(&items); shift(&ratings); shift(&timestamps); shift(&weights)
    }

    mutating func truncate(to count: Int) {
        func cut<T>(_ column: inout [T]) { if column.count > count { column.removeLast(column.count - count) } }
        cut(&users); cut(&items); cut(&ratings); cut(&timestamps); cut(&weights)
    }
}

/// Where a chunk writes its rows: pointers into the final columns, already offset to the chunk's
/// slice. Chunks never overlap, so concurrent writes are safe.
struct ColumnSink: @unchecked Sendable {
    let users: UnsafeMutablePointer<Int32>
    let items: UnsafeMutablePointer<Int32>
    let ratings: UnsafeMutablePointer<Float>?
    let timestamps: UnsafeMutablePointer<Int64>?
    let weights: UnsafeMutablePointer<Float>?

    func advanced(by offset: Int) -> ColumnSink {
        ColumnSink(
            users: users + offset, items: items + offset, ratings: ratings.map { $0 + offset },
            timestamps: timestamps.map { $0 + offset }, weights: weights.map { $0 + offset })
    }
}

/// Positions of the mapped columns, resolved against the header.
struct ColumnPlan: Sendable {
    var user: Int, item: Int, rating: Int?, timestamp: Int?, weight: Int?
    var fieldCount: Int
    var names: [Int: String]      // field name for messages, by position

    init(mapping: ColumnMapping, header: [String]?, fieldCount: Int, path: String) throws(DataError) {
        func resolve(_ reference: ColumnReference?, role: String) throws(DataError) -> Int? {
            guard let reference else { return nil }
            switch reference {
            case .position(let position):
                guard position < fieldCount else {
                    throw DataError(file: path, line: 1, field: role, .missingColumn("#\(position) (the file has \(fieldCount) columns)"))
                }
                return position
            case .name(let name):
                let wanted = ColumnMapping.normalized(name)
                guard let header, let position = header.firstIndex(where: { ColumnMapping.normalized($0) == wanted }) else {
                    throw DataError(file: path, line: 1, .missingColumn(name))
                }
                return position
            }
        }
        user = try resolve(mapping.user, role: "user")!
        item = try resolve(mapping.item, role: "item")!
        rating = try resolve(mapping.rating, role: "rating")
        timestamp = try resolve(mapping.timestamp, role: "timestamp")
        weight = try resolve(mapping.weight, role: "weight")
        self.fieldCount = fieldCount
        var names: [Int: String] = [:]
        for (position, role) in [(user, "user"), (item, "item"), (rating, "rating"), (timestamp, "timestamp"), (weight, "weight")] {
            if let position { names[position] = header?[position] ?? role }
        }
        self.names = names
    }
}

struct ChunkSettings: Sendable {
    var path: String
    var plan: ColumnPlan
    var delimiter: Delimiter
    var quoting: Bool
    var encoding: TextEncoding
    var hasHeader: Bool
    var badLines: BadLinePolicy
    var quoteAware = false

    var keepSkipped: Int {
        if case .skip(let keep) = badLines { return keep }
        return 0
    }
}

struct ChunkResult: Sendable {
    var users = IDColumnState()
    var items = IDColumnState()
    var rowCount = 0
    var lineCount = 0
    var skippedCount = 0
    var skipped: [DataError] = []
    var failure: DataError?
    var sawUnterminatedQuote = false
    /// The range held more rows than its slice: the load sizes the slices exactly and parses again.
    var overflowed = false
}


/// Parses one byte range into columns.
struct ChunkParser {
    let settings: ChunkSettings
    let isFirstChunk: Bool
    var result = ChunkResult()
    let splitter: FieldSplitter
    /// Field roles for the single-pass numeric parser, 3 bits per field (a plain integer, so the hot
    /// loop touches no reference count); nil when the delimiter is not one byte or fields exceed 21.
    let fastPath: FieldRoles?
    let delimiterByte: UInt8

    let sink: ColumnSink
    let capacity: Int

    init(settings: ChunkSettings, isFirstChunk: Bool, sink: ColumnSink, capacity: Int) {
        self.settings = settings
        self.isFirstChunk = isFirstChunk
        self.sink = sink
        self.capacity = capacity
        splitter = FieldSplitter(delimiter: settings.delimiter, quoting: settings.quoting)
        if case .byte(let byte) = settings.delimiter, byte < 0x30 || byte > 0x39, byte != 0x2E, byte != 0x2D,
            settings.plan.fieldCount <= FieldRoles.capacity
        {
            delimiterByte = byte
            let plan = settings.plan
            fastPath = FieldRoles((0..<plan.fieldCount).map { position in
                switch position {
                case plan.user: return .user
                case plan.item: return .item
                case plan.rating: return .rating
                case plan.timestamp: return .time
                case plan.weight: return .weight
                default: return .ignored
                }
            })
        } else {
            delimiterByte = 0
            fastPath = nil
        }
    }

    mutating func parse(_ range: Range<Int>) throws(DataError) {
        let reader = LineReader(path: settings.path)
        let skipHeader = isFirstChunk && settings.hasHeader
        let useFast = fastPath != nil
        result.lineCount = try reader.forEachRecord(in: range, quoteAware: settings.quoteAware) { available, lineIndex in
            !useFast || (lineIndex == 0 && skipHeader) ? 0 : parseFast(available)
        } _: { record, lineIndex throws(DataError) in
            if result.overflowed { return false }
            if lineIndex == 0 && skipHeader { return true }
            if let error = parseRecord(record) {
                var located = error
                located.file = settings.path
                located.line = lineIndex + 1
                if located.reason == .unterminatedQuote && !settings.quoteAware { result.sawUnterminatedQuote = true }
                switch settings.badLines {
                case .fail:
                    result.failure = located
                    return false
                case .skip(let keep):
                    result.skippedCount += 1
                    if result.skipped.count < keep { result.skipped.append(located) }
                }
            }
            return !result.overflowed
        }
    }

    enum FieldRole: UInt64 { case user, item, rating, time, weight, ignored }

    /// Up to 21 roles packed 3 bits each, with the count in the top bits.
    struct FieldRoles {
        static let capacity = 20
        let bits: UInt64
        init(_ roles: [FieldRole]) {
            var bits = UInt64(roles.count) << 60
            for (index, role) in roles.enumerated() { bits |= role.rawValue << UInt64(3 * index) }
            self.bits = bits
        }
        var count: Int { Int(bits >> 60) }
        @inline(__always)
        subscript(index: Int) -> FieldRole {
            switch (bits >> UInt64(3 * index)) & 7 {
            case 0: return .user
            case 1: return .item
            case 2: return .rating
            case 3: return .time
            case 4: return .weight
            default: return .ignored
            }
        }
    }

    /// One pass over a plain numeric record (`12,345,4.5,978300760\n`) at the start of `record` (the
    /// bytes read so far): parses every field as it scans, finds the newline, and stores the row.
    /// - Returns: the bytes consumed including the newline, or 0, storing nothing, for anything else
    ///   (quotes, spaces, `\r`, text IDs, signs, exponents, a wrong field count, a blank or incomplete
    ///   line), which then takes the general path. Accepted records give exactly the values the
    ///   general path would.
    @inline(__always)
    mutating func parseFast(_ record: UnsafeBufferPointer<UInt8>) -> Int {
        guard let roles = fastPath, !result.users.isString, !result.items.isString, let base = record.baseAddress else {
            return 0
        }
        let count = record.count
        let delimiter = delimiterByte
        var index = 0
        var user: Int32 = 0, item: Int32 = 0, rating: Float = 0, weight: Float = 0, time: Int64 = 0
        let fieldCount = roles.count
        for field in 0..<fieldCount {
            let role = roles[field]
            let start = index
            switch role {
            case .user, .item:
                var value: Int64 = 0
                while index < count {
                    let digit = base[index] &- 0x30
                    if digit > 9 { break }
                    value = value &* 10 &+ Int64(digit)
                    index += 1
                }
                let length = index - start
                // Canonical only: 1…10 digits, no leading zero, within Int32.
                guard length > 0, length <= 10, base[start] != 0x30 || length == 1, value <= Int64(Int32.max) else {
                    return 0
                }
                if role == .user { user = Int32(value) } else { item = Int32(value) }
            case .rating, .weight:
                var mantissa: UInt64 = 0
                var digits = 0, fractionDigits = 0
                while index < count {
                    let digit = base[index] &- 0x30
                    if digit > 9 { break }
                    mantissa = mantissa &* 10 &+ UInt64(digit)
                    digits += 1
                    index += 1
                }
                if index < count && base[index] == 0x2E {
                    index += 1
                    while index < count {
                        let digit = base[index] &- 0x30
                        if digit > 9 { break }
                        mantissa = mantissa &* 10 &+ UInt64(digit)
                        digits += 1
                        fractionDigits += 1
                        index += 1
                    }
                }
                guard digits > 0, digits < 16 else { return 0 }
                // Whole numbers need no division (the slowest instruction here); the result is the same.
                let value = fractionDigits == 0 ? Float(Double(mantissa)) : Float(Double(mantissa) / ByteParsing.powerOfTen(fractionDigits))
                if role == .rating { rating = value } else { weight = value }
            case .time:
                var value: Int64 = 0
                var digits = 0
                while index < count {
                    let digit = base[index] &- 0x30
                    if digit > 9 { break }
                    value = value &* 10 &+ Int64(digit)
                    digits += 1
                    index += 1
                }
                guard digits > 0, digits <= 15 else { return 0 }
                if index < count && base[index] == 0x2E {         // a fraction of a second is dropped
                    index += 1
                    var fractionDigits = 0
                    while index < count && base[index] &- 0x30 <= 9 {
                        index += 1
                        fractionDigits += 1
                    }
                    guard fractionDigits > 0 else { return 0 }
                }
                time = value
            case .ignored:
                while index < count && base[index] != delimiter {
                    if base[index] == 0x22 { return 0 }
                    index += 1
                }
            }
            if field + 1 < fieldCount {
                guard index < count, base[index] == delimiter else { return 0 }
                index += 1
            } else {
                // The record must end here, with a newline inside the bytes given.
                guard index < count, base[index] == 0x0A else { return 0 }
            }
        }
        guard store(user: user, item: item, rating: rating, weight: weight, time: time) else { return 0 }
        return index + 1
    }

    /// Parses one record and appends it; returns an error (without file and line) instead of throwing
    /// to keep the hot loop cheap.
    @inline(__always)
    mutating func parseRecord(_ record: UnsafeBufferPointer<UInt8>) -> DataError? {
        var blank = true
        for byte in record where byte != 0x20 && byte != 0x09 {
            blank = false
            break
        }
        if blank { return nil }
        do throws(DataError) { try splitter.split(record) } catch { return error }
        let plan = settings.plan
        guard splitter.fieldCount == plan.fieldCount else {
            return DataError(.wrongFieldCount(expected: plan.fieldCount, found: splitter.fieldCount))
        }
        var rating: Float = 0, weight: Float = 0, time: Int64 = 0
        if let position = plan.rating {
            let field = splitter.field(position)
            guard let value = ByteParsing.double(field) else {
                return DataError(field: plan.names[position], .notANumber(ByteParsing.display(field)))
            }
            rating = Float(value)
        }
        if let position = plan.weight {
            let field = splitter.field(position)
            guard let value = ByteParsing.double(field) else {
                return DataError(field: plan.names[position], .notANumber(ByteParsing.display(field)))
            }
            weight = Float(value)
        }
        if let position = plan.timestamp {
            let field = splitter.field(position)
            guard let value = ByteParsing.unixSeconds(field) else {
                return DataError(field: plan.names[position], .notATime(ByteParsing.display(field)))
            }
            time = value
        }
        let userField = splitter.field(plan.user), itemField = splitter.field(plan.item)
        if ByteParsing.trimmed(userField).isEmpty {
            return DataError(field: plan.names[plan.user], .invalidValue("", "is empty"))
        }
        if ByteParsing.trimmed(itemField).isEmpty {
            return DataError(field: plan.names[plan.item], .invalidValue("", "is empty"))
        }
        if settings.encoding == .utf8 {       // check both before appending either
            if !ByteParsing.isValidUTF8(userField) {
                return DataError(field: plan.names[plan.user], .badEncoding(expected: "UTF-8"))
            }
            if !ByteParsing.isValidUTF8(itemField) {
                return DataError(field: plan.names[plan.item], .badEncoding(expected: "UTF-8"))
            }
        }
        let user = result.users.code(for: userField, encoding: settings.encoding, segment: sink.users, count: result.rowCount)
        let item = result.items.code(for: itemField, encoding: settings.encoding, segment: sink.items, count: result.rowCount)
        _ = store(user: user, item: item, rating: rating, weight: weight, time: time)
        return nil
    }

    /// Writes one row at the end of this chunk's slice; false (and `overflowed`) when the slice is full.
    @inline(__always)
    mutating func store(user: Int32, item: Int32, rating: Float, weight: Float, time: Int64) -> Bool {
        let row = result.rowCount
        guard row < capacity else {
            result.overflowed = true
            return false
        }
        sink.users[row] = user
        sink.items[row] = item
        sink.ratings?[row] = rating
        sink.weights?[row] = weight
        sink.timestamps?[row] = time
        result.rowCount = row + 1
        return true
    }
}

extension TextEncoding {
    var displayName: String { self == .utf8 ? "UTF-8" : "Latin-1" }
}
