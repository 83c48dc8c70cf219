import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Bayesian personalised ranking (Rendle et al., UAI 2009): matrix factorisation with an item bias,
/// trained by SGD on (user, liked item i, sampled item j) triples to rank i above j.
///
/// An epoch visits the users in a fresh seeded order and draws, for each, as many triples as the user
/// has training items: a uniform liked item i and a uniform item j, skipped when the user has j. (The
/// user's vector stays in cache across its triples; this is implicit's and the paper's uniform
/// distribution over pairs with each user's count fixed per epoch instead of drawn.)
///
/// `sampling = .popularity` draws j as the item of a uniform training pair, so in proportion to its
/// interactions (implicit's BPR samples so): on long-tailed catalogues uniform negatives are nearly all
/// easy tail items, σ(−x_uij) ≈ 0 and the model stops at popularity (Last.fm: NDCG@10 0.075 uniform,
/// 0.160 popularity-sampled, 0.080 the popularity baseline).
///
/// `sampling = .warp` replaces the uniform j by WARP's adaptive choice (Weston et al. 2011, as in
/// LightFM): items are drawn until one scores within the margin 1 of i, at most `maxSampled`, and the
/// hinge update is weighted by log⌊(I − 1) / draws⌋ / log(I − 1), so rarely violated (well-ranked)
/// pairs move little. (LightFM leaves the weight unscaled and tames it with AdaGrad.)
///
/// `learningSchedule = .adagrad` scales each coordinate's step by the root of its running sum of
/// squared gradients (Duchi et al. 2011), as LightFM trains: items seen rarely keep large steps, so
/// the long tail learns instead of being left at its start. With learning rate 0.05 and
/// regularisation 0.001 it makes BPR and WARP robust across catalogues (NDCG@10, Last.fm: uniform
/// BPR 0.075 with SGD, 0.198 with AdaGrad over 100 epochs; WARP over 30 epochs 0.205, LightFM-WARP
/// 0.198).
///
/// With several threads the users are cut into chunks with their own seeded generators and the item
/// updates race without locks (Hogwild; Niu et al. 2011): results then vary by floating-point
/// reordering only. One thread is bit-identical run to run.
public struct BPR: FactorRecommender {
    public static let name = "bpr"
    public static let summary =
        "BPR (Rendle et al. 2009) with item bias; uniform, popularity or WARP negatives; Hogwild threads"
    public static let details = """
        user-ordered epochs. On long-tailed catalogues uniform negatives are mostly easy ones and BPR falls back \
        to popularity: use `sampling=popularity` or `warp` there (the README compares the three samplers)
        """

    public enum NegativeSampling: String, Codable, Sendable, CaseIterable {
        /// j uniform over the catalogue (the paper's).
        case uniform
        /// j drawn in proportion to its training interactions (a uniform training pair's item), as
        /// implicit's BPR samples: popular items, the hard negatives, come up more often.
        case popularity
        /// WARP's adaptive search for a violating j.
        case warp
    }

    /// How each step's size is set.
    public enum LearningSchedule: String, Codable, Sendable, CaseIterable {
        /// A fixed learning rate (implicit's BPR).
        case sgd
        /// AdaGrad per coordinate (LightFM's default): rarely updated items keep larger steps.
        case adagrad
    }

    public struct Config: ModelConfig {
        public var factorCount = 64
        public var epochCount = 100
        public var learningRate: Float = 0.01
        public var regularization: Float = 0.01
        public var sampling = NegativeSampling.uniform
        public var learningSchedule = LearningSchedule.sgd
        /// WARP: most items drawn per positive in search of a violating one (LightFM's `max_sampled`).
        public var maxSampled = 10
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case factorCount = "factors", epochCount = "epochs", learningRate = "learning_rate"
            case regularization, sampling, learningSchedule = "learning_schedule", maxSampled = "max_sampled", seed
        }

        public static let settings: [ModelSetting] = [
            .factors(.between(1, 4096), "latent dimensions (plus an item bias)"),
            .epochs(),
            .learningRate(),
            .regularization(),
            .choice(
                "sampling", NegativeSampling.self,
                "negatives: uniform (the paper's), popularity (in proportion to interactions, as implicit) "
                    + "or warp (adaptive)"
            ),
            .choice(
                "learning_schedule", LearningSchedule.self,
                "sgd (a fixed rate, as implicit) or adagrad (per coordinate, as LightFM; try learning_rate 0.05)"),
            .integer("max_sampled", .atLeast(1), "WARP: most draws per positive"),
            .seed,
        ]
    }

    public let config: Config
    /// `[userCount, factorCount + 1]` (the last column is 1, pairing with the item bias) and
    /// `[itemCount, factorCount + 1]` (the last column is the item bias).
    public let factors: FactorModel

    /// Trains on one thread unless the context gives more (Hogwild: results then vary by
    /// floating-point reordering); reports each epoch.
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        let threadCount = context.threads(default: 1)
        let k = config.factorCount
        let width = k + 1
        let byUser = InteractionMatrix.byUser(train.deduplicated(.max))
        var root = SplitMix64(seed: config.seed)
        var users = [Float](repeating: 0, count: train.userCount * width)
        var items = [Float](repeating: 0, count: train.itemCount * width)
        for user in 0..<train.userCount {
            for f in 0..<k { users[user * width + f] = (root.nextUnitFloat() - 0.5) / Float(k) }
            users[user * width + k] = 1
        }
        for item in 0..<train.itemCount {
            for f in 0..<k { items[item * width + f] = (root.nextUnitFloat() - 0.5) / Float(k) }
        }
        let chunkCount = 64 // fixed: the samples and their generators never depend on threads
        let chunks = Parallel.chunks(count: train.userCount, chunkCount: max(1, min(chunkCount, train.userCount)))
        var order = (0..<train.userCount).map(Int32.init)
        // AdaGrad's running sums of squared gradients, from 1 as LightFM starts them (empty for SGD).
        let adaptive = config.learningSchedule == .adagrad
        var userSquares = [Float](repeating: adaptive ? 1 : 0, count: adaptive ? users.count : 0)
        var itemSquares = [Float](repeating: adaptive ? 1 : 0, count: adaptive ? items.count : 0)
        let itemTotal = train.itemCount
        let offsets = byUser.rowOffsets
        let columns = byUser.columnIndices
        let rule = SGDRule(
            k: k, rate: config.learningRate, regularization: config.regularization, sampling: config.sampling,
            maxSampled: config.maxSampled, itemCount: itemTotal)
        for epoch in 0..<config.epochCount {
            root.shuffle(&order)
            let seeds = chunks.map { _ in root.next() }
            userSquares.withUnsafeMutableBufferPointer { userSquareBuffer in
                itemSquares.withUnsafeMutableBufferPointer { itemSquareBuffer in
                    users.withUnsafeMutableBufferPointer { userBuffer in
                        items.withUnsafeMutableBufferPointer { itemBuffer in
                            order.withUnsafeBufferPointer { orderBuffer in
                                offsets.withUnsafeBufferPointer { offsetBuffer in
                                    columns.withUnsafeBufferPointer { columnBuffer in
                                        let shared = HogwildFactors(
                                            users: userBuffer.baseAddress!, items: itemBuffer.baseAddress!,
                                            order: orderBuffer.baseAddress!,
                                            offsets: offsetBuffer.baseAddress!, columns: columnBuffer.baseAddress!,
                                            pairCount: columnBuffer.count,
                                            userSquares: adaptive ? userSquareBuffer.baseAddress : nil,
                                            itemSquares: adaptive ? itemSquareBuffer.baseAddress : nil)
                                        Parallel.forEach(chunkCount: chunks.count, threadCount: threadCount) { chunk in
                                            var generator = SplitMix64(seed: seeds[chunk])
                                            shared.run(users: chunks[chunk], rule: rule, using: &generator)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            try context.report(TrainingUpdate(step: epoch + 1, total: config.epochCount))
        }
        self.init(config: config, factors: FactorModel(name: Self.name, users: users, items: items, width: width))
    }

    public init(config: Config, factors: FactorModel) {
        self.config = config
        self.factors = factors
    }

    /// The factor tables carry the item-bias column.
    public static func factorWidth(_ config: Config) -> Int { config.factorCount + 1 }

    /// A new user: a fresh user vector trained by a few SGD passes over the history against sampled
    /// negatives, item vectors held fixed (seeded by the history, so the same history gives the same
    /// scores).
    public func scores(forHistory history: [Int32]) -> [Float] {
        let known = Array(Set(history.filter { $0 >= 0 && Int($0) < itemCount })).sorted()
        let width = config.factorCount + 1
        var user = [Float](repeating: 0, count: width)
        user[width - 1] = 1
        guard !known.isEmpty else {
            return factors.itemFactors.matmul(Tensor(shape: [width, 1], scalars: user)).scalars
        }
        let items = factors.itemFactors.scalars
        var generator = SplitMix64(
            seed: config.seed ^ known.reduce(0xF01D) { $0 &* 31 &+ UInt64(UInt32(bitPattern: $1)) })
        let passes = 20
        let steps = known.count * passes
        let knownSet = Set(known)
        for _ in 0..<steps {
            let liked = Int(known[generator.nextIndex(below: known.count)])
            let other = generator.nextIndex(below: itemCount)
            if knownSet.contains(Int32(other)) { continue }
            var score: Float = 0
            for f in 0..<width { score += user[f] * (items[liked * width + f] - items[other * width + f]) }
            let z = 1 / (1 + Foundation.exp(score))
            for f in 0..<config.factorCount {
                user[f] +=
                    config.learningRate
                    * (z * (items[liked * width + f] - items[other * width + f]) - config.regularization * user[f])
            }
        }
        return factors.itemFactors.matmul(Tensor(shape: [width, 1], scalars: user)).scalars
    }
}
