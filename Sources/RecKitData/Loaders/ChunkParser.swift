import RecKitTensor

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
            fastPath = FieldRoles(
                (0..<plan.fieldCount).map { position in
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
        result.lineCount = try reader.forEachRecord(in: range, quoteAware: settings.quoteAware) {
            available, lineIndex in
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
        var user: Int32 = 0
        var item: Int32 = 0
        var rating: Float = 0
        var weight: Float = 0
        var time: Int64 = 0
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
                var digits = 0
                var fractionDigits = 0
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
                let value =
                    fractionDigits == 0
                    ? Float(Double(mantissa)) : Float(Double(mantissa) / ByteParsing.powerOfTen(fractionDigits))
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
                if index < count && base[index] == 0x2E { // a fraction of a second is dropped
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
        var rating: Float = 0
        var weight: Float = 0
        var time: Int64 = 0
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
        let userField = splitter.field(plan.user)
        let itemField = splitter.field(plan.item)
        if ByteParsing.trimmed(userField).isEmpty {
            return DataError(field: plan.names[plan.user], .invalidValue("", "is empty"))
        }
        if ByteParsing.trimmed(itemField).isEmpty {
            return DataError(field: plan.names[plan.item], .invalidValue("", "is empty"))
        }
        if settings.encoding == .utf8 { // check both before appending either
            if !ByteParsing.isValidUTF8(userField) {
                return DataError(field: plan.names[plan.user], .badEncoding(expected: "UTF-8"))
            }
            if !ByteParsing.isValidUTF8(itemField) {
                return DataError(field: plan.names[plan.item], .badEncoding(expected: "UTF-8"))
            }
        }
        let user = result.users.code(
            for: userField, encoding: settings.encoding, segment: sink.users, count: result.rowCount)
        let item = result.items.code(
            for: itemField, encoding: settings.encoding, segment: sink.items, count: result.rowCount)
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
