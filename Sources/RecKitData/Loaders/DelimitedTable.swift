/// A small delimited file read whole into strings: the side files (titles, genres, users, tags).
///
/// Interaction files go through `InteractionFileLoader` instead, which never builds strings for
/// numeric fields.
struct DelimitedTable {
    var header: [String]?
    var rows: [[String]]
    /// The 1-based line number of each row, for messages.
    var lines: [Int]
    let path: String

    /// Reads `path` sequentially (quote-aware), skipping blank lines.
    /// - Parameter fieldCount: when set, every row must have exactly this many fields;
    ///   `minimumFieldCount` allows more.
    static func read(
        _ path: String, delimiter: Delimiter, hasHeader: Bool, encoding: TextEncoding = .utf8,
        quoting: Bool = true, fieldCount: Int? = nil, minimumFieldCount: Int? = nil
    ) throws(DataError) -> DelimitedTable {
        _ = try LineReader.size(of: path)
        let splitter = FieldSplitter(delimiter: delimiter, quoting: quoting)
        var table = DelimitedTable(header: nil, rows: [], lines: [], path: path)
        var failure: DataError?
        try LineReader(path: path, blockSize: 1 << 20).forEachRecord(in: 0..<Int.max, quoteAware: quoting) {
            record, lineIndex throws(DataError) in
            if !record.contains(where: { $0 != 0x20 && $0 != 0x09 }) { return true }
            do throws(DataError) {
                try splitter.split(record)
                var fields: [String] = []
                fields.reserveCapacity(splitter.fieldCount)
                for index in 0..<splitter.fieldCount {
                    guard let text = ByteParsing.string(splitter.field(index), encoding: encoding) else {
                        throw DataError(
                            field: table.header?[safe: index] ?? "#\(index)",
                            .badEncoding(expected: encoding.displayName))
                    }
                    fields.append(text)
                }
                if hasHeader && table.header == nil {
                    table.header = fields
                    return true
                }
                if let fieldCount, fields.count != fieldCount {
                    throw DataError(.wrongFieldCount(expected: fieldCount, found: fields.count))
                }
                if let minimumFieldCount, fields.count < minimumFieldCount {
                    throw DataError(.wrongFieldCount(expected: minimumFieldCount, found: fields.count))
                }
                table.rows.append(fields)
                table.lines.append(lineIndex + 1)
                return true
            } catch {
                var located = error
                located.file = path
                located.line = lineIndex + 1
                failure = located
                return false
            }
        }
        if let failure { throw failure }
        if table.rows.isEmpty && table.header == nil { throw DataError(file: path, .emptyFile) }
        return table
    }

    /// The position of a header column (case-insensitive).
    func column(_ name: String) throws(DataError) -> Int {
        guard let header, let position = header.firstIndex(where: { $0.lowercased() == name.lowercased() }) else {
            throw DataError(file: path, line: 1, .missingColumn(name))
        }
        // Every row must reach the column, so that callers can index it.
        if let short = rows.firstIndex(where: { $0.count <= position }) {
            throw DataError(
                file: path, line: lines[short], field: name,
                .wrongFieldCount(expected: header.count, found: rows[short].count))
        }
        return position
    }

    /// An error for row `row`'s field.
    func error(row: Int, field: String, _ reason: DataError.Reason) -> DataError {
        DataError(file: path, line: lines[row], field: field, reason)
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
