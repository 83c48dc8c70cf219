/// Reads the first lines of a delimited file to settle what `DelimitedFormat` left open.
struct SniffResult {
    var delimiter: Delimiter
    var hasHeader: Bool
    /// The header's names (decoded), when there is a header.
    var header: [String]?
    /// Field count of the first line (header or data).
    var fieldCount: Int
    /// Mean bytes per line in the sample, for capacity estimates.
    var averageLineLength: Double
    /// Whether any sampled line holds a quote character.
    var sawQuote: Bool
}

enum Sniffer {
    static let sampleLineCount = 50

    static func sniff(_ path: String, format: DelimitedFormat) throws(DataError) -> SniffResult {
        var lines: [[UInt8]] = []
        var bytes = 0
        try LineReader(path: path, blockSize: 1 << 16).forEachRecord(in: 0..<Int.max, quoteAware: format.quoting) {
            record, _ throws(DataError) in
            if record.contains(where: { $0 != 0x20 && $0 != 0x09 }) {
                lines.append(Array(record))
                bytes += record.count + 1
            }
            return lines.count < sampleLineCount
        }
        guard let first = lines.first else { throw DataError(file: path, .emptyFile) }
        let delimiter = format.delimiter ?? detectDelimiter(lines)
        let splitter = FieldSplitter(delimiter: delimiter, quoting: format.quoting)
        var firstFields: [String] = []
        var firstNumeric: [Bool] = []
        do {
            try first.withUnsafeBufferPointer { buffer throws(DataError) in
                try splitter.split(buffer)
                for index in 0..<splitter.fieldCount {
                    let field = splitter.field(index)
                    firstFields.append(
                        ByteParsing.string(field, encoding: format.encoding) ?? ByteParsing.display(field))
                    firstNumeric.append(ByteParsing.double(field) != nil)
                }
            }
        } catch {
            throw DataError(file: path, line: 1, error.reason)
        }
        var hasHeader = format.hasHeader ?? false
        if format.hasHeader == nil {
            if ColumnMapping.detect(header: firstFields) != nil {
                hasHeader = true
            } else if lines.count > 1 {
                // A header has text where the data below it has numbers.
                var secondNumeric: [Bool] = []
                try lines[1].withUnsafeBufferPointer { buffer throws(DataError) in
                    // A second line that does not split (an unterminated quote) says nothing about a header;
                    // the splitter's fields are only valid after a split that succeeded.
                    guard (try? splitter.split(buffer)) != nil else { return }
                    for index in 0..<splitter.fieldCount {
                        secondNumeric.append(ByteParsing.double(splitter.field(index)) != nil)
                    }
                }
                hasHeader = zip(firstNumeric, secondNumeric).contains { !$0 && $1 }
            } else {
                hasHeader = !firstNumeric.contains(true)
            }
        }
        return SniffResult(
            delimiter: delimiter, hasHeader: hasHeader, header: hasHeader ? firstFields : nil,
            fieldCount: firstFields.count, averageLineLength: Double(bytes) / Double(lines.count),
            sawQuote: lines.contains { $0.contains(0x22) })
    }

    /// `::` if every line has it; else the byte among tab, comma, semicolon and pipe that occurs the
    /// same non-zero number of times on the most lines (ties in that order); else comma.
    static func detectDelimiter(_ lines: [[UInt8]]) -> Delimiter {
        let doubleColon = lines.allSatisfy { line in
            zip(line, line.dropFirst()).contains { $0 == 0x3A && $1 == 0x3A }
        }
        if doubleColon { return .doubleColon }
        var best: (Delimiter, Int) = (.comma, 0)
        for candidate in [UInt8(ascii: "\t"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "|")] {
            let counts = lines.map { line in countOutsideQuotes(candidate, in: line) }
            guard let firstCount = counts.first, firstCount > 0 else { continue }
            let agreeing = counts.filter { $0 == firstCount }.count
            if agreeing > best.1 { best = (.byte(candidate), agreeing) }
        }
        return best.0
    }

    static func countOutsideQuotes(_ byte: UInt8, in line: [UInt8]) -> Int {
        var inQuote = false
        var count = 0
        for value in line {
            if value == 0x22 { inQuote.toggle() } else if value == byte && !inQuote { count += 1 }
        }
        return count
    }
}
