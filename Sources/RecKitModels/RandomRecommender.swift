import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Scores items at random: a floor for every metric. Seeded; a user's scores depend only on the
/// seed and the user, never on batching or threads. On rated data it also predicts ratings at
/// random, as Surprise's `NormalPredictor`: drawn from a normal distribution with the training
/// ratings' mean and standard deviation, clipped to their range, one fixed draw per (user, item).
public struct RandomRecommender: TrainableRecommender, RatingPredictor {
    public static let name = "random"
    public static let summary =
        "random scores, a floor; on ratings, normal random predictions (Surprise's NormalPredictor)"

    /// The training ratings' normal fit, when there are ratings.
    public struct RatingDistribution: Sendable, Equatable {
        public var mean: Float
        public var deviation: Float
        public var range: ClosedRange<Float>
    }

    public struct Config: ModelConfig {
        public var seed: UInt64 = 0
        public init() {}
        public init(seed: UInt64) { self.seed = seed }
        public static let settings: [ModelSetting] = [.seed]
    }

    public let config: Config
    public let userCount: Int
    public let itemCount: Int
    public let ratings: RatingDistribution?
    public var seed: UInt64 { config.seed }

    /// A random model for `train`'s users and items.
    public init(fitting train: Interactions, seed: UInt64) {
        self.init(fitting: train, config: Config(seed: seed))
    }

    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        self.init(fitting: train, config: config)
    }

    init(fitting train: Interactions, config: Config) {
        self.config = config
        self.userCount = train.userCount
        self.itemCount = train.itemCount
        if let values = train.ratings, !values.isEmpty {
            let count = Double(values.count)
            let mean = values.reduce(0.0) { $0 + Double($1) } / count
            let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / count
            ratings = RatingDistribution(
                mean: Float(mean), deviation: Float(variance.squareRoot()), range: values.min()!...values.max()!)
        } else {
            ratings = nil
        }
    }

    public var name: String { Self.name }

    /// A normal draw (Box–Muller) fixed by the seed, user and item, clipped to the training range;
    /// without ratings, a uniform number in [0, 1).
    public func predict(user: Int32, item: Int32) -> Float {
        var generator = SplitMix64(
            seed: seed ^ (UInt64(UInt32(bitPattern: user)) &* 0x9E37_79B9_7F4A_7C15)
                ^ (UInt64(UInt32(bitPattern: item)) &* 0xC2B2_AE3D_27D4_EB4F))
        guard let ratings else { return generator.nextUnitFloat() }
        let radius = (-2 * Foundation.log(1 - generator.nextUnitDouble())).squareRoot()
        let normal = radius * Foundation.cos(2 * Double.pi * generator.nextUnitDouble())
        let value = ratings.mean + ratings.deviation * Float(normal)
        return min(max(value, ratings.range.lowerBound), ratings.range.upperBound)
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

    /// The seed in the configuration and, on rated data, the ratings' mean, deviation and range.
    public func save(into weights: inout ModelWeights) {
        if let ratings {
            weights.store(
                [ratings.mean, ratings.deviation, ratings.range.lowerBound, ratings.range.upperBound],
                as: "rating_distribution")
        }
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        self.userCount = userCount
        self.itemCount = itemCount
        if weights.entries["rating_distribution"] != nil {
            let values = try weights.vector("rating_distribution", count: 4)
            guard values[1] >= 0, values[2] <= values[3] else {
                throw RestoreError("rating_distribution: a negative deviation or an empty range")
            }
            ratings = RatingDistribution(mean: values[0], deviation: values[1], range: values[2]...values[3])
        } else {
            ratings = nil
        }
    }
}
