import RecKitTensor

/// Positions of the mapped columns, resolved against the header.
struct ColumnPlan: Sendable {
    var user: Int, item: Int, rating: Int?, timestamp: Int?, weight: Int?
    var fieldCount: Int
    var names: [Int: String] // field name for messages, by position

    init(mapping: ColumnMapping, header: [String]?, fieldCount: Int, path: String) throws(DataError) {
        func resolve(_ reference: ColumnReference?, role: String) throws(DataError) -> Int? {
            guard let reference else { return nil }
            switch reference {
            case .position(let position):
                guard position < fieldCount else {
                    throw DataError(
                        file: path, line: 1, field: role,
                        .missingColumn("#\(position) (the file has \(fieldCount) columns)"))
                }
                return position
            case .name(let name):
                let wanted = ColumnMapping.normalized(name)
                guard let header, let position = header.firstIndex(where: { ColumnMapping.normalized($0) == wanted })
                else {
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
        for (position, role) in [
            (user, "user"), (item, "item"), (rating, "rating"), (timestamp, "timestamp"), (weight, "weight"),
        ] {
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
