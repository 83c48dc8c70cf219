import Foundation

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

    /// The sources this table has, sorted.
    public var sourceNames: [String] { columns.keys.sorted() }

    public func has(_ source: String) -> Bool { columns[source] != nil }

    public func values(_ source: String) -> [RawFeatureValue]? { columns[source] }

    /// Users: their attributes, `id` (the dense index), `history` (training items' indices),
    /// `rating_count` and `rating_mean` over `train`.
    public static func users(_ train: Interactions, side: SideData) -> RawFeatureTable {
        var columns = aggregates(train, of: train.users, count: train.userCount)
        columns["id"] = (0..<train.userCount).map { .strings([String($0)]) }
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
    /// `rating_mean` over `train`.
    public static func items(_ train: Interactions, side: SideData) -> RawFeatureTable {
        var columns = aggregates(train, of: train.items, count: train.itemCount)
        columns["id"] = (0..<train.itemCount).map { .strings([String($0)]) }
        if let catalog = side.items, catalog.count == train.itemCount {
            if let genres = catalog.genres {
                columns["genres"] = (0..<catalog.count).map { item in
                    .strings(genres.values(of: item).filter { $0 != "(no genres listed)" })
                }
            }
            if let tags = catalog.tags {
                columns["tags"] = (0..<catalog.count).map { item in .strings(Array(Set(tags.values(of: item))).sorted())
                }
            }
            columns["year"] = catalog.years.map { year in .number(year.map(Float.init)) }
            columns["title_words"] = catalog.titles.map { title in .strings(titleWords(title ?? "")) }
            for (name, values) in catalog.attributes where values.count == catalog.count {
                columns[name] = values.map { value in
                    value.flatMap { $0.isEmpty ? nil : $0 }.map { .strings([$0]) } ?? .strings([])
                }
            }
        }
        return RawFeatureTable(entityCount: train.itemCount, columns: columns)
    }

    /// Lower-cased words of a title without its trailing `(1995)`.
    static func titleWords(_ title: String) -> [String] {
        var text = title
        if ItemCatalog.year(fromTitle: title) != nil, let open = title.lastIndex(of: "(") {
            text = String(title[..<open])
        }
        let words = text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
        return Array(Set(words)).sorted()
    }

    /// `rating_count` (interactions in `train`) and `rating_mean` (mean rating; missing without
    /// ratings or interactions) per entity.
    static func aggregates(_ train: Interactions, of entities: [Int32], count: Int) -> [String: [RawFeatureValue]] {
        var counts = [Int](repeating: 0, count: count)
        var sums = [Double](repeating: 0, count: count)
        for row in 0..<train.count {
            counts[Int(entities[row])] += 1
            if let ratings = train.ratings { sums[Int(entities[row])] += Double(ratings[row]) }
        }
        var columns: [String: [RawFeatureValue]] = ["rating_count": counts.map { .number(Float($0)) }]
        if train.ratings != nil {
            columns["rating_mean"] = (0..<count).map {
                counts[$0] > 0 ? .number(Float(sums[$0] / Double(counts[$0]))) : .number(nil)
            }
        }
        return columns
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
