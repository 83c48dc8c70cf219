import RecKitData
import RecKitNN
import RecKitTensor

/// Scores items at random: a floor for every metric. Seeded; a user's scores depend only on the
/// seed and the user, never on batching or threads.
public struct RandomRecommender: TrainableRecommender {
    public static let name = "random"
    public static let summary = "random scores, a floor"

    public struct Config: ModelConfig {
        public var seed: UInt64 = 0
        public init() {}
        public init(seed: UInt64) { self.seed = seed }
        public static let settings: [ModelSetting] = [.seed]
    }

    public let config: Config
    public let userCount: Int
    public let itemCount: Int
    public var seed: UInt64 { config.seed }

    /// A random model for `train`'s users and items.
    public init(fitting train: Interactions, seed: UInt64) {
        self.config = Config(seed: seed)
        self.userCount = train.userCount
        self.itemCount = train.itemCount
    }

    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        self.config = config
        self.userCount = train.userCount
        self.itemCount = train.itemCount
    }

    public func scores(forUsers users: [Int32]) -> Tensor {
        var scalars: [Float] = []
        scalars.reserveCapacity(users.count * itemCount)
        for user in users {
            var generator = SplitMix64(seed: seed ^ (UInt64(UInt32(bitPattern: user)) &* 0x9E37_79B9_7F4A_7C15))
            for _ in 0..<itemCount { scalars.append(generator.nextUnitFloat()) }
        }
        return Tensor(shape: [users.count, itemCount], scalars: scalars)
    }

    public func scores(forHistory history: [Int32]) -> [Float] {
        var generator = SplitMix64(seed: seed ^ UInt64(history.count))
        return (0..<itemCount).map { _ in generator.nextUnitFloat() }
    }

    /// Nothing is learned: the seed in the configuration is the whole model.
    public func save(into weights: inout ModelWeights) {}

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        self.userCount = userCount
        self.itemCount = itemCount
    }
}
