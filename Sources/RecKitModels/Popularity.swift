import RecKitData
import RecKitNN
import RecKitTensor

/// Recommends the items with the most training interactions (all time, or within a recent window),
/// the same list for everyone. The baseline every model must beat.
public struct Popularity: TrainableRecommender {
    public static let name = "popularity"
    public static let summary = "most interacted items (all time or a recent window)"

    public struct Config: ModelConfig {
        /// Count only interactions within this many seconds of the latest training time; nil counts
        /// all (the default).
        public var recentWindowSeconds: Int64?
        /// Count each interaction's weight (e.g. play counts) instead of 1.
        public var useWeights = false

        public init() {}
        public init(recentWindowSeconds: Int64? = nil, useWeights: Bool = false) {
            self.recentWindowSeconds = recentWindowSeconds
            self.useWeights = useWeights
        }

        enum CodingKeys: String, CodingKey {
            case recentWindowSeconds = "window"
            case useWeights = "weights"
        }

        public static let settings: [ModelSetting] = [
            ModelSetting("window", .integer(.atLeast(1)), "count only the last N seconds of training interactions", absentText: "all"),
            .boolean("weights", "sum interaction weights (e.g. play counts) instead of counting"),
        ]
    }

    public let config: Config
    public let userCount: Int
    public let itemCount: Int
    /// Score of each item: its (windowed, possibly weighted) interaction count.
    public let itemScores: [Float]
    public var name: String { config.recentWindowSeconds == nil ? "popularity" : "popularity-recent" }

    /// Counts `train`.
    /// - Throws: `ConfigError` for a bad config or a window on data without timestamps.
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        var counts = [Float](repeating: 0, count: train.itemCount)
        var cutoff = Int64.min
        if let window = config.recentWindowSeconds {
            guard let times = train.timestamps, let latest = times.max() else {
                throw ConfigError(model: "popularity", key: "window", "needs timestamps, and the training data has none")
            }
            cutoff = latest - window
        }
        for row in 0..<train.count where (train.timestamps?[row] ?? .max) >= cutoff {
            counts[Int(train.items[row])] += config.useWeights ? train.value(at: row) : 1
        }
        self.config = config
        self.userCount = train.userCount
        self.itemCount = train.itemCount
        self.itemScores = counts
    }

    public func scores(forUsers users: [Int32]) -> Tensor { Tensor(repeatingRow: itemScores, count: users.count) }

    public func scores(forHistory history: [Int32]) -> [Float] { itemScores }

    public func save(into weights: inout ModelWeights) { weights.store(itemScores, as: "item_scores") }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        self.userCount = userCount
        self.itemCount = itemCount
        self.itemScores = try weights.vector("item_scores", count: itemCount)
    }
}

extension Tensor {
    /// `[count, row.count]`, every row equal to `row`.
    public init(repeatingRow row: [Float], count: Int) {
        var scalars: [Float] = []
        scalars.reserveCapacity(count * row.count)
        for _ in 0..<count { scalars.append(contentsOf: row) }
        self.init(shape: [count, row.count], scalars: scalars)
    }
}
