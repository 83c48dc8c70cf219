import Foundation

/// A `FeatureSpec` fitted on a training part: vocabularies, hash sizes, bucket boundaries and
/// standardisation statistics, each column given a range of one shared feature index space.
/// Codable: a model saves it, so a new request is transformed exactly as in training.
///
/// Every column is a *field*: an example (user, item, time) has, per field, a bag of active
/// features with weights (1 for a one-hot value, the standardised number for a numeric column,
/// the combiner's weights for several values) — what FM, DeepFM and Wide & Deep read.
public struct FeatureTransform: Codable, Sendable, Equatable {
    public private(set) var columns: [FittedFeatureColumn]
    /// Size of the shared feature index space.
    public private(set) var featureCount: Int
    /// The last training timestamp (`example_age` counts days before it).
    public var trainingEnd: Int64?

    public var fieldCount: Int { columns.count }

    /// Fields reading users, items and context, in field order (crosses last).
    public func fields(of side: FeatureSide) -> [Int] { columns.indices.filter { columns[$0].side == side } }
    public var crossedFields: [Int] { columns.indices.filter { columns[$0].cross != nil } }

    /// Fits `spec` on the training part: statistics over the users and items that have training
    /// interactions only.
    /// - Throws: `FeatureSpecError` for an invalid spec or a source the data does not have.
    public init(
        fitting spec: FeatureSpec, train: Interactions, users: RawFeatureTable, items: RawFeatureTable
    ) throws(FeatureSpecError) {
        try spec.validate()
        let userCounts = train.countsPerUser()
        let itemCounts = train.countsPerItem()
        var columns: [FittedFeatureColumn] = []
        var offset = 0
        var positions: [FeatureSide: Int] = [:]
        for (side, columnSpec) in spec.allColumns {
            let path = "\(side.rawValue)[\(positions[side, default: 0])]"
            positions[side, default: 0] += 1
            var values: [RawFeatureValue]
            switch side {
            case .user, .item:
                let table = side == .user ? users : items
                let counts = side == .user ? userCounts : itemCounts
                guard let all = table.values(columnSpec.sourceName) else {
                    throw FeatureSpecError(
                        path: path + ".source",
                        "the data has no \(side.rawValue) values '\(columnSpec.sourceName)' "
                            + "(it has \(table.sourceNames.joined(separator: ", ")))")
                }
                values = all.indices.filter { counts[$0] > 0 }.map { all[$0] }
            case .context:
                values = Self.contextValues(columnSpec.sourceName, train: train)
            }
            let column = FittedFeatureColumn(fitting: columnSpec, side: side, values: values, offset: offset)
            offset += column.size
            columns.append(column)
        }
        for cross in spec.crossed {
            let parts = cross.columns.map { name in columns.firstIndex { $0.name == name }! }
            columns.append(FittedFeatureColumn(cross: cross, parts: parts, offset: offset))
            offset += cross.buckets
        }
        self.columns = columns
        self.featureCount = offset
        self.trainingEnd = train.timestamps?.max()
    }

    /// The context values of the training examples (for statistics).
    static func contextValues(_ source: String, train: Interactions) -> [RawFeatureValue] {
        guard let times = train.timestamps else { return [] }
        let end = times.max() ?? 0
        return times.map { contextValue(source, time: $0, trainingEnd: end) }
    }

    static func contextValue(_ source: String, time: Int64?, trainingEnd: Int64?) -> RawFeatureValue {
        guard let time else { return source == "example_age" ? .number(0) : .strings([]) }
        switch source {
        case "hour": return .strings([String((time % 86_400 + 86_400) % 86_400 / 3_600)])
        case "weekday": return .strings([String(((time / 86_400 + 4) % 7 + 7) % 7)]) // 1970-01-01 was a Thursday
        default: return .number(Float(max(0, (trainingEnd ?? time) - time)) / 86_400)
        }
    }

    /// Encodes users or items (`side`) of a raw table, one row of bags per entity. `asNew` hides
    /// what only interactions give (`interactionSources`: out-of-vocabulary ID, no history, missing
    /// aggregates): each entity as it looks when it arrives with its attributes alone.
    public func encode(_ table: RawFeatureTable, side: FeatureSide, asNew: Bool = false) -> EncodedEntities {
        let fields = fields(of: side)
        let sources = fields.map { field -> [RawFeatureValue]? in
            let source = columns[field].sourceName
            return asNew && RawFeatureTable.interactionSources.contains(source) ? nil : table.values(source)
        }
        return EncodedEntities(fields: fields, count: table.entityCount) { entity, field in
            let column = columns[fields[field]]
            return column.encode(sources[field]?[entity] ?? column.missingValue)
        }
    }

    /// Encodes one user or item known only by raw values (`--user-features`); missing sources are
    /// missing values, unknown ones out of vocabulary.
    public func encode(values: [String: RawFeatureValue], side: FeatureSide) -> EncodedEntities {
        let fields = fields(of: side)
        return EncodedEntities(fields: fields, count: 1) { _, field in
            let column = columns[fields[field]]
            return column.encode(values[column.sourceName] ?? column.missingValue)
        }
    }

    /// The sources of `side` that a request may give (`age`, `gender`, …), excluding `id`,
    /// `history` and aggregates, which a new user or item does not have.
    public func requestSources(_ side: FeatureSide) -> [String] {
        fields(of: side).map { columns[$0].sourceName }.filter { !RawFeatureTable.interactionSources.contains($0) }
    }

    /// Examples `(users.rows[i], items.rows[i], times[i])`: every field's bag, crosses included.
    /// `means[i]`, when given and not nil, replaces example i's user and item `rating_mean` values
    /// (training examples without their own rating).
    public func batch(
        users: EncodedEntities, userRows: [Int32], items: EncodedEntities, itemRows: [Int32], times: [Int64?]? = nil,
        means: [RatingMeans?]? = nil
    ) -> FeatureBatch {
        precondition(userRows.count == itemRows.count && (times?.count ?? userRows.count) == userRows.count)
        precondition((means?.count ?? userRows.count) == userRows.count)
        let meanFields = columns.indices.filter { columns[$0].spec?.sourceName == "rating_mean" }
        let contextFields = fields(of: .context)
        let crosses = crossedFields
        var batch = FeatureBatch(exampleCount: userRows.count, fieldCount: fieldCount)
        var slots = [[(Int32, Float)]](repeating: [], count: fieldCount)
        for example in 0..<userRows.count {
            for field in 0..<fieldCount { slots[field].removeAll(keepingCapacity: true) }
            users.collect(row: Int(userRows[example]), into: &slots)
            items.collect(row: Int(itemRows[example]), into: &slots)
            if let own = means?[example] {
                for field in meanFields {
                    slots[field] = columns[field].encode(.number(columns[field].side == .user ? own.user : own.item))
                }
            }
            for field in contextFields {
                let column = columns[field]
                slots[field] = column.encode(
                    Self.contextValue(column.sourceName, time: times?[example] ?? nil, trainingEnd: trainingEnd))
            }
            for field in crosses {
                slots[field] = columns[field].cross(slots)
            }
            batch.append(slots)
        }
        return batch
    }
}

/// Per-entity bags of the fields of one side: `offsets` runs entity-major over `fields`.
public struct EncodedEntities: Sendable, Equatable {
    /// The global field numbers this table fills.
    public let fields: [Int]
    public private(set) var count: Int
    public private(set) var offsets: [Int]
    public private(set) var indices: [Int32]
    public private(set) var weights: [Float]

    init(fields: [Int], count: Int, encode: (_ entity: Int, _ field: Int) -> [(Int32, Float)]) {
        self.fields = fields
        self.count = count
        var offsets = [0]
        var indices: [Int32] = []
        var weights: [Float] = []
        offsets.reserveCapacity(count * fields.count + 1)
        for entity in 0..<count {
            for field in fields.indices {
                for (index, weight) in encode(entity, field) {
                    indices.append(index)
                    weights.append(weight)
                }
                offsets.append(indices.count)
            }
        }
        self.offsets = offsets
        self.indices = indices
        self.weights = weights
    }

    /// Stored tables (a saved model's), checked: nil when the offsets, indices and weights do not
    /// describe `count` rows of `fields` inside a space of `featureCount` features.
    public init?(fields: [Int], count: Int, offsets: [Int], indices: [Int32], weights: [Float], featureCount: Int) {
        guard offsets.count == count * fields.count + 1, offsets.first == 0, offsets.last == indices.count,
            weights.count == indices.count, zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }),
            indices.allSatisfy({ $0 >= 0 && Int($0) < featureCount }), weights.allSatisfy(\.isFinite)
        else { return nil }
        self.fields = fields
        self.count = count
        self.offsets = offsets
        self.indices = indices
        self.weights = weights
    }

    /// This table's rows followed by `other`'s (of the same fields): row `count + r` is `other`'s row r.
    public func appending(_ other: EncodedEntities) -> EncodedEntities {
        precondition(other.fields == fields, "appending: tables of different fields")
        var result = self
        result.count += other.count
        result.offsets += other.offsets.dropFirst().map { $0 + indices.count }
        result.indices += other.indices
        result.weights += other.weights
        return result
    }

    /// The bags of `rows` as a batch of this table's fields only (a tower that reads one side).
    public func batch(rows: [Int32]) -> FeatureBatch {
        var batch = FeatureBatch(exampleCount: rows.count, fieldCount: fields.count)
        for row in rows {
            let start = Int(row) * fields.count
            for field in 0..<fields.count {
                let range = offsets[start + field]..<offsets[start + field + 1]
                batch.append(indices: indices[range], weights: weights[range])
            }
        }
        return batch
    }

    /// Entity `row`'s bag of its `field`-th field (position in `fields`).
    public func bag(row: Int, field: Int) -> (indices: ArraySlice<Int32>, weights: ArraySlice<Float>) {
        let range = offsets[row * fields.count + field]..<offsets[row * fields.count + field + 1]
        return (indices[range], weights[range])
    }

    func collect(row: Int, into slots: inout [[(Int32, Float)]]) {
        for (position, field) in fields.enumerated() {
            let range = offsets[row * fields.count + position]..<offsets[row * fields.count + position + 1]
            for slot in range { slots[field].append((indices[slot], weights[slot])) }
        }
    }
}

/// A batch of examples as bags of weighted features: example-major, then field
/// (`offsets[example * fieldCount + field]`), what a weighted embedding-bag pools.
public struct FeatureBatch: Sendable, Equatable {
    public let exampleCount: Int
    public let fieldCount: Int
    public private(set) var offsets: [Int] = [0]
    public private(set) var indices: [Int32] = []
    public private(set) var weights: [Float] = []

    public init(exampleCount: Int, fieldCount: Int) {
        self.exampleCount = exampleCount
        self.fieldCount = fieldCount
        offsets.reserveCapacity(exampleCount * fieldCount + 1)
    }

    mutating func append(indices bag: ArraySlice<Int32>, weights bagWeights: ArraySlice<Float>) {
        indices += bag
        weights += bagWeights
        offsets.append(indices.count)
    }

    mutating func append(_ slots: [[(Int32, Float)]]) {
        for slot in slots {
            for (index, weight) in slot {
                indices.append(index)
                weights.append(weight)
            }
            offsets.append(indices.count)
        }
    }

    /// Offsets of one bag per example holding all its fields (for sums over every feature).
    public var exampleOffsets: [Int] {
        stride(from: 0, through: exampleCount * fieldCount, by: fieldCount).map { offsets[$0] }
    }

    /// The bags of only `fields` (in that order), example-major: for a model part that reads some
    /// fields (the deep part of Wide & Deep skips crosses).
    public func selecting(fields: [Int]) -> FeatureBatch {
        var result = FeatureBatch(exampleCount: exampleCount, fieldCount: fields.count)
        for example in 0..<exampleCount {
            for field in fields {
                let range = offsets[example * fieldCount + field]..<offsets[example * fieldCount + field + 1]
                result.indices += indices[range]
                result.weights += weights[range]
                result.offsets.append(result.indices.count)
            }
        }
        return result
    }
}

/// One fitted column: its range of the index space and what maps a raw value into it.
public struct FittedFeatureColumn: Codable, Sendable, Equatable {
    /// The column as written (nil for a cross).
    public var spec: FeatureColumnSpec?
    public var cross: CrossedColumnSpec?
    public var side: FeatureSide?
    /// First index of this column in the shared space, and how many it has.
    public var offset: Int
    public var size: Int
    /// Categorical and multivalent: the training part's values; the last index is out-of-vocabulary.
    public var vocabulary: [String]?
    /// Numeric: the training part's mean and standard deviation (after `log`).
    public var mean: Float?
    public var deviation: Float?
    /// Bucketized: the boundaries (given, or the training part's quantiles).
    public var boundaries: [Float]?
    /// Cross: the crossed fields.
    public var parts: [Int]?

    public var name: String { spec?.name ?? cross!.name }
    /// The raw value of an entity that lacks this column's source.
    public var missingValue: RawFeatureValue {
        [.numeric, .bucketized].contains(spec?.kind) ? .number(nil) : .strings([])
    }
    public var sourceName: String { spec?.sourceName ?? "" }

    init(fitting spec: FeatureColumnSpec, side: FeatureSide, values: [RawFeatureValue], offset: Int) {
        self.spec = spec
        self.side = side
        self.offset = offset
        switch spec.kind {
        case .numeric:
            let numbers = values.compactMap(\.number).map { spec.log == true ? Foundation.log1p(max(0, $0)) : $0 }
            let mean = numbers.isEmpty ? 0 : numbers.reduce(0, +) / Float(numbers.count)
            let variance =
                numbers.isEmpty ? 0 : numbers.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(numbers.count)
            self.mean = mean
            self.deviation = variance > 0 ? variance.squareRoot() : 1
            size = 1
        case .bucketized:
            if let given = spec.boundaries {
                boundaries = given
            } else {
                let numbers = values.compactMap(\.number).map { spec.log == true ? Foundation.log1p(max(0, $0)) : $0 }
                    .sorted()
                let count = spec.quantiles!
                var cuts: [Float] = []
                if !numbers.isEmpty {
                    for q in 1..<count {
                        let cut = numbers[min(numbers.count - 1, q * numbers.count / count)]
                        if cuts.last.map({ cut > $0 }) ?? true { cuts.append(cut) }
                    }
                }
                boundaries = cuts
            }
            size = boundaries!.count + 2 // intervals, then missing
        case .categorical, .multivalent:
            var counts: [String: Int] = [:]
            for value in values {
                for string in Set(value.strings.map { Self.prefixed($0, spec.prefix) }) {
                    counts[string, default: 0] += 1
                }
            }
            let minimum = spec.minCount ?? 1
            vocabulary = counts.filter { $0.value >= minimum }.keys.sorted()
            size = vocabulary!.count + 1
        case .hashed:
            size = spec.buckets!
        }
    }

    init(cross: CrossedColumnSpec, parts: [Int], offset: Int) {
        self.cross = cross
        self.parts = parts
        self.offset = offset
        self.size = cross.buckets
    }

    static func prefixed(_ value: String, _ prefix: Int?) -> String {
        guard let prefix else { return value }
        return String(value.prefix(prefix))
    }

    /// The local index of a value: its vocabulary position or the out-of-vocabulary one.
    func vocabularyIndex(_ value: String) -> Int {
        guard let vocabulary else { return 0 }
        var low = 0
        var high = vocabulary.count
        while low < high {
            let middle = (low + high) / 2
            if vocabulary[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low < vocabulary.count && vocabulary[low] == value ? low : vocabulary.count
    }

    /// The global feature index of one value of a categorical or multivalent column (the
    /// out-of-vocabulary index for a value training did not see).
    public func featureIndex(of value: String) -> Int32 {
        Int32(offset + vocabularyIndex(Self.prefixed(value, spec?.prefix)))
    }

    /// Whether a value would be out of vocabulary.
    public func isOutOfVocabulary(_ value: String) -> Bool {
        vocabularyIndex(Self.prefixed(value, spec?.prefix)) == (vocabulary?.count ?? -1)
    }

    /// The active features (global index, weight) of one raw value.
    public func encode(_ value: RawFeatureValue) -> [(Int32, Float)] {
        guard let spec else { return [] }
        switch spec.kind {
        case .numeric:
            guard var number = value.number else { return [(Int32(offset), 0)] }
            if spec.log == true { number = Foundation.log1p(max(0, number)) }
            return [(Int32(offset), (number - mean!) / deviation!)]
        case .bucketized:
            guard var number = value.number else { return [(Int32(offset + size - 1), 1)] }
            if spec.log == true { number = Foundation.log1p(max(0, number)) }
            let bucket = boundaries!.firstIndex { number < $0 } ?? boundaries!.count
            return [(Int32(offset + bucket), 1)]
        case .categorical:
            guard let first = value.strings.first else { return [] }
            return [(Int32(offset + vocabularyIndex(Self.prefixed(first, spec.prefix))), 1)]
        case .hashed:
            guard let first = value.strings.first else { return [] }
            let hash = StableHash.fnv1a(Self.prefixed(first, spec.prefix))
            return [(Int32(offset + Int(hash % UInt64(size))), 1)]
        case .multivalent:
            let strings = value.strings
            guard !strings.isEmpty else { return [] }
            let weight: Float
            switch spec.combiner ?? .sqrtn {
            case .sum: weight = 1
            case .mean: weight = 1 / Float(strings.count)
            case .sqrtn: weight = 1 / Float(strings.count).squareRoot()
            }
            var byIndex: [Int: Float] = [:]
            for string in strings { byIndex[vocabularyIndex(string), default: 0] += weight }
            return byIndex.keys.sorted().map { (Int32(offset + $0), byIndex[$0]!) }
        }
    }

    /// A cross's features from its parts' active features: every combination hashed into the
    /// buckets (by the parts' feature indices), weighted by the product of weights.
    func cross(_ slots: [[(Int32, Float)]]) -> [(Int32, Float)] {
        var combinations: [(hash: UInt64, weight: Float)] = [(StableHash.basis, 1)]
        for part in parts! {
            var next: [(UInt64, Float)] = []
            for (index, weight) in slots[part] {
                for (hash, product) in combinations {
                    next.append((StableHash.combine(hash, UInt64(bitPattern: Int64(index))), product * weight))
                }
            }
            combinations = next
        }
        var byIndex: [Int: Float] = [:]
        for (hash, weight) in combinations { byIndex[Int(hash % UInt64(size)), default: 0] += weight }
        return byIndex.keys.sorted().map { (Int32(offset + $0), byIndex[$0]!) }
    }
}

/// FNV-1a, 64 bits: the same hash on every run and machine (Swift's `Hasher` is seeded per process).
enum StableHash {
    static let basis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01b3

    static func fnv1a(_ text: String) -> UInt64 {
        var hash = basis
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* prime }
        return hash
    }

    static func combine(_ hash: UInt64, _ value: UInt64) -> UInt64 {
        var hash = hash
        for shift in stride(from: 0, to: 64, by: 8) { hash = (hash ^ ((value >> UInt64(shift)) & 0xff)) &* prime }
        return hash
    }
}
