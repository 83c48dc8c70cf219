import Foundation

/// A table of vectors keyed by raw ID, as cluster jobs write them (Spark's ALS factors from
/// `spark/train_als.py`): a folder of CSV part files (`part-*.csv`, or `.csv.gz`), each with the
/// header `id,f0,…,f{k−1}`, quoted as RFC 4180 says. Files starting with `_` or `.` (Spark's
/// `_SUCCESS`, checksum files) are ignored.
public struct FactorTable: Sendable, Equatable {
    /// Raw IDs, in file order (parts by name).
    public var ids: [String]
    /// Vector width.
    public var width: Int
    /// Row-major `ids.count × width`.
    public var values: [Float]
    /// The part files read, relative to the folder, with their SHA-256.
    public var files: [String: String]

    /// Reads every part file in `folder`.
    /// - Throws: `DataError` naming the file, line and field of a bad value, a width that differs
    ///   between rows, an ID that appears twice, or a folder without parts.
    public static func read(folder: String) throws(DataError) -> FactorTable {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
                .filter {
                    !$0.hasPrefix("_") && !$0.hasPrefix(".") && ($0.hasSuffix(".csv") || $0.hasSuffix(".csv.gz"))
                }
                .sorted()
        } catch {
            throw DataError(file: folder, .fileNotFound)
        }
        guard !names.isEmpty else { throw DataError(file: folder, .invalid("no part-*.csv files in the folder")) }
        var table = FactorTable(ids: [], width: 0, values: [], files: [:])
        var firstLine: [String: (file: String, line: Int)] = [:]
        for name in names {
            let path = join(folder, name)
            var readable = path
            var temporary: String?
            if name.hasSuffix(".gz") {
                let bytes = try Gzip.read(path)
                let unpacked = NSTemporaryDirectory() + "reckit-factors-\(UUID().uuidString).csv"
                try CSVWriter.writeWhole(unpacked, bytes)
                temporary = unpacked
                readable = unpacked
            }
            defer { if let temporary { unlink(temporary) } }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw DataError(file: path, .fileNotFound)
            }
            table.files[name] = Fingerprint.hex(data)
            if data.isEmpty { continue } // Spark writes empty parts for empty partitions
            var csv: DelimitedTable
            do { csv = try DelimitedTable.read(readable, delimiter: .comma, hasHeader: true) } catch {
                var located = error
                located.file = path
                throw located
            }
            guard let header = csv.header, header.first?.lowercased() == "id", header.count >= 2 else {
                throw DataError(file: path, line: 1, .invalid("the header must be id,f0,…,f{k−1}"))
            }
            let width = header.count - 1
            if table.width == 0 {
                table.width = width
            } else if width != table.width {
                throw DataError(
                    file: path, line: 1,
                    .invalid("\(width) factor columns where earlier parts have \(table.width)"))
            }
            for (row, fields) in csv.rows.enumerated() {
                let line = csv.lines[row]
                guard fields.count == header.count else {
                    throw DataError(
                        file: path, line: line, .wrongFieldCount(expected: header.count, found: fields.count))
                }
                let id = fields[0]
                if let earlier = firstLine[id] {
                    throw DataError(
                        file: path, line: line, field: "id",
                        .invalidValue(id, "appears twice (first at \(earlier.file):\(earlier.line))"))
                }
                firstLine[id] = (name, line)
                table.ids.append(id)
                for column in 1..<fields.count {
                    guard let value = Float(fields[column]), value.isFinite else {
                        throw DataError(file: path, line: line, field: header[column], .notANumber(fields[column]))
                    }
                    table.values.append(value)
                }
            }
        }
        guard !table.ids.isEmpty else { throw DataError(file: folder, .invalid("the part files hold no rows")) }
        return table
    }

    /// The vector of row `row`.
    public func vector(_ row: Int) -> ArraySlice<Float> { values[(row * width)..<((row + 1) * width)] }
}
