import RecKitData
import RecKitNN
import RecKitTensor

/// The session item-KNN baseline of GRU4Rec's paper (Hidasi et al. 2016): items are alike when
/// they occur in the same sessions, sim(i, j) = c_ij / (√(s_i · s_j) + λ), with c_ij the sessions
/// holding both, s_i the sessions holding i and λ (`regularization`, 20) damping rare items; each
/// item keeps its `neighbors` (100) most similar other items. A session is scored from its last
/// click only: item j gets sim(last, j) if j is one of the last click's neighbours, else 0.
///
/// Training sequences are the users (sessions) of the training data, in time order. Equal
/// similarities at the K-th neighbour go to the item in more sessions, then to the lower index (as
/// `itemknn`). An empty history scores every item 0.
public struct SessionKNN: TrainableRecommender, ItemSimilarity {
    public static let name = "sessionknn"
    public static let summary =
        "session item-KNN (GRU4Rec's baseline): neighbours of the last click by session co-occurrence"
    public static let details = """
        sim = co-sessions / (√(s_i·s_j) + λ), top-100 neighbours, scored from the last click; \
        yoochoose 100k sample Recall@20 0.4056, MRR@20 0.1876
        """

    public struct Config: ModelConfig {
        /// Neighbours kept per item, itself excluded.
        public var neighbourCount = 100
        /// λ in c_ij / (√(s_i s_j) + λ).
        public var regularization: Float = 20
        public init() {}

        enum CodingKeys: String, CodingKey {
            case neighbourCount = "neighbors", regularization
        }

        public static let settings: [ModelSetting] = [
            .integer("neighbors", .atLeast(1), "neighbours kept per item (itself excluded)", aliases: ["k"]),
            .number("regularization", .atLeast(0), "λ in co-sessions / (√(s_i·s_j) + λ)"),
        ]
    }

    public let config: Config
    public let userCount: Int
    public let itemCount: Int
    /// Row i: item i's neighbours j with sim(i, j), i itself excluded.
    public let neighbours: InteractionMatrix
    /// Each training user's (session's) last click, one entry per row (none for users without clicks).
    let lastClicks: InteractionMatrix

    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        let sequences = train.sequences()
        // Item × session, 1 where the session holds the item (repeats counted once).
        let pairs = train.deduplicated(.keepLast)
        let distinct = try Interactions(
            users: pairs.users, items: pairs.items, userCount: train.userCount, itemCount: train.itemCount)
        let withSelf = NeighbourIndex.build(
            rows: InteractionMatrix.byItem(distinct), k: config.neighbourCount + 1, cosine: true,
            shrinkage: config.regularization, threadCount: context.threads(default: Parallel.defaultThreadCount))
        let support = distinct.countsPerItem()
        // Drop each item itself, keep the best K of the rest (equal similarities: more sessions, lower index).
        var offsets = [0]
        var columns: [Int32] = []
        var values: [Float] = []
        for item in 0..<train.itemCount {
            let kept = zip(withSelf.columns(inRow: item), withSelf.values(inRow: item))
                .filter { Int($0.0) != item && $0.1 > 0 }
                .sorted { a, b in
                    a.1 != b.1
                        ? a.1 > b.1
                        : support[Int(a.0)] != support[Int(b.0)]
                            ? support[Int(a.0)] > support[Int(b.0)] : a.0 < b.0
                }
                .prefix(config.neighbourCount).sorted { $0.0 < $1.0 }
            columns += kept.map(\.0)
            values += kept.map(\.1)
            offsets.append(columns.count)
        }
        var lastOffsets = [0]
        var lastItems: [Int32] = []
        for sequence in sequences {
            if let last = sequence.last { lastItems.append(last) }
            lastOffsets.append(lastItems.count)
        }
        self.config = config
        self.userCount = train.userCount
        self.itemCount = train.itemCount
        self.neighbours = try InteractionMatrix(
            rowCount: train.itemCount, columnCount: train.itemCount, rowOffsets: offsets, columnIndices: columns,
            values: values)
        self.lastClicks = try InteractionMatrix(
            rowCount: train.userCount, columnCount: train.itemCount, rowOffsets: lastOffsets, columnIndices: lastItems,
            values: [Float](repeating: 1, count: lastItems.count))
    }

    public func save(into weights: inout ModelWeights) { weights.store(neighbours: neighbours, history: lastClicks) }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        self.userCount = userCount
        self.itemCount = itemCount
        (neighbours, lastClicks) = try weights.neighbourhood(
            rows: itemCount, userCount: userCount, itemCount: itemCount)
    }

    public func scores(forUsers users: [Int32]) -> Tensor {
        var scalars: [Float] = []
        scalars.reserveCapacity(users.count * itemCount)
        for user in users {
            let last = Int(user) < lastClicks.rowCount ? lastClicks.columns(inRow: Int(user)).last : nil
            scalars += scores(forHistory: last.map { [$0] } ?? [])
        }
        return Tensor(shape: [users.count, itemCount], scalars: scalars)
    }

    /// sim(last click, j) for the last click's neighbours j, 0 elsewhere.
    public func scores(forHistory items: [Int32]) -> [Float] {
        var scores = [Float](repeating: 0, count: itemCount)
        guard let last = items.last, last >= 0, Int(last) < itemCount else { return scores }
        for (neighbour, similarity) in zip(neighbours.columns(inRow: Int(last)), neighbours.values(inRow: Int(last))) {
            scores[Int(neighbour)] = similarity
        }
        return scores
    }

    public func similarItems(to item: Int32, k: Int) -> [ScoredIndex] {
        guard item >= 0 && Int(item) < itemCount else { return [] }
        return zip(neighbours.columns(inRow: Int(item)), neighbours.values(inRow: Int(item)))
            .map { ScoredIndex(index: $0.0, score: $0.1) }.topK(k)
    }
}
