import Foundation

/// Reads a prepared split folder (`train.tsv`, `test.tsv`, optionally `negatives.tsv`) in the
/// format of the peer-library scripts: tab-separated raw IDs, no header; `user item[ rating[ time]]`
/// rows; `user neg_1 … neg_n` negatives.
///
/// Users and items are indexed in ascending raw-ID order over the union of the files (numeric when
/// every ID is an integer), as the peers index them, so that tied scores rank identically.
public enum SplitDirectory {
    public static func load(_ folder: String) throws(DataError) -> Split {
        let trainPath = join(folder, "train.tsv")
        let testPath = join(folder, "test.tsv")
        let negativesPath = join(folder, "negatives.tsv")
        let trainTable = try DelimitedTable.read(
            trainPath, delimiter: .tab, hasHeader: false, quoting: false, minimumFieldCount: 2)
        let testTable = try DelimitedTable.read(
            testPath, delimiter: .tab, hasHeader: false, quoting: false, minimumFieldCount: 2)
        let negativeTable =
            FileManager.default.fileExists(atPath: negativesPath)
            ? try DelimitedTable.read(
                negativesPath, delimiter: .tab, hasHeader: false, quoting: false, minimumFieldCount: 2) : nil
        let users = IDMap(sorting: trainTable.rows.map { $0[0] } + testTable.rows.map { $0[0] })
        var itemIDs = trainTable.rows.map { $0[1] } + testTable.rows.map { $0[1] }
        if let negativeTable { itemIDs += negativeTable.rows.flatMap { $0.dropFirst() } }
        let items = IDMap(sorting: itemIDs)
        func interactions(_ table: DelimitedTable) throws(DataError) -> Interactions {
            let fieldCount = table.rows.first?.count ?? 2
            var userColumn: [Int32] = []
            var itemColumn: [Int32] = []
            var ratings: [Float] = []
            var times: [Int64] = []
            for (row, fields) in table.rows.enumerated() {
                guard fields.count == fieldCount else {
                    throw table.error(row: row, field: "", .wrongFieldCount(expected: fieldCount, found: fields.count))
                }
                userColumn.append(users.index(of: fields[0])!)
                itemColumn.append(items.index(of: fields[1])!)
                if fieldCount >= 3 {
                    guard let rating = Float(fields[2]), rating.isFinite else {
                        throw table.error(row: row, field: "rating", .notANumber(fields[2]))
                    }
                    ratings.append(rating)
                }
                if fieldCount >= 4 {
                    guard
                        let time = Int64(fields[3]) ?? Double(fields[3]).flatMap({ Int64(exactly: $0.rounded(.down)) })
                    else {
                        throw table.error(row: row, field: "timestamp", .notATime(fields[3]))
                    }
                    times.append(time)
                }
            }
            return try Interactions(
                users: userColumn, items: itemColumn, ratings: fieldCount >= 3 ? ratings : nil,
                timestamps: fieldCount >= 4 ? times : nil,
                userCount: users.count, itemCount: items.count)
        }
        var negatives: [[Int32]]?
        if let negativeTable {
            var rows = [[Int32]](repeating: [], count: users.count)
            for (row, fields) in negativeTable.rows.enumerated() {
                guard let user = users.index(of: fields[0]) else {
                    throw negativeTable.error(
                        row: row, field: "user", .invalidValue(fields[0], "is in neither train.tsv nor test.tsv"))
                }
                rows[Int(user)] = fields.dropFirst().map { items.index(of: $0)! }
            }
            negatives = rows
        }
        return Split(
            train: try interactions(trainTable), test: try interactions(testTable), users: users, items: items,
            negatives: negatives,
            description: "split-dir \((folder as NSString).lastPathComponent)")
    }

    /// Writes `split` as a split folder (`train.tsv`, `test.tsv`: raw IDs, `user item[ rating[ time]]`
    /// rows, the time only with ratings) that `load` reads back and any other library can read, so
    /// that peers train and test on exactly RecKit's split. The folder is created if missing.
    /// - Throws: `DataError` when a file cannot be written.
    public static func write(_ split: Split, to folder: String) throws(DataError) {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch { throw DataError(file: folder, .invalid("the folder cannot be created: \(error)")) }
        for (name, part) in [("train.tsv", split.train), ("test.tsv", split.test)] {
            var text = ""
            text.reserveCapacity(part.count * 24)
            for row in 0..<part.count {
                text += split.users.ids[Int(part.users[row])] + "\t" + split.items.ids[Int(part.items[row])]
                if let ratings = part.ratings {
                    text += "\t\(ratings[row])"
                    if let times = part.timestamps { text += "\t\(times[row])" }
                }
                text += "\n"
            }
            let path = join(folder, name)
            do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw DataError(file: path, .invalid("cannot be written: \(error)"))
            }
        }
    }
}
