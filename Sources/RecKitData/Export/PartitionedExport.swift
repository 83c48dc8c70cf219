import Foundation
import RecKitTensor

/// A data set written for cluster tools (Apache Spark, Hive, DuckDB): interactions as partitioned,
/// gzip-compressed CSV with RecKit's canonical columns and raw IDs, the ID maps beside them, and a
/// manifest. Spark reads the folder directly (`spark.read.csv("DIR/interactions", header=True)`);
/// `Dataset.load` reads it back.
///
/// ```
/// DIR/export.json                    the manifest below
/// DIR/interactions/part-00000.csv.gz user_id,item_id[,rating][,timestamp][,weight]
/// DIR/users.csv                      user_index,user_id
/// DIR/items.csv                      item_index,item_id[,title]
/// ```
///
/// CSV, not Parquet: RecKit's dependency set has no maintained Parquet library for Swift, and gzip
/// CSV is read natively by every cluster tool. Fields are quoted as RFC 4180 says (a quote inside is
/// doubled), so raw IDs holding commas, quotes, newlines or any UTF-8 text survive the round trip;
/// Spark reads them with `quote='"', escape='"', multiLine=True` (gzip parts are not split anyway).
public struct ExportManifest: Codable, Sendable, Equatable {
    public static let fileName = "export.json"
    public static let interactionsFolder = "interactions"

    public var format = "reckit-export"
    public var formatVersion = 1
    /// The data set's name.
    public var name: String
    /// The interaction columns, in order.
    public var columns: [String]
    /// The column models train on (`weight`, else `rating`), nil when every interaction counts 1.
    public var valueColumn: String?
    /// `gzip` or `none`.
    public var compression: String
    /// Part files, relative to the folder, in row order.
    public var partitions: [String]
    public var rowCount: Int
    public var userCount: Int
    public var itemCount: Int
    public var usersFile = "users.csv"
    public var itemsFile = "items.csv"
    /// The interactions' fingerprint (`Interactions.fingerprint()`).
    public var fingerprint: String

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", name, columns, valueColumn = "value_column", compression
        case partitions, rowCount = "rows", userCount = "users", itemCount = "items", usersFile = "users_file"
        case itemsFile = "items_file", fingerprint
    }

    /// Reads `DIR/export.json`.
    public static func read(folder: String) throws(DataError) -> ExportManifest {
        let path = join(folder, fileName)
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError(file: path, .fileNotFound) }
        let manifest: ExportManifest
        do { manifest = try JSONDecoder().decode(ExportManifest.self, from: data) } catch {
            throw DataError(file: path, .invalid("not a RecKit export manifest (\(error))"))
        }
        guard manifest.format == "reckit-export", manifest.formatVersion == 1 else {
            throw DataError(
                file: path,
                .invalid(
                    "format \(manifest.format) version \(manifest.formatVersion); this RecKit reads "
                        + "reckit-export version 1"))
        }
        return manifest
    }
}

/// How `Dataset.export` compresses its parts.
public enum ExportCompression: String, Sendable, CaseIterable, Codable {
    case gzip
    case none

    var fileExtension: String { self == .gzip ? ".csv.gz" : ".csv" }
}

extension Dataset {
    /// Writes the interactions as `partitions` part files (contiguous row ranges, in parallel), the
    /// ID maps and the manifest into `folder` (created if needed). The manifest is written last, so
    /// a folder without one is incomplete.
    /// - Throws: `DataError` when a file cannot be written.
    @discardableResult
    public func export(
        to folder: String, partitions: Int, compression: ExportCompression = .gzip,
        threadCount: Int = Parallel.defaultThreadCount
    ) throws(DataError) -> ExportManifest {
        let partitionCount = max(1, min(partitions, max(1, interactions.count)))
        let manager = FileManager.default
        let partsFolder = join(folder, ExportManifest.interactionsFolder)
        do {
            try? manager.removeItem(atPath: join(folder, ExportManifest.fileName))
            try? manager.removeItem(atPath: partsFolder)
            try manager.createDirectory(atPath: partsFolder, withIntermediateDirectories: true)
        } catch {
            throw DataError(file: folder, .unreadable("cannot create the folder: \(error.localizedDescription)"))
        }
        let names = (0..<partitionCount).map {
            ExportManifest.interactionsFolder + "/" + String(format: "part-%05d", $0) + compression.fileExtension
        }
        let ranges = Parallel.chunks(count: interactions.count, chunkCount: partitionCount)
        let header = canonicalColumns.joined(separator: ",")
        let results = Parallel.map(chunkCount: partitionCount, threadCount: threadCount) { part in
            Result { () throws(DataError) in
                try writePart(join(folder, names[part]), header: header, rows: ranges[part], compression: compression)
            }
        }
        for result in results { try result.get() }

        let userIDs = self.users.ids
        try CSVWriter.write(
            join(folder, "users.csv"), header: "user_index,user_id", rowCount: userIDs.count, threadCount: threadCount
        ) { row, out in
            out.appendInteger(Int64(row))
            out.append(0x2C)
            out.appendQuoted(userIDs[row])
        }
        let itemIDs = self.items.ids
        let titles = itemCatalog?.titles
        try CSVWriter.write(
            join(folder, "items.csv"), header: "item_index,item_id" + (titles != nil ? ",title" : ""),
            rowCount: itemIDs.count, threadCount: threadCount
        ) { row, out in
            out.appendInteger(Int64(row))
            out.append(0x2C)
            out.appendQuoted(itemIDs[row])
            if let titles {
                out.append(0x2C)
                out.appendQuoted(titles[row] ?? "")
            }
        }
        let manifest = ExportManifest(
            name: name, columns: canonicalColumns,
            valueColumn: interactions.weights != nil ? "weight" : (interactions.ratings != nil ? "rating" : nil),
            compression: compression.rawValue, partitions: names, rowCount: interactions.count,
            userCount: self.users.count, itemCount: self.items.count, fingerprint: interactions.fingerprint())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        // Encoding a struct of strings and integers cannot fail.
        try CSVWriter.writeWhole(join(folder, ExportManifest.fileName), Array(try! encoder.encode(manifest)))
        return manifest
    }

    /// One part: the header, then the rows. Plain parts go through `CSVWriter`; gzip parts are formatted
    /// in blocks, each compressed and flushed on its own.
    private func writePart(_ path: String, header: String, rows: Range<Int>, compression: ExportCompression)
        throws(DataError)
    {
        let format = canonicalRowFormatter()
        guard compression == .gzip else {
            try CSVWriter.write(path, header: header, rowCount: rows.count, threadCount: 1) { row, out in
                format(rows.lowerBound + row, &out)
            }
            return
        }
        let temporary = path + ".partial"
        let blocks = Parallel.chunks(
            count: rows.count, chunkCount: max(1, (rows.count + CSVWriter.rowsPerBlock - 1) / CSVWriter.rowsPerBlock))
        let writer = try Gzip.Writer(path: temporary)
        do {
            for (index, block) in blocks.enumerated() {
                var buffer = ByteBuffer(capacity: block.count * 32 + (index == 0 ? header.utf8.count + 1 : 0))
                if index == 0 { buffer.bytes += Array((header + "\n").utf8) }
                for row in block {
                    format(rows.lowerBound + row, &buffer)
                    buffer.append(0x0A)
                }
                try writer.write(buffer.bytes)
            }
            try writer.finish()
        } catch {
            writer.abandon()
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw DataError(file: path, .unreadable("cannot rename: \(String(cString: strerror(errno)))"))
        }
    }

    /// Reads a folder written by `export(to:)`: the parts are decompressed into one temporary file and
    /// loaded as a canonical CSV, so the same checks (file, line, field) apply; titles come from the
    /// item map when it has them.
    static func loadExport(_ folder: String, options: InteractionFileOptions) throws(DataError) -> Dataset {
        let manifest = try ExportManifest.read(folder: folder)
        guard !manifest.partitions.isEmpty else {
            throw DataError(file: join(folder, ExportManifest.fileName), .invalid("the export lists no partitions"))
        }
        let combined = NSTemporaryDirectory() + "reckit-export-\(UUID().uuidString).csv"
        defer { unlink(combined) }
        guard let out = fopen(combined, "wb") else {
            throw DataError(file: combined, .unreadable(String(cString: strerror(errno))))
        }
        var writeFailed = false
        // Where each part's lines start in the combined file, to name the part and its line in errors.
        var starts: [(name: String, firstLine: Int, skipped: Int)] = []
        var lineCount = 0
        for (index, name) in manifest.partitions.enumerated() {
            let path = join(folder, name)
            var bytes: [UInt8]
            if name.hasSuffix(".gz") {
                bytes = try Gzip.read(path)
            } else {
                guard let data = FileManager.default.contents(atPath: path) else {
                    fclose(out)
                    throw DataError(file: path, .fileNotFound)
                }
                bytes = Array(data)
            }
            // Every part starts with the header; keep the first one only.
            var skipped = 0
            if index > 0, let newline = bytes.firstIndex(of: 0x0A) {
                bytes.removeSubrange(0...newline)
                skipped = 1
            }
            if let last = bytes.last, last != 0x0A { bytes.append(0x0A) }
            starts.append((name, lineCount + 1, skipped))
            lineCount += bytes.lazy.filter { $0 == 0x0A }.count
            let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, out) }
            writeFailed = writeFailed || written != bytes.count
        }
        guard fclose(out) == 0, !writeFailed else {
            throw DataError(file: combined, .unreadable("write failed: \(String(cString: strerror(errno)))"))
        }
        var fileOptions = options
        fileOptions.format = DelimitedFormat(delimiter: .comma, hasHeader: true)
        let has = { (column: String) in manifest.columns.contains(column) ? ColumnReference.name(column) : nil }
        fileOptions.mapping = ColumnMapping(
            user: .name("user_id"), item: .name("item_id"), rating: has("rating"), timestamp: has("timestamp"),
            weight: has("weight"))
        func relocated(_ error: DataError) -> DataError {
            var located = error
            if let line = error.line, let part = starts.last(where: { $0.firstLine <= line }) {
                located.file = join(folder, part.name)
                located.line = line - part.firstLine + 1 + part.skipped
            } else {
                located.file = join(folder, ExportManifest.interactionsFolder)
            }
            return located
        }
        var loaded: LoadedInteractions
        do { loaded = try InteractionFileLoader.load(combined, options: fileOptions) } catch {
            throw relocated(error)
        }
        loaded.report.firstSkipped = loaded.report.firstSkipped.map(relocated)
        var dataset = Dataset(
            name: manifest.name, format: .export, interactions: loaded.interactions, users: loaded.users,
            items: loaded.items, report: loaded.report)
        let itemsPath = join(folder, manifest.itemsFile)
        if FileManager.default.fileExists(atPath: itemsPath) {
            let table = try DelimitedTable.read(itemsPath, delimiter: .comma, hasHeader: true)
            if table.header?.contains("title") == true {
                let idColumn = try table.column("item_id")
                let titleColumn = try table.column("title")
                var titles = [String?](repeating: nil, count: dataset.items.count)
                for row in table.rows {
                    if let index = dataset.items.index(of: row[idColumn]), !row[titleColumn].isEmpty {
                        titles[Int(index)] = row[titleColumn]
                    }
                }
                dataset.itemCatalog = ItemCatalog(titles: titles)
            }
        }
        return dataset
    }
}
