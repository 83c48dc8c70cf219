/// Which features a feature-aware model reads: TensorFlow-style feature columns over the user's
/// attributes, the item's metadata, aggregates of the training part and each example's time.
///
/// Written by hand as YAML (`reckit train --features FILE.yaml`, a suite's `features:`) or taken
/// from `FeatureSpec.default(for:)`; fitted on a training part into `FeatureTransform`, which a
/// model saves so that a new request is transformed exactly as in training.
///
/// ```yaml
/// user:
///   - {name: age, kind: bucketized, boundaries: [18, 25, 35, 45, 50, 56]}
///   - {name: occupation, kind: categorical}
///   - {name: zip, kind: hashed, buckets: 100, prefix: 2}
/// item:
///   - {name: genres, kind: multivalent, combiner: sqrtn}
///   - {name: year, kind: numeric}
/// crossed:
///   - {name: gender_x_genres, columns: [gender, genres], buckets: 1000}
/// ```
public struct FeatureSpec: Codable, Sendable, Equatable {
    public var user: [FeatureColumnSpec]
    public var item: [FeatureColumnSpec]
    /// Columns of each example's time (`hour`, `weekday`, `example_age`).
    public var context: [FeatureColumnSpec]
    public var crossed: [CrossedColumnSpec]

    public init(
        user: [FeatureColumnSpec] = [], item: [FeatureColumnSpec] = [], context: [FeatureColumnSpec] = [],
        crossed: [CrossedColumnSpec] = []
    ) {
        self.user = user
        self.item = item
        self.context = context
        self.crossed = crossed
    }

    public var isEmpty: Bool { user.isEmpty && item.isEmpty && context.isEmpty && crossed.isEmpty }

    /// Every column with the side it reads (crossed columns last), in index-space order.
    var allColumns: [(side: FeatureSide, spec: FeatureColumnSpec)] {
        user.map { (.user, $0) } + item.map { (.item, $0) } + context.map { (.context, $0) }
    }

    /// Checks names, kinds, options and crosses; `FeatureSpecError.path` names the column
    /// (`item[1].boundaries`) so a YAML reader can point at its line.
    public func validate() throws(FeatureSpecError) {
        var names: Set<String> = []
        for (side, list) in [(FeatureSide.user, user), (.item, item), (.context, context)] {
            for (position, column) in list.enumerated() {
                let path = "\(side.rawValue)[\(position)]"
                guard names.insert(column.name).inserted else {
                    throw FeatureSpecError(path: path + ".name", "another column is already called '\(column.name)'")
                }
                try column.validate(path: path, side: side)
            }
        }
        for (position, cross) in crossed.enumerated() {
            let path = "crossed[\(position)]"
            guard names.insert(cross.name).inserted else {
                throw FeatureSpecError(path: path + ".name", "another column is already called '\(cross.name)'")
            }
            guard cross.columns.count >= 2 else {
                throw FeatureSpecError(path: path + ".columns", "a cross needs at least two columns")
            }
            for name in cross.columns {
                guard let column = allColumns.first(where: { $0.spec.name == name })?.spec else {
                    throw FeatureSpecError(path: path + ".columns", "no column called '\(name)' to cross")
                }
                guard column.kind != .numeric else {
                    throw FeatureSpecError(
                        path: path + ".columns", "'\(name)' is numeric; cross its bucketized form instead")
                }
            }
            guard (1...(1 << 24)).contains(cross.buckets) else {
                throw FeatureSpecError(path: path + ".buckets", "must be in 1...16777216, not \(cross.buckets)")
            }
        }
    }
}

/// Whose values a column reads.
public enum FeatureSide: String, Codable, Sendable {
    case user, item, context
}

/// How a column turns raw values into features.
public enum FeatureKind: String, Codable, Sendable, CaseIterable {
    /// One feature whose value is the number standardised with the training part's mean and
    /// standard deviation (missing: 0, the mean).
    case numeric
    /// One feature per interval between `boundaries` (or training-part `quantiles`), plus one for
    /// a missing value.
    case bucketized
    /// One feature per value seen in training (at least `min_count` times) plus an
    /// out-of-vocabulary feature for any other value.
    case categorical
    /// `buckets` features; a value's feature is its stable hash modulo `buckets`.
    case hashed
    /// Several values at once (genres, tags, the user's history), one feature each, weighted by
    /// the combiner; out-of-vocabulary values share one feature.
    case multivalent
}

/// How a multivalent column weights its n values.
public enum FeatureCombiner: String, Codable, Sendable, CaseIterable {
    /// Each value weighs 1.
    case sum
    /// 1/n.
    case mean
    /// 1/√n (TensorFlow's `sqrtn`, SVD++'s history pooling).
    case sqrtn
}

/// One feature column as written in a feature file.
public struct FeatureColumnSpec: Codable, Sendable, Equatable {
    public var name: String
    /// The raw value read (default: `name`). Users: an attribute of the data (`age`, `gender`,
    /// `occupation`, `zip`, …), `id`, `history`, `rating_count`, `rating_mean`. Items: `id`,
    /// `genres`, `tags`, `year`, `title_words`, a catalog attribute, `rating_count`, `rating_mean`.
    /// Context: `hour`, `weekday`, `example_age` (days before the end of the training part).
    public var source: String?
    public var kind: FeatureKind
    /// Bucketized: ascending interval boundaries (a value equal to one goes above it).
    public var boundaries: [Float]?
    /// Bucketized: boundaries at this many training-part quantiles instead.
    public var quantiles: Int?
    /// Hashed: the number of hash buckets.
    public var buckets: Int?
    /// Multivalent: how values are weighted.
    public var combiner: FeatureCombiner?
    /// Categorical and multivalent: values seen fewer times in training go out of vocabulary.
    public var minCount: Int?
    /// Numeric and bucketized: log(1 + x) before anything else (counts).
    public var log: Bool?
    /// Categorical and hashed: only the first `prefix` characters (a zip code's area).
    public var prefix: Int?

    public init(
        _ name: String, source: String? = nil, kind: FeatureKind, boundaries: [Float]? = nil, quantiles: Int? = nil,
        buckets: Int? = nil, combiner: FeatureCombiner? = nil, minCount: Int? = nil, log: Bool? = nil,
        prefix: Int? = nil
    ) {
        self.name = name
        self.source = source
        self.kind = kind
        self.boundaries = boundaries
        self.quantiles = quantiles
        self.buckets = buckets
        self.combiner = combiner
        self.minCount = minCount
        self.log = log
        self.prefix = prefix
    }

    enum CodingKeys: String, CodingKey {
        case name, source, kind, boundaries, quantiles, buckets, combiner, minCount = "min_count", log, prefix
    }

    /// The raw value this column reads.
    public var sourceName: String { source ?? name }

    static let contextSources = ["hour", "weekday", "example_age"]

    func validate(path: String, side: FeatureSide) throws(FeatureSpecError) {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw FeatureSpecError(path: path + ".name", "'\(name)' is not a name (letters, digits, _ and -)")
        }
        if side == .context && !Self.contextSources.contains(sourceName) {
            throw FeatureSpecError(
                path: path + ".source",
                "context columns read \(Self.contextSources.joined(separator: ", ")), not '\(sourceName)'")
        }
        func refuse(_ key: String, _ present: Bool) throws(FeatureSpecError) {
            if present { throw FeatureSpecError(path: path + "." + key, "does not apply to a \(kind.rawValue) column") }
        }
        let numericLike = kind == .numeric || kind == .bucketized
        try refuse("boundaries", boundaries != nil && kind != .bucketized)
        try refuse("quantiles", quantiles != nil && kind != .bucketized)
        try refuse("buckets", buckets != nil && kind != .hashed)
        try refuse("combiner", combiner != nil && kind != .multivalent)
        try refuse("min_count", minCount != nil && kind != .categorical && kind != .multivalent)
        try refuse("log", log != nil && !numericLike)
        try refuse("prefix", prefix != nil && kind != .categorical && kind != .hashed)
        switch kind {
        case .bucketized:
            switch (boundaries, quantiles) {
            case (let boundaries?, nil):
                guard !boundaries.isEmpty, boundaries.allSatisfy(\.isFinite),
                    zip(boundaries, boundaries.dropFirst()).allSatisfy({ $0 < $1 })
                else {
                    throw FeatureSpecError(path: path + ".boundaries", "must be finite and strictly ascending")
                }
            case (nil, let quantiles?):
                guard (2...1000).contains(quantiles) else {
                    throw FeatureSpecError(path: path + ".quantiles", "must be in 2...1000, not \(quantiles)")
                }
            default:
                throw FeatureSpecError(path: path, "a bucketized column takes exactly one of boundaries and quantiles")
            }
        case .hashed:
            guard let buckets else { throw FeatureSpecError(path: path + ".buckets", "a hashed column needs buckets") }
            guard (1...(1 << 24)).contains(buckets) else {
                throw FeatureSpecError(path: path + ".buckets", "must be in 1...16777216, not \(buckets)")
            }
        default: break
        }
        if let minCount, minCount < 1 {
            throw FeatureSpecError(path: path + ".min_count", "must be at least 1, not \(minCount)")
        }
        if let prefix, prefix < 1 {
            throw FeatureSpecError(path: path + ".prefix", "must be at least 1, not \(prefix)")
        }
    }
}

/// A cross of two or more non-numeric columns (any sides): one hashed feature per combination of
/// their values, weighted by the product of the values' weights.
public struct CrossedColumnSpec: Codable, Sendable, Equatable {
    public var name: String
    /// The names of the crossed columns.
    public var columns: [String]
    public var buckets: Int

    public init(_ name: String, columns: [String], buckets: Int) {
        self.name = name
        self.columns = columns
        self.buckets = buckets
    }
}

/// A feature specification that cannot be used: `path` names the column and key
/// (`item[1].boundaries`), so that a file reader can report the line.
public struct FeatureSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

extension FeatureSpec {
    /// The feature set used when none is given, from what the data has: both IDs, the training
    /// part's rating count (log) and mean per user and item, and by name the sources the loaders
    /// read — `age` (bucketized at 18, 25, 35, 45, 50, 56), `gender`, `occupation`, `zip` (its first
    /// digit), other user attributes as categoricals; `genres` (sqrtn), `tags` (sqrtn, seen on at
    /// least 2 training items), `year` (numeric and in decades); crosses of gender and age with
    /// genres when both exist.
    public static func `default`(users: RawFeatureTable, items: RawFeatureTable) -> FeatureSpec {
        var spec = FeatureSpec()
        spec.user.append(FeatureColumnSpec("user_id", source: "id", kind: .categorical))
        for name in users.sourceNames where !RawFeatureTable.interactionSources.contains(name) {
            switch name {
            case "age":
                spec.user.append(FeatureColumnSpec("age", kind: .bucketized, boundaries: [18, 25, 35, 45, 50, 56]))
            case "zip", "zip_code", "zipcode":
                spec.user.append(FeatureColumnSpec(name, kind: .categorical, prefix: 1))
            default:
                spec.user.append(FeatureColumnSpec(name, kind: .categorical))
            }
        }
        spec.user.append(FeatureColumnSpec("user_rating_freq", source: "rating_count", kind: .numeric, log: true))
        if users.has("rating_mean") {
            spec.user.append(FeatureColumnSpec("user_rating_mean", source: "rating_mean", kind: .numeric))
        }
        spec.item.append(FeatureColumnSpec("item_id", source: "id", kind: .categorical))
        if items.has("genres") {
            spec.item.append(FeatureColumnSpec("genres", kind: .multivalent, combiner: .sqrtn))
        }
        if items.has("tags") {
            spec.item.append(FeatureColumnSpec("tags", kind: .multivalent, combiner: .sqrtn, minCount: 2))
        }
        if let years = items.values("year"), years.contains(where: { $0.number != nil }) {
            spec.item.append(FeatureColumnSpec("year", kind: .numeric))
            spec.item.append(
                FeatureColumnSpec(
                    "decade", source: "year", kind: .bucketized,
                    boundaries: stride(from: 1930, through: 2020, by: 10).map(Float.init)))
        }
        spec.item.append(FeatureColumnSpec("freq_rating", source: "rating_count", kind: .numeric, log: true))
        if items.has("rating_mean") {
            spec.item.append(FeatureColumnSpec("avg_rating", source: "rating_mean", kind: .numeric))
        }
        if items.has("genres") {
            for name in ["gender", "age"] where spec.user.contains(where: { $0.name == name }) {
                spec.crossed.append(CrossedColumnSpec("\(name)_x_genres", columns: [name, "genres"], buckets: 1000))
            }
        }
        return spec
    }
}
