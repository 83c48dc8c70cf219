import RecKitData
import RecKitNN
import RecKitTensor

/// Recommends the items with the most training interactions (all time, or within a recent window),
/// the same list for everyone. The baseline every model must beat.
public struct Popularity: GlobalRanking {
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
            case recentWindowSeconds = "window", useWeights = "weights"
        }

        public static let settings: [ModelSetting] = [
            ModelSetting(
                "window", .integer(.atLeast(1)), "count only the last N seconds of training interactions",
                absentText: "all"),
            .boolean("weights", "sum interaction weights (e.g. play counts) instead of counting"),
        ]
    }

    public let config: Config
    public let userCount: Int
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
                throw ConfigError(
                    model: "popularity", key: "window", "needs timestamps, and the training data has none")
            }
            cutoff = latest - window
        }
        for row in 0..<train.count where (train.timestamps?[row] ?? .max) >= cutoff {
            counts[Int(train.items[row])] += config.useWeights ? train.value(at: row) : 1
        }
        self.init(config: config, userCount: train.userCount, itemScores: counts)
    }

    public init(config: Config, userCount: Int, itemScores: [Float]) {
        self.config = config
        self.userCount = userCount
        self.itemScores = itemScores
    }
}
