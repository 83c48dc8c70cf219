import Foundation
import RecKitTensor

/// One raw value of a column for one entity: strings (one for a categorical value, several for a
/// multivalent one, none when missing) or a number (nil when missing).
public enum RawFeatureValue: Sendable, Equatable {
    case strings([String])
    case number(Float?)

    /// The value as strings (a number printed, e.g. for a categorical column over `year`).
    var strings: [String] {
        switch self {
        case .strings(let values): return values
        case .number(let value?): return [value == value.rounded() ? String(Int(value)) : String(value)]
        case .number(nil): return []
        }
    }

    /// The value as a number (a single numeric string parsed; nil otherwise).
    var number: Float? {
        switch self {
        case .number(let value): return value
        case .strings(let values): return values.count == 1 ? Float(values[0]).flatMap { $0.isFinite ? $0 : nil } : nil
        }
    }
}

/// The raw values every column can read, per user or per item, built from side data and the
/// training interactions (aggregates are the training part's only).
public struct RawFeatureTable: Sendable {
    public let entityCount: Int
    private var columns: [String: [RawFeatureValue]]

    init(entityCount: Int, columns: [String: [RawFeatureValue]]) {
        self.entityCount = entityCount
        self.columns = columns
    }

    /// A table of `entityCount` entities with no sources: the side of a spec that reads none.
    public static func empty(entityCount: Int) -> RawFeatureTable {
        RawFeatureTable(entityCount: entityCount, columns: [:])
    }

    /// The sources this table has, sorted.
    public var sourceNames: [String] { columns.keys.sorted() }

    public func has(_ source: String) -> Bool { columns[source] != nil }

    /// The sources only interactions give — a new user or item has none of them.
    public static let interactionSources: Set<String> = ["id", "history", "rating_count", "rating_mean"]

    public func values(_ source: String) -> [RawFeatureValue]? { columns[source] }

    /// Users: their attributes, `id` (the dense index), `history` (training items' indices),
    /// `rating_count` and `rating_mean` over `train`. A user without training interactions has
    /// none of these four, exactly as a new one (`interactionSources`).
    public static func users(_ train: Interactions, side: SideData) -> RawFeatureTable {
        var columns = aggregates(train, of: train.users, count: train.userCount)
        columns["id"] = ids(train.countsPerUser())
        var histories = [[String]](repeating: [], count: train.userCount)
        for row in 0..<train.count { histories[Int(train.users[row])].append(String(train.items[row])) }
        columns["history"] = histories.map { .strings($0) }
        if let attributes = side.users {
            for (name, values) in attributes.columns where values.count == train.userCount {
                columns[name] = values.map { value in
                    value.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
                        .map { .strings([$0]) } ?? .strings([])
                }
            }
        }
        return RawFeatureTable(entityCount: train.userCount, columns: columns)
    }

    /// Items: `id`, `genres`, `tags`, `year`, `title_words`, catalog attributes, `rating_count` and
    /// `rating_mean` over `train` (an item without training interactions: no ID or aggregates).
    public static func items(_ train: Interactions, side: SideData) -> RawFeatureTable {
        var columns = aggregates(train, of: train.items, count: train.itemCount)
        columns["id"] = ids(train.countsPerItem())
        if let catalog = side.items, catalog.count == train.itemCount {
            columns.merge(items(catalog: catalog).columns) { _, catalogValue in catalogValue }
        }
        return RawFeatureTable(entityCount: train.itemCount, columns: columns)
    }

    /// Items known only by a catalog (brand-new ones): `genres`, `tags`, `year`, `title_words` and the
    /// catalog's attributes, no ID or aggregates.
    public static func items(catalog: ItemCatalog) -> RawFeatureTable {
        var columns: [String: [RawFeatureValue]] = [:]
        if let genres = catalog.genres {
            columns["genres"] = (0..<catalog.count).map { item in
                .strings(genres.values(of: item).filter { $0 != "(no genres listed)" })
            }
        }
        if let tags = catalog.tags {
            columns["tags"] = (0..<catalog.count).map { item in .strings(Array(Set(tags.values(of: item))).sorted()) }
        }
        columns["year"] = catalog.years.map { year in .number(year.map(Float.init)) }
        columns["title_words"] = catalog.titles.map { title in .strings(titleWords(title ?? "")) }
        for (name, values) in catalog.attributes where values.count == catalog.count {
            columns[name] = values.map { value in
                value.flatMap { $0.isEmpty ? nil : $0 }.map { .strings([$0]) } ?? .strings([])
            }
        }
        return RawFeatureTable(entityCount: catalog.count, columns: columns)
    }

    /// Lower-cased distinct words of a title without its trailing `(1995)`, sorted.
    static func titleWords(_ title: String) -> [String] { Array(Set(titleSequence(title))).sorted() }

    /// Lower-cased words of a title without its trailing `(1995)`, in order (a text model's input).
    public static func titleSequence(_ title: String) -> [String] {
        var text = title
        if ItemCatalog.year(fromTitle: title) != nil, let open = title.lastIndex(of: "(") {
            text = String(title[..<open])
        }
        return text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }

    /// Each entity's dense index as its `id`, for those with training interactions.
    static func ids(_ counts: [Int]) -> [RawFeatureValue] {
        counts.indices.map { counts[$0] > 0 ? .strings([String($0)]) : .strings([]) }
    }

    /// `rating_count` (interactions in `train`) and `rating_mean` (mean rating; missing without
    /// ratings) per entity; both missing for an entity without training interactions, as for a new one.
    static func aggregates(_ train: Interactions, of entities: [Int32], count: Int) -> [String: [RawFeatureValue]] {
        var counts = [Int](repeating: 0, count: count)
        var sums = [Double](repeating: 0, count: count)
        for row in 0..<train.count {
            counts[Int(entities[row])] += 1
            if let ratings = train.ratings { sums[Int(entities[row])] += Double(ratings[row]) }
        }
        var columns: [String: [RawFeatureValue]] = [
            "rating_count": counts.map { $0 > 0 ? .number(Float($0)) : .number(nil) }
        ]
        if train.ratings != nil {
            columns["rating_mean"] = (0..<count).map {
                counts[$0] > 0 ? .number(Float(sums[$0] / Double(counts[$0]))) : .number(nil)
            }
        }
        return columns
    }

    /// Each training row's user and item `rating_mean` out of fold: the rows are dealt into `folds`
    /// folds (by a fixed hash of the row number) and a row sees the means of its user's and item's
    /// ratings in the other folds (missing when they have none there). The full means contain the
    /// very rating a model is asked to predict, a target leak that rewards trusting the means of
    /// entities with few ratings; leaving out the row alone leaks the other way (the ID and count
    /// give the sum, and sum − (n − 1) × mean is the rating), which a fold of many rows dilutes. Nil
    /// without ratings.
    public static func outOfFoldMeans(_ train: Interactions, folds: Int = 5) -> [RatingMeans]? {
        guard let ratings = train.ratings else { return nil }
        let fold = (0..<train.count).map { row in
            var hash = SplitMix64(seed: UInt64(row))
            return Int(hash.next() % UInt64(folds))
        }
        func means(_ entities: [Int32], count: Int) -> [Float?] {
            var sums = [Double](repeating: 0, count: count * folds)
            var counts = [Int](repeating: 0, count: count * folds)
            for row in 0..<train.count {
                sums[Int(entities[row]) * folds + fold[row]] += Double(ratings[row])
                counts[Int(entities[row]) * folds + fold[row]] += 1
            }
            var totalSums = [Double](repeating: 0, count: count)
            var totalCounts = [Int](repeating: 0, count: count)
            for entity in 0..<count {
                for part in 0..<folds {
                    totalSums[entity] += sums[entity * folds + part]
                    totalCounts[entity] += counts[entity * folds + part]
                }
            }
            return (0..<train.count).map { row in
                let entity = Int(entities[row])
                let others = totalCounts[entity] - counts[entity * folds + fold[row]]
                guard others > 0 else { return nil }
                return Float((totalSums[entity] - sums[entity * folds + fold[row]]) / Double(others))
            }
        }
        let users = means(train.users, count: train.userCount)
        let items = means(train.items, count: train.itemCount)
        return (0..<train.count).map { RatingMeans(user: users[$0], item: items[$0]) }
    }

    /// One entity's raw values from `key=value` text (`age=25`, `genres=Comedy|Drama`): numbers
    /// where the text is one, `|` separating several values.
    public static func values(fromText pairs: [String: String]) -> [String: RawFeatureValue] {
        pairs.mapValues { text in
            let parts = text.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
            return .strings(parts)
        }
    }
}

/// One example's `rating_mean` values for its user and item (nil: missing), replacing the
/// entities' own (see `RawFeatureTable.outOfFoldMeans`).
public struct RatingMeans: Sendable, Equatable {
    public var user: Float?
    public var item: Float?

    public init(user: Float?, item: Float?) {
        self.user = user
        self.item = item
    }
}
