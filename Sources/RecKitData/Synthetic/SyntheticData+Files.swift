import Foundation
import RecKitTensor

extension SyntheticData {
    /// Writes `ratings.csv`, `events.csv`, `items.csv` and `dataset.json` into `folder` (created if
    /// needed). Each file is written under a temporary name and renamed when complete.
    /// - Returns: the files written, in order.
    @discardableResult
    public func write(to folder: String, threadCount: Int = Parallel.defaultThreadCount) throws(DataError) -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw DataError(file: folder, .unreadable("cannot create the folder: \(error.localizedDescription)"))
        }
        let r = ratings.interactions
        try CSVWriter.write(
            join(folder, Self.ratingsFile), header: "user_id,item_id,rating,timestamp", rowCount: r.count,
            threadCount: threadCount
        ) { row, out in
            out.appendInteger(Int64(r.users[row]) + 1)
            out.append(0x2C)
            out.appendInteger(Int64(r.items[row]) + 1)
            out.append(0x2C)
            out.appendInteger(Int64(r.ratings![row]))
            out.append(0x2C)
            out.appendInteger(r.timestamps![row])
        }
        let e = events
        try CSVWriter.write(
            join(folder, Self.eventsFile), header: "user_id,item_id,timestamp", rowCount: e.count,
            threadCount: threadCount
        ) { row, out in
            out.appendInteger(Int64(e.users[row]) + 1)
            out.append(0x2C)
            out.appendInteger(Int64(e.items[row]) + 1)
            out.append(0x2C)
            out.appendInteger(e.timestamps![row])
        }
        let catalog = ratings.itemCatalog!
        try CSVWriter.write(
            join(folder, Self.itemsFile), header: "item_id,title,genres,year", rowCount: catalog.count, threadCount: 1
        ) { row, out in
            out.appendInteger(Int64(row) + 1)
            out.append(0x2C)
            out.appendQuoted(catalog.titles[row] ?? "")
            out.append(0x2C)
            out.appendQuoted(catalog.genres!.values(of: row).joined(separator: "|"))
            out.append(0x2C)
            out.appendInteger(Int64(catalog.years[row] ?? 0))
        }
        let manifest = """
            {
              "generator": "reckit data synth",
              "generatorVersion": \(Self.generatorVersion),
              "preset": "\(preset.name)",
              "seed": \(seed),
              "users": \(preset.userCount),
              "items": \(preset.itemCount),
              "ratings": \(ratings.interactions.count),
              "events": \(events.count),
              "factorCount": \(preset.factorCount),
              "files": ["\(Self.ratingsFile)", "\(Self.eventsFile)", "\(Self.itemsFile)"]
            }

            """
        try CSVWriter.writeWhole(join(folder, Self.manifestFile), Array(manifest.utf8))
        return [Self.ratingsFile, Self.eventsFile, Self.itemsFile, Self.manifestFile].map { join(folder, $0) }
    }

    /// Loads a folder written by `write(to:)`: ratings with the item catalogue.
    /// The preset and seed of a `synthetic:PRESET[:SEED]` data location (seed 42 by default); nil for
    /// any other path.
    /// - Throws: `DataError` for an unknown preset or a bad seed.
    public static func location(_ path: String) throws(DataError) -> (SyntheticPreset, UInt64)? {
        let prefix = "synthetic:"
        guard path.hasPrefix(prefix) else { return nil }
        let parts = path.dropFirst(prefix.count).split(separator: ":", omittingEmptySubsequences: false)
        let presets = SyntheticPreset.all.map(\.name).joined(separator: ", ")
        guard (1...2).contains(parts.count), let preset = SyntheticPreset.named(String(parts[0])) else {
            throw DataError(file: path, .unknownFormat("synthetic:PRESET[:SEED] with a preset among \(presets)"))
        }
        guard parts.count == 2 else { return (preset, 42) }
        guard let seed = UInt64(parts[1]) else {
            throw DataError(file: path, .unknownFormat("the seed after the preset must be a whole number ≥ 0"))
        }
        return (preset, seed)
    }

    public static func loadFolder(_ folder: String, options: InteractionFileOptions = .init()) throws(DataError)
        -> Dataset
    {
        var fileOptions = options
        fileOptions.format = DelimitedFormat(delimiter: .comma, hasHeader: true)
        fileOptions.mapping = ColumnMapping(
            user: .name("user_id"), item: .name("item_id"), rating: .name("rating"), timestamp: .name("timestamp"))
        let loaded = try InteractionFileLoader.load(join(folder, ratingsFile), options: fileOptions)
        var dataset = Dataset(
            name: "synthetic", format: .synthetic, interactions: loaded.interactions, users: loaded.users,
            items: loaded.items,
            report: loaded.report)
        let manifestPath = join(folder, manifestFile)
        if let data = FileManager.default.contents(atPath: manifestPath),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let preset = object["preset"] as? String
        {
            dataset.name = "synthetic-\(preset)"
        }
        let itemsPath = join(folder, itemsFile)
        if FileManager.default.fileExists(atPath: itemsPath) {
            let table = try DelimitedTable.read(itemsPath, delimiter: .comma, hasHeader: true, fieldCount: 4)
            var catalog = MovieLens.catalog(table, ids: dataset.items, idColumn: 0, titleColumn: 1, genreColumn: 2)
            for fields in table.rows {
                if let item = dataset.items.index(of: fields[0]), let year = Int(fields[3]), year > 0 {
                    catalog.years[Int(item)] = year
                }
            }
            dataset.itemCatalog = catalog
        }
        return dataset
    }
}

/// Fast CSV output: rows formatted into byte buffers in parallel blocks, written in order.
enum CSVWriter {
    static let rowsPerBlock = 1 << 18

    static func write(
        _ path: String, header: String, rowCount: Int, threadCount: Int,
        _ format: @Sendable (Int, inout ByteBuffer) -> Void
    ) throws(DataError) {
        let temporary = path + ".partial"
        guard let file = fopen(temporary, "wb") else {
            throw DataError(file: path, .unreadable(String(cString: strerror(errno))))
        }
        var ok = fwrite(header + "\n", 1, header.utf8.count + 1, file) == header.utf8.count + 1
        let blocks = Parallel.chunks(count: rowCount, chunkCount: max(1, (rowCount + rowsPerBlock - 1) / rowsPerBlock))
        let wave = max(1, threadCount) * 4
        var start = 0
        while start < blocks.count && ok {
            let end = min(blocks.count, start + wave)
            let first = start
            let buffers = Parallel.map(chunkCount: end - start, threadCount: threadCount) { offset -> [UInt8] in
                var buffer = ByteBuffer(capacity: blocks[first + offset].count * 32)
                for row in blocks[first + offset] {
                    format(row, &buffer)
                    buffer.append(0x0A)
                }
                return buffer.bytes
            }
            for bytes in buffers where ok {
                ok = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) == $0.count }
            }
            start = end
        }
        ok = (fclose(file) == 0) && ok
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw DataError(file: path, .unreadable("write failed: \(String(cString: strerror(errno)))"))
        }
    }

    static func writeWhole(_ path: String, _ bytes: [UInt8]) throws(DataError) {
        do { try AtomicFile.write(Data(bytes), to: path) } catch {
            throw DataError(file: path, .unreadable("write failed: \(error.reason)"))
        }
    }
}

/// A growable byte buffer with number formatting that builds no `String`s.
struct ByteBuffer {
    var bytes: [UInt8]

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always) mutating func append(_ byte: UInt8) { bytes.append(byte) }

    @inline(__always)
    mutating func appendInteger(_ value: Int64) {
        if value < 0 {
            bytes.append(0x2D)
            appendInteger(value == .min ? Int64.max : -value) // Int64.min never occurs here
            return
        }
        if value < 10 {
            bytes.append(0x30 + UInt8(value))
            return
        }
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var remaining = value
        withUnsafeMutableBytes(of: &digits) { raw in
            while remaining > 0 {
                raw[count] = 0x30 + UInt8(remaining % 10)
                remaining /= 10
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(raw[index]) }
        }
    }

    /// Appends `text`, quoted (RFC 4180) when it holds a comma, quote or newline.
    mutating func appendQuoted(_ text: String) {
        let needsQuotes = text.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else {
            bytes.append(contentsOf: text.utf8)
            return
        }
        bytes.append(0x22)
        for byte in text.utf8 {
            if byte == 0x22 { bytes.append(0x22) }
            bytes.append(byte)
        }
        bytes.append(0x22)
    }
}
