import RecKitTensor

extension Dataset {
    /// The columns of the canonical CSV, in order.
    public var canonicalColumns: [String] {
        ["user_id", "item_id"] + (interactions.ratings != nil ? ["rating"] : [])
            + (interactions.timestamps != nil ? ["timestamp"] : []) + (interactions.weights != nil ? ["weight"] : [])
    }

    /// Writes the interactions as RecKit's canonical CSV: a header, then
    /// `user_id,item_id[,rating][,timestamp][,weight]` with external IDs (quoted when needed) and
    /// numbers in their shortest exact form. The file appears only once complete.
    public func writeCanonicalCSV(to path: String, threadCount: Int = Parallel.defaultThreadCount) throws(DataError) {
        try CSVWriter.write(
            path, header: canonicalColumns.joined(separator: ","), rowCount: interactions.count,
            threadCount: threadCount, canonicalRowFormatter())
    }

    /// Formats row `row` of the canonical CSV (without the newline): shared by the CSV and the export.
    func canonicalRowFormatter() -> @Sendable (Int, inout ByteBuffer) -> Void {
        let data = interactions
        let userIDs = users.ids
        let itemIDs = items.ids
        return { row, out in
            out.appendQuoted(userIDs[Int(data.users[row])])
            out.append(0x2C)
            out.appendQuoted(itemIDs[Int(data.items[row])])
            if let ratings = data.ratings {
                out.append(0x2C)
                out.appendNumber(ratings[row])
            }
            if let timestamps = data.timestamps {
                out.append(0x2C)
                out.appendInteger(timestamps[row])
            }
            if let weights = data.weights {
                out.append(0x2C)
                out.appendNumber(weights[row])
            }
        }
    }
}

extension ByteBuffer {
    /// Integers without a fraction (`4`), others in Swift's shortest round-trip form (`4.5`).
    mutating func appendNumber(_ value: Float) {
        if value == value.rounded() && abs(value) < 1e15 {
            appendInteger(Int64(value))
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }
}
