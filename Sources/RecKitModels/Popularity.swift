import RecKitData
import RecKitTensor

/// Recommends the items with the most training interactions (all time, or within a recent window),
/// the same list for everyone. The baseline every model must beat.
public struct Popularity: Recommender {
    public struct Config: Codable, Sendable, Equatable {
        /// Count only interactions within this many seconds of the latest training time; nil counts
        /// all (the default).
        public var recentWindowSeconds: Int64?
        /// Count each interaction's weight (e.g. play counts) instead of 1.
        public var useWeights = false

        public init(recentWindowSeconds: Int64? = nil, useWeights: Bool = false) {
            self.recentWindowSeconds = recentWindowSeconds
            self.useWeights = useWeights
        }

        /// - Throws: `ConfigError` for a window that is not positive.
        public func validate() throws(ConfigError) {
            if let window = recentWindowSeconds, window <= 0 {
                throw ConfigError(model: "popularity", key: "window", "must be a positive number of seconds, not \(window)")
            }
        }
    }

    public let config: Config
    public let userCount: Int
    public let itemCount: Int
    /// Score of each item: its (windowed, possibly weighted) interaction count.
    public let itemScores: [Float]
    public var name: String { config.recentWindowSeconds == nil ? "popularity" : "popularity-recent" }

    /// Counts `train`.
    /// - Throws: `ConfigError` for a bad config or a window on data without timestamps.
    public init(fitting train: Interactions, config: Config = Config()) throws(ConfigError) {
        try config.validate()
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

    public func scores(forUsers users: [Int32]) -> Tensor {
        var scalars: [Float] = []
        scalars.reserveCapacity(users.count * itemCount)
        for _ in users { scalars.append(contentsOf: itemScores) }
        return Tensor(shape: [users.count, itemCount], scalars: scalars)
    }

    public func scores(forHistory history: [Int32]) -> [Float] { itemScores }
}
