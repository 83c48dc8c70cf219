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
        let ranges = Parallel.chunks(count: size, chunkCount: chunkCount)
        // One reader from the start knows the quote state, so it can honour newlines inside quotes.
        settings.quoteAware = chunkCount == 1 && options.format.quoting && sniff.sawQuote
        let estimatedRows = Int(Double(size) / max(sniff.averageLineLength, 4) * 1.02) + 16
        var chunks = try parseChunks(ranges: ranges, settings: settings, estimatedRows: estimatedRows, threadCount: threadCount)
        if chunks.contains(where: \.sawUnterminatedQuote) && chunkCount > 1 {
            // A quoted field spans lines: only a single reader from the start knows the quote state.
            settings.quoteAware = true
            chunks = try parseChunks(ranges: [0..<size], settings: settings, estimatedRows: estimatedRows, threadCount: 1)
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
        // Merge column by column so that at most one extra column is alive at a time.
        var userChunks = chunks.indices.map { index in
            defer { chunks[index].users = IDColumnBuilder() }
            return chunks[index].users
        }
        let (users, userMap) = IDColumnBuilder.merge(&userChunks, threadCount: threadCount)
        var itemChunks = chunks.indices.map { index in
            defer { chunks[index].items = IDColumnBuilder() }
            return chunks[index].items
        }
        let (items, itemMap) = IDColumnBuilder.merge(&itemChunks, threadCount: threadCount)
        let ratings: [Float]? = plan.rating == nil ? nil : concatenate(&chunks, \.ratings)
        let timestamps: [Int64]? = plan.timestamp == nil ? nil : concatenate(&chunks, \.timestamps)
        let weights: [Float]? = plan.weight == nil ? nil : concatenate(&chunks, \.weights)
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

    private static func concatenate<T>(_ chunks: inout [ChunkResult], _ column: WritableKeyPath<ChunkResult, [T]>) -> [T] {
        if chunks.count == 1 {
            defer { chunks[0][keyPath: column] = [] }
            return chunks[0][keyPath: column]
        }
        var result: [T] = []
        result.reserveCapacity(chunks.reduce(0) { $0 + $1[keyPath: column].count })
        for index in chunks.indices {
            result.append(contentsOf: chunks[index][keyPath: column])
            chunks[index][keyPath: column] = []
        }
        return result
    }

    private static func parseChunks(
        ranges: [Range<Int>], settings: ChunkSettings, estimatedRows: Int, threadCount: Int
    ) throws(DataError) -> [ChunkResult] {
        let total = ranges.last?.upperBound ?? 1
        let results = Parallel.map(chunkCount: ranges.count, threadCount: threadCount) { index -> Result<ChunkResult, DataError> in
            let share = Double(ranges[index].count) / Double(max(total, 1))
            var parser = ChunkParser(settings: settings, isFirstChunk: index == 0, estimatedRows: Int(Double(estimatedRows) * share))
            do throws(DataError) {
                try parser.parse(ranges[index])
                return .success(parser.result)
            } catch {
                return .failure(error)
            }
        }
        return try results.map { result throws(DataError) in try result.get() }
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
    var users = IDColumnBuilder()
    var items = IDColumnBuilder()
    var ratings: [Float] = []
    var timestamps: [Int64] = []
    var weights: [Float] = []
    var rowCount = 0
    var lineCount = 0
    var skippedCount = 0
    var skipped: [DataError] = []
    var failure: DataError?
    var sawUnterminatedQuote = false
}

extension IDColumnBuilder: @unchecked Sendable {}

/// Parses one byte range into columns.
struct ChunkParser {
    let settings: ChunkSettings
    let isFirstChunk: Bool
    var result = ChunkResult()
    let splitter: FieldSplitter
    /// Field roles for the single-pass numeric parser; nil when the delimiter is not one byte.
    let fastPath: [FieldRole]?
    let delimiterByte: UInt8

    init(settings: ChunkSettings, isFirstChunk: Bool, estimatedRows: Int) {
        self.settings = settings
        self.isFirstChunk = isFirstChunk
        splitter = FieldSplitter(delimiter: settings.delimiter, quoting: settings.quoting)
        if case .byte(let byte) = settings.delimiter, byte < 0x30 || byte > 0x39, byte != 0x2E, byte != 0x2D {
            delimiterByte = byte
            let plan = settings.plan
            fastPath = (0..<plan.fieldCount).map { position in
                switch position {
                case plan.user: return .user
                case plan.item: return .item
                case plan.rating: return .rating
                case plan.timestamp: return .time
                case plan.weight: return .weight
                default: return .ignored
                }
            }
        } else {
            delimiterByte = 0
            fastPath = nil
        }
        result.users.reserve(estimatedRows)
        result.items.reserve(estimatedRows)
        if settings.plan.rating != nil { result.ratings.reserveCapacity(estimatedRows) }
        if settings.plan.timestamp != nil { result.timestamps.reserveCapacity(estimatedRows) }
        if settings.plan.weight != nil { result.weights.reserveCapacity(estimatedRows) }
    }

    mutating func parse(_ range: Range<Int>) throws(DataError) {
        let reader = LineReader(path: settings.path)
        let skipHeader = isFirstChunk && settings.hasHeader
        result.lineCount = try reader.forEachRecord(in: range, quoteAware: settings.quoteAware) {
            record, lineIndex throws(DataError) in
            if lineIndex == 0 && skipHeader { return true }
            if fastPath != nil && parseFast(record) { return true }
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
            return true
        }
    }

    enum FieldRole { case user, item, rating, time, weight, ignored }

    /// One pass over a plain numeric record (`12,345,4.5,978300760`): parses every field as it scans
    /// and appends the row. Returns false, appending nothing, for anything else (quotes, spaces, text
    /// IDs, signs, exponents, a wrong field count, a blank line), which then takes the general path.
    /// Accepted records give exactly the values the general path would.
    @inline(__always)
    mutating func parseFast(_ record: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let roles = fastPath, !result.users.isString, !result.items.isString, let base = record.baseAddress else {
            return false
        }
        let count = record.count
        let delimiter = delimiterByte
        var index = 0
        var user: Int32 = 0, item: Int32 = 0, rating: Float = 0, weight: Float = 0, time: Int64 = 0
        for (field, role) in roles.enumerated() {
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
                    return false
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
                guard digits > 0, digits < 16 else { return false }
                let value = Float(Double(mantissa) / ByteParsing.powersOfTen[fractionDigits])
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
                guard digits > 0, digits <= 15 else { return false }
                if index < count && base[index] == 0x2E {         // a fraction of a second is dropped
                    index += 1
                    var fractionDigits = 0
                    while index < count && base[index] &- 0x30 <= 9 {
                        index += 1
                        fractionDigits += 1
                    }
                    guard fractionDigits > 0 else { return false }
                }
                time = value
            case .ignored:
                while index < count && base[index] != delimiter {
                    if base[index] == 0x22 { return false }
                    index += 1
                }
            }
            if field + 1 < roles.count {
                guard index < count, base[index] == delimiter else { return false }
                index += 1
            } else {
                guard index == count else { return false }
            }
        }
        result.users.values.append(user)
        result.items.values.append(item)
        if settings.plan.rating != nil { result.ratings.append(rating) }
        if settings.plan.weight != nil { result.weights.append(weight) }
        if settings.plan.timestamp != nil { result.timestamps.append(time) }
        result.rowCount += 1
        return true
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
        _ = result.users.append(userField, encoding: settings.encoding)
        _ = result.items.append(itemField, encoding: settings.encoding)
        if plan.rating != nil { result.ratings.append(rating) }
        if plan.weight != nil { result.weights.append(weight) }
        if plan.timestamp != nil { result.timestamps.append(time) }
        result.rowCount += 1
        return nil
    }
}

extension TextEncoding {
    var displayName: String { self == .utf8 ? "UTF-8" : "Latin-1" }
}
