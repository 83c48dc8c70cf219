import RecKitData
import RecKitNN
import RecKitTensor

/// User-based nearest neighbours (Herlocker et al. 1999; Resnick et al. 1994): a user's score for
/// item i is Σ_v sim(u, v) · r_vi over the user's K most similar users v (cosine over their item
/// rows, optional shrinkage). A new user is matched against all training users from their history.
public struct UserKNN: TrainableRecommender {
    public static let name = "userknn"
    public static let summary = "user-based neighbours (cosine over item rows), new users matched from their history"

    public struct Config: ModelConfig {
        /// Neighbours kept per user, the user itself included (its own items are excluded anyway).
        public var neighbourCount = 50
        public var shrinkage: Float = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case neighbourCount = "neighbors", shrinkage
        }

        public static let settings: [ModelSetting] = [
            .integer("neighbors", .atLeast(1), "neighbours kept per user, the user itself included", aliases: ["k"]),
            .number("shrinkage", .atLeast(0), "cosine shrinkage"),
        ]
    }

    public let config: Config
    /// Row u: u's neighbours v with sim(u, v).
    public let neighbours: InteractionMatrix
    let history: InteractionMatrix
    public var userCount: Int { history.rowCount }
    public var itemCount: Int { history.columnCount }

    /// Builds the neighbour lists on all cores unless the context says otherwise (threads never
    /// change the result).
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        try train.checkNonNegativeValues(for: Self.name)
        let byUser = InteractionMatrix.byUser(train.deduplicated(.sum))
        self.config = config
        self.neighbours = NeighbourIndex.build(
            rows: byUser, k: config.neighbourCount, cosine: true, shrinkage: config.shrinkage,
            threadCount: context.threads(default: Parallel.defaultThreadCount))
        self.history = byUser
    }

    public func save(into weights: inout ModelWeights) { weights.store(neighbours: neighbours, history: history) }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        (neighbours, history) = try weights.neighbourhood(rows: userCount, userCount: userCount, itemCount: itemCount)
    }

    /// Σ sim · row over `neighbourList` into `scores`.
    func accumulate(_ neighbourList: some Sequence<(Int32, Float)>, into scores: inout [Float], offset: Int) {
        for (neighbour, similarity) in neighbourList {
            for (item, value) in zip(history.columns(inRow: Int(neighbour)), history.values(inRow: Int(neighbour))) {
                scores[offset + Int(item)] += similarity * value
            }
        }
    }

    public func scores(forUsers users: [Int32]) -> Tensor {
        var scalars = [Float](repeating: 0, count: users.count * itemCount)
        for (row, user) in users.enumerated() where Int(user) < userCount {
            accumulate(
                zip(neighbours.columns(inRow: Int(user)), neighbours.values(inRow: Int(user))), into: &scalars,
                offset: row * itemCount)
        }
        return Tensor(shape: [users.count, itemCount], scalars: scalars)
    }

    /// Cosine of the (binary) history against every training user, the K best, then the same sum.
    public func scores(forHistory items: [Int32]) -> [Float] {
        let known = Set(items.filter { $0 >= 0 && Int($0) < itemCount })
        var scores = [Float](repeating: 0, count: itemCount)
        guard !known.isEmpty else { return scores }
        let norm = Float(known.count).squareRoot()
        var candidates: [ScoredIndex] = []
        for user in 0..<userCount {
            var dot: Float = 0
            var squares: Float = 0
            for (item, value) in zip(history.columns(inRow: user), history.values(inRow: user)) {
                squares += value * value
                if known.contains(item) { dot += value }
            }
            let denominator = norm * squares.squareRoot() + config.shrinkage
            if dot != 0 && denominator > 0 {
                candidates.append(ScoredIndex(index: Int32(user), score: dot / denominator))
            }
        }
        accumulate(candidates.topK(config.neighbourCount).map { ($0.index, $0.score) }, into: &scores, offset: 0)
        return scores
    }
}
