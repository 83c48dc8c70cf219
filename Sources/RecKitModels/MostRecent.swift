import RecKitData
import RecKitNN
import RecKitTensor

/// Recommends the items interacted with most recently, the same list for everyone: a baseline for
/// catalogues where what is new or trending matters (news, releases), beside `popularity`.
///
/// Items are ranked by their latest training timestamp; items last seen at the same second tie and
/// go to the lower item index; items never seen come last. Needs timestamps.
public struct MostRecent: GlobalRanking {
    public static let name = "mostrecent"
    public static let summary =
        "most recently interacted items (by each item's latest timestamp), the same list for everyone"

    public struct Config: ModelConfig {
        public init() {}
        public static let settings: [ModelSetting] = []
    }

    public let config: Config
    public let userCount: Int
    /// Each item's recency rank as a score: 1 for the item seen longest ago, higher for later
    /// ones, equal for the same latest time, 0 for items never seen. (Ranks, not timestamps:
    /// Float32 cannot tell seconds apart at today's Unix times.)
    public let itemScores: [Float]

    /// - Throws: `ConfigError` when the training data has no timestamps.
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        guard let times = train.timestamps else {
            throw ConfigError(model: Self.name, key: "data", "needs timestamps; the training data has none")
        }
        var latest = [Int64?](repeating: nil, count: train.itemCount)
        for row in 0..<train.count {
            let item = Int(train.items[row])
            latest[item] = max(latest[item] ?? .min, times[row])
        }
        let distinct = Array(Set(latest.compactMap { $0 })).sorted()
        let rank = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, Float($0 + 1)) })
        self.init(config: config, userCount: train.userCount, itemScores: latest.map { $0.flatMap { rank[$0] } ?? 0 })
    }

    public init(config: Config, userCount: Int, itemScores: [Float]) {
        self.config = config
        self.userCount = userCount
        self.itemScores = itemScores
    }
}
