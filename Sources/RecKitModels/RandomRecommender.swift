import RecKitData
import RecKitTensor

/// Scores items at random: a floor for every metric. Seeded; a user's scores depend only on the
/// seed and the user, never on batching or threads.
public struct RandomRecommender: Recommender {
    public let seed: UInt64
    public let userCount: Int
    public let itemCount: Int
    public var name: String { "random" }

    public init(fitting train: Interactions, seed: UInt64 = 0) {
        self.seed = seed
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
}
