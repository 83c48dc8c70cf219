import Foundation

/// A loaded data set: interactions, the ID maps that name their indices, and whatever side data the
/// source had (titles, genres, years, tags, user attributes, social links).
public struct Dataset: Sendable {
    /// A short name for reports (`ml-100k`, `synthetic-small`, a file name).
    public var name: String
    public var format: DatasetFormat
    public var interactions: Interactions
    public var users: IDMap
    public var items: IDMap
    /// Item side data aligned with `items`, when the source has any.
    public var itemCatalog: ItemCatalog?
    /// User side data aligned with `users`, when the source has any.
    public var userAttributes: AttributeTable?
    /// Directed user → user links (HetRec friends), as dense indices.
    public var userLinks: [UserLink]
    /// What the loader read and skipped.
    public var report: LoadReport

    public init(
        name: String, format: DatasetFormat, interactions: Interactions, users: IDMap, items: IDMap,
        itemCatalog: ItemCatalog? = nil, userAttributes: AttributeTable? = nil, userLinks: [UserLink] = [],
        report: LoadReport = LoadReport()
    ) {
        self.name = name
        self.format = format
        self.interactions = interactions
        self.users = users
        self.items = items
        self.itemCatalog = itemCatalog
        self.userAttributes = userAttributes
        self.userLinks = userLinks
        self.report = report
    }

    /// The user × item matrix (CSR).
    public func userItemMatrix() -> InteractionMatrix { InteractionMatrix.byUser(interactions) }

    /// The item × user matrix (CSC).
    public func itemUserMatrix() -> InteractionMatrix { InteractionMatrix.byItem(interactions) }

    /// The side data models may train on, aligned with this data set's indices.
    public var side: SideData { SideData(items: itemCatalog, users: userAttributes) }
}

/// What a model may read beside the interactions: item metadata (genres, tags, titles) and user
/// attributes, aligned with the training interactions' item and user indices. Empty when the source
/// has none (a session click file, a split folder).
public struct SideData: Sendable, Equatable {
    public var items: ItemCatalog?
    public var users: AttributeTable?
    /// The feature columns feature-aware models read (`--features FILE.yaml`); nil for the default
    /// set of the data (`FeatureSpec.default`).
    public var features: FeatureSpec?

    public init(items: ItemCatalog? = nil, users: AttributeTable? = nil, features: FeatureSpec? = nil) {
        self.items = items
        self.users = users
        self.features = features
    }
}

/// A directed link between two users.
public struct UserLink: Sendable, Equatable, Hashable {
    public var from: Int32
    public var to: Int32
    public init(from: Int32, to: Int32) {
        self.from = from
        self.to = to
    }
}

/// The formats `Dataset.load` recognises.
public enum DatasetFormat: String, Codable, Sendable, CaseIterable {
    /// MovieLens 100K folder (`u.data`, `u.item`, `u.user`, `u.genre`, `u.occupation`, `u1`–`u5`, `ua`, `ub`).
    case movieLens100K = "movielens-100k"
    /// MovieLens 1M / 10M folder or file (`ratings.dat`, `movies.dat`, `users.dat`, `::` separated).
    case movieLensDat = "movielens-dat"
    /// MovieLens 20M / 25M / latest folder or file (`ratings.csv`, `movies.csv`, `tags.csv`, `links.csv`).
    case movieLensCSV = "movielens-csv"
    /// HetRec 2011 Last.fm folder (`user_artists.dat`, `artists.dat`, `tags.dat`, …).
    case hetrecLastFM = "hetrec-lastfm"
    /// A session click file (`SessionId, ItemId, Time`), sessions as users.
    case sessions
    /// A folder written by `reckit data synth`.
    case synthetic
    /// Any delimited interaction file through a column mapping.
    case delimited
    /// A folder written by `reckit data export` (`export.json`, partitioned CSV).
    case export = "reckit-export"

    /// The rating scale the format declares (MovieLens: whole stars 1–5, or half stars 0.5–5 for
    /// the CSV releases; the synthetic set 1–5), nil when it declares none.
    public var ratingScale: ClosedRange<Float>? {
        switch self {
        case .movieLens100K, .movieLensDat, .synthetic: return 1...5
        case .movieLensCSV: return 0.5...5
        default: return nil
        }
    }
}

/// Values of one multivalued attribute (genres, tags) per entity, over a shared vocabulary.
public struct MultiValuedColumn: Sendable, Equatable {
    /// The distinct values, in first-seen order (or the source's own order, e.g. `u.genre`).
    public var vocabulary: [String]
    /// `[entityCount + 1]` offsets into `values`.
    public var offsets: [Int]
    /// Vocabulary indices, entity by entity.
    public var values: [Int32]

    /// Builds from per-entity lists of strings, interning them in first-seen order unless a
    /// vocabulary is given (unknown values are then added at its end).
    public init(lists: [[String]], vocabulary: [String] = []) {
        var vocabulary = vocabulary
        var index: [String: Int32] = [:]
        for (position, value) in vocabulary.enumerated() { index[value] = Int32(position) }
        var offsets = [0]
        var values: [Int32] = []
        for list in lists {
            for value in list {
                if let code = index[value] {
                    values.append(code)
                } else {
                    let code = Int32(vocabulary.count)
                    vocabulary.append(value)
                    index[value] = code
                    values.append(code)
                }
            }
            offsets.append(values.count)
        }
        self.vocabulary = vocabulary
        self.offsets = offsets
        self.values = values
    }

    public var entityCount: Int { offsets.count - 1 }

    /// The vocabulary indices of `entity`'s values.
    public func codes(of entity: Int) -> ArraySlice<Int32> { values[offsets[entity]..<offsets[entity + 1]] }

    /// The value strings of `entity`.
    public func values(of entity: Int) -> [String] {
        values[offsets[entity]..<offsets[entity + 1]].map { vocabulary[Int($0)] }
    }
}

/// Item side data aligned with a data set's item `IDMap`.
public struct ItemCatalog: Sendable, Equatable {
    /// Display titles; nil where the source has none for an item.
    public var titles: [String?]
    /// Release years; nil where unknown.
    public var years: [Int?]
    public var genres: MultiValuedColumn?
    public var tags: MultiValuedColumn?
    /// Other per-item strings by name (`imdbId`, `url`, `releaseDate`, …).
    public var attributes: [String: [String?]]

    public init(
        titles: [String?], years: [Int?]? = nil, genres: MultiValuedColumn? = nil, tags: MultiValuedColumn? = nil,
        attributes: [String: [String?]] = [:]
    ) {
        self.titles = titles
        self.years = years ?? Array(repeating: nil, count: titles.count)
        self.genres = genres
        self.tags = tags
        self.attributes = attributes
    }

    public var count: Int { titles.count }

    /// Items whose title equals `query` (case-insensitive), else those whose title contains it.
    public func search(title query: String) -> [Int32] {
        let wanted = query.lowercased()
        let exact = titles.indices.filter { titles[$0]?.lowercased() == wanted }
        if !exact.isEmpty { return exact.map { Int32($0) } }
        return titles.indices.filter { titles[$0]?.lowercased().contains(wanted) ?? false }.map { Int32($0) }
    }

    /// Genres and tags as one token column (`genre:Comedy`, `tag:pixar`), what metadata-aware
    /// embedding models read; nil when the catalog has neither. MovieLens's "(no genres listed)" is
    /// no genre.
    public func metadataTokens() -> MultiValuedColumn? {
        guard genres != nil || tags != nil else { return nil }
        let lists = (0..<count).map { item in
            (genres?.values(of: item).filter { $0 != "(no genres listed)" }.map { "genre:" + $0 } ?? [])
                + (tags?.values(of: item).map { "tag:" + $0 } ?? [])
        }
        return MultiValuedColumn(lists: lists)
    }

    /// The year in a trailing `(1995)` of a MovieLens title.
    public static func year(fromTitle title: String) -> Int? {
        let trimmed = title.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasSuffix(")"), let open = trimmed.lastIndex(of: "(") else { return nil }
        let inside = trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]
        guard inside.count == 4, let year = Int(inside), (1800...2200).contains(year) else { return nil }
        return year
    }
}

/// Named string columns aligned with an `IDMap` (user age, gender, occupation, zip code).
public struct AttributeTable: Sendable, Equatable {
    public var columns: [String: [String?]]
    public var columnOrder: [String]

    public init(columns: [(String, [String?])]) {
        self.columns = Dictionary(uniqueKeysWithValues: columns)
        self.columnOrder = columns.map(\.0)
    }
}

extension Dataset {
    /// This data set's side data re-indexed for other ID maps (a split folder's, which index the same
    /// raw IDs their own way): users and items matched by raw ID, those this data set lacks get no
    /// metadata.
    public func side(alignedTo users: IDMap, items: IDMap) -> SideData {
        let userSource = users.ids.map { self.users.index(of: $0).map(Int.init) }
        let itemSource = items.ids.map { self.items.index(of: $0).map(Int.init) }
        var side = SideData()
        if let attributes = userAttributes {
            side.users = AttributeTable(
                columns: attributes.columnOrder.map { name in
                    let values = attributes.columns[name]!
                    return (name, userSource.map { $0.flatMap { values[$0] } })
                })
        }
        if let catalog = itemCatalog {
            func realigned(_ column: MultiValuedColumn?) -> MultiValuedColumn? {
                column.map { column in
                    MultiValuedColumn(
                        lists: itemSource.map { $0.map { column.values(of: $0) } ?? [] }, vocabulary: column.vocabulary)
                }
            }
            side.items = ItemCatalog(
                titles: itemSource.map { $0.flatMap { catalog.titles[$0] } },
                years: itemSource.map { $0.flatMap { catalog.years[$0] } }, genres: realigned(catalog.genres),
                tags: realigned(catalog.tags),
                attributes: catalog.attributes.mapValues { values in itemSource.map { $0.flatMap { values[$0] } } })
        }
        return side
    }
}
