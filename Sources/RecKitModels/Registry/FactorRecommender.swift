import RecKitTensor

/// A model that scores by dot products of its user and item factor tables (iALS, BPR, logistic MF):
/// scoring, saving, restoring and similar items are written once here. The tables may carry bias
/// columns (`extraColumns`), which restoring checks.
public protocol FactorRecommender: TrainableRecommender, ItemSimilarity {
    var factors: FactorModel { get }
    /// Columns beyond the configuration's factors (biases), to check restored tables.
    static func factorWidth(_ config: Config) -> Int
    /// The model from its configuration and trained tables.
    init(config: Config, factors: FactorModel)
}

extension FactorRecommender {
    public var userCount: Int { factors.userCount }
    public var itemCount: Int { factors.itemCount }

    public func scores(forUsers users: [Int32]) -> Tensor { factors.scores(forUsers: users) }

    public func topItems(forUsers users: [Int32], k: Int, excluding: [[Int32]]) -> [[ScoredIndex]] {
        factors.topItems(forUsers: users, k: k, excluding: excluding)
    }

    public func save(into weights: inout ModelWeights) { weights.store(factors) }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.init(
            config: config,
            factors: try weights.factorModel(
                name: Self.name, userCount: userCount, itemCount: itemCount, width: Self.factorWidth(config)))
    }

    /// Cosine similarity of the item vectors.
    public func similarItems(to item: Int32, k: Int) -> [ScoredIndex] { factors.similarItems(to: item, k: k) }
}

/// A model with one score list for everyone (popularity, recency): scoring, saving and restoring
/// written once.
public protocol GlobalRanking: TrainableRecommender {
    /// Each item's score.
    var itemScores: [Float] { get }
    init(config: Config, userCount: Int, itemScores: [Float])
}

extension GlobalRanking {
    public var itemCount: Int { itemScores.count }

    public func scores(forUsers users: [Int32]) -> Tensor { Tensor(repeatingRow: itemScores, count: users.count) }

    public func scores(forHistory history: [Int32]) -> [Float] { itemScores }

    public func save(into weights: inout ModelWeights) { weights.store(itemScores, as: "item_scores") }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.init(config: config, userCount: userCount, itemScores: try weights.vector("item_scores", count: itemCount))
    }
}
