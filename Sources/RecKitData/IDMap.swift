/// A two-way map between external IDs (strings, as they appear in files) and dense indices
/// `0..<count` (`Int32`).
///
/// Order is stable and documented: loaders build maps in ascending ID order, numerically when every
/// ID is a canonical integer and by UTF-8 bytes otherwise, so the same file always gives the same
/// indices and score ties (broken toward the lower index) rank like other libraries' do.
public struct IDMap: Codable, Sendable, Equatable {
    /// External IDs by dense index.
    public private(set) var ids: [String]
    private var indexByID: [String: Int32]

    /// A map over `ids` in the given order.
    /// - Throws: `DataError.invalidValue` when an ID repeats.
    public init(ids: [String]) throws(DataError) {
        var index: [String: Int32] = [:]
        index.reserveCapacity(ids.count)
        for (position, id) in ids.enumerated() {
            if index.updateValue(Int32(position), forKey: id) != nil {
                throw DataError(.invalidValue(id, "appears twice in the ID list"))
            }
        }
        self.ids = ids
        self.indexByID = index
    }

    /// A map whose external IDs are the decimal integers in `sortedIntegers` (ascending, unique).
    public init(sortedIntegers: [Int64]) {
        precondition(zip(sortedIntegers, sortedIntegers.dropFirst()).allSatisfy { $0 < $1 }, "IDs must ascend")
        let strings = sortedIntegers.map(String.init)
        var index: [String: Int32] = [:]
        index.reserveCapacity(strings.count)
        for (position, id) in strings.enumerated() { index[id] = Int32(position) }
        ids = strings
        indexByID = index
    }

    /// A map of `ids` sorted in the loader order: numeric when all are canonical integers, else bytewise.
    public init(sorting ids: some Collection<String>) {
        let unique = Array(Set(ids))
        let sorted: [String]
        if unique.allSatisfy({ IDMap.canonicalInteger($0) != nil }) {
            sorted = unique.sorted { IDMap.canonicalInteger($0)! < IDMap.canonicalInteger($1)! }
        } else {
            sorted = unique.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        // Unique by construction.
        var index: [String: Int32] = [:]
        index.reserveCapacity(sorted.count)
        for (position, id) in sorted.enumerated() { index[id] = Int32(position) }
        self.ids = sorted
        self.indexByID = index
    }

    /// The number of IDs.
    public var count: Int { ids.count }

    /// The dense index of an external ID, or nil if unknown.
    public func index(of id: String) -> Int32? { indexByID[id] }

    /// The external ID of a dense index.
    public func id(at index: Int32) -> String {
        precondition(index >= 0 && Int(index) < ids.count, "IDMap: index \(index) out of 0..<\(ids.count)")
        return ids[Int(index)]
    }

    /// Appends an unknown ID at the end (used by fold-in and event ingestion); returns its index.
    public mutating func insert(_ id: String) -> Int32 {
        if let existing = indexByID[id] { return existing }
        let index = Int32(ids.count)
        ids.append(id)
        indexByID[id] = index
        return index
    }

    /// The value of `text` if it is a canonical decimal integer (no sign but '-', no leading zeros).
    public static func canonicalInteger(_ text: String) -> Int64? {
        guard let value = Int64(text), String(value) == text else { return nil }
        return value
    }

    // Codable as a plain array of IDs.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let ids = try container.decode([String].self)
        do { try self.init(ids: ids) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(ids)
    }

    public static func == (lhs: IDMap, rhs: IDMap) -> Bool { lhs.ids == rhs.ids }
}
