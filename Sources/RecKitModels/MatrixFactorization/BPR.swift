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
public struct BPR: TrainableRecommender {
    public static let name = "bpr"
    public static let summary = "BPR (Rendle et al. 2009) with item bias; uniform, popularity or WARP negatives; Hogwild threads"
    public static let details = """
        user-ordered epochs. On long-tailed catalogues uniform negatives are mostly easy ones and BPR falls back \
        to popularity: use `sampling=popularity` or `warp` there (see below)
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
            case factorCount = "factors", epochCount = "epochs", learningRate = "learning_rate", regularization, sampling
            case learningSchedule = "learning_schedule", maxSampled = "max_sampled", seed
        }

        public static let settings: [ModelSetting] = [
            .integer("factors", .between(1, 4096), "latent dimensions (plus an item bias)"),
            .integer("epochs", .atLeast(1), "SGD passes"),
            .number("learning_rate", .above(0), "SGD step"),
            .number("regularization", .atLeast(0), "L2 weight"),
            .choice("sampling", NegativeSampling.self,
                    "negatives: uniform (the paper's), popularity (in proportion to interactions, as implicit) or warp (adaptive)"),
            .choice("learning_schedule", LearningSchedule.self,
                    "sgd (a fixed rate, as implicit) or adagrad (per coordinate, as LightFM; try learning_rate 0.05)"),
            .integer("max_sampled", .atLeast(1), "WARP: most draws per positive"),
            .seed,
        ]
    }

    public let config: Config
    /// `[userCount, factorCount + 1]` (the last column is 1, pairing with the item bias) and
    /// `[itemCount, factorCount + 1]` (the last column is the item bias).
    public let factors: FactorModel
    public var name: String { "bpr" }
    public var userCount: Int { factors.userCount }
    public var itemCount: Int { factors.itemCount }

    /// Trains on one thread unless the context gives more (Hogwild: results then vary by
    /// floating-point reordering); reports each epoch.
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        let threadCount = context.threads(default: 1)
        let k = config.factorCount, width = k + 1
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
        let chunkCount = 64      // fixed: the samples and their generators never depend on threads
        let chunks = Parallel.chunks(count: train.userCount, chunkCount: max(1, min(chunkCount, train.userCount)))
        var order = (0..<train.userCount).map(Int32.init)
        // AdaGrad's running sums of squared gradients, from 1 as LightFM starts them (empty for SGD).
        let adaptive = config.learningSchedule == .adagrad
        var userSquares = [Float](repeating: adaptive ? 1 : 0, count: adaptive ? users.count : 0)
        var itemSquares = [Float](repeating: adaptive ? 1 : 0, count: adaptive ? items.count : 0)
        let itemTotal = train.itemCount
        let offsets = byUser.rowOffsets, columns = byUser.columnIndices
        let rule = SGDRule(k: k, rate: config.learningRate, regularization: config.regularization, sampling: config.sampling,
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
                                    users: userBuffer.baseAddress!, items: itemBuffer.baseAddress!, order: orderBuffer.baseAddress!,
                                    offsets: offsetBuffer.baseAddress!, columns: columnBuffer.baseAddress!, pairCount: columnBuffer.count,
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
            } }
            try context.report(TrainingUpdate(step: epoch + 1, total: config.epochCount))
        }
        self.config = config
        self.factors = FactorModel(
            name: "bpr", userFactors: Tensor(shape: [train.userCount, width], scalars: users),
            itemFactors: Tensor(shape: [train.itemCount, width], scalars: items))
    }

    public func scores(forUsers users: [Int32]) -> Tensor { factors.scores(forUsers: users) }

    public func save(into weights: inout ModelWeights) { weights.store(factors) }

    /// The factor tables carry the item-bias column.
    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        self.factors = try weights.factorModel(name: Self.name, userCount: userCount, itemCount: itemCount, width: config.factorCount + 1)
    }

    /// A new user: a fresh user vector trained by a few SGD passes over the history against sampled
    /// negatives, item vectors held fixed (seeded by the history, so the same history gives the same
    /// scores).
    public func scores(forHistory history: [Int32]) -> [Float] {
        let known = Array(Set(history.filter { $0 >= 0 && Int($0) < itemCount })).sorted()
        let width = config.factorCount + 1
        var user = [Float](repeating: 0, count: width)
        user[width - 1] = 1
        guard !known.isEmpty else { return factors.itemFactors.matmul(Tensor(shape: [width, 1], scalars: user)).scalars }
        let items = factors.itemFactors.scalars
        var generator = SplitMix64(seed: config.seed ^ known.reduce(0xF01D) { $0 &* 31 &+ UInt64(UInt32(bitPattern: $1)) })
        let passes = 20, steps = known.count * passes
        let knownSet = Set(known)
        for _ in 0..<steps {
            let liked = Int(known[generator.nextIndex(below: known.count)])
            let other = generator.nextIndex(below: itemCount)
            if knownSet.contains(Int32(other)) { continue }
            var score: Float = 0
            for f in 0..<width { score += user[f] * (items[liked * width + f] - items[other * width + f]) }
            let z = 1 / (1 + Foundation.exp(score))
            for f in 0..<config.factorCount {
                user[f] += config.learningRate * (z * (items[liked * width + f] - items[other * width + f]) - config.regularization * user[f])
            }
        }
        return factors.itemFactors.matmul(Tensor(shape: [width, 1], scalars: user)).scalars
    }
}

/// The step of one triple: BPR's logistic loss or WARP's weighted hinge.
struct SGDRule: Sendable {
    let k: Int
    let rate: Float
    let regularization: Float
    let sampling: BPR.NegativeSampling
    let maxSampled: Int
    let itemCount: Int
    /// 1 / log(I − 1): WARP's rank weight scaled into (0, 1], the range of BPR's σ, so that one
    /// learning rate suits both.
    var warpScale: Float { itemCount > 2 ? 1 / Foundation.log(Float(itemCount - 1)) : 1 }
}

/// Raw pointers shared by Hogwild chunks: concurrent unsynchronised updates of the item factors are
/// the algorithm (racy by design), never used elsewhere. Each user belongs to one chunk.
struct HogwildFactors: @unchecked Sendable {
    let users: UnsafeMutablePointer<Float>
    let items: UnsafeMutablePointer<Float>
    /// The epoch's user order.
    let order: UnsafePointer<Int32>
    let offsets: UnsafePointer<Int>
    let columns: UnsafePointer<Int32>
    /// Training pairs (the length of `columns`): popularity sampling draws one uniformly.
    let pairCount: Int
    let userSquares: UnsafeMutablePointer<Float>?
    let itemSquares: UnsafeMutablePointer<Float>?

    /// Whether `user` has `item` (binary search of the user's sorted row).
    @inline(__always)
    func has(_ user: Int, _ item: Int32) -> Bool {
        var low = offsets[user], high = offsets[user + 1]
        while low < high {
            let middle = (low + high) >> 1
            if columns[middle] < item { low = middle + 1 } else { high = middle }
        }
        return low < offsets[user + 1] && columns[low] == item
    }

    /// For each user at `users` in the epoch order, as many SGD steps as it has training items.
    @inline(__always)
    func run(users range: Range<Int>, rule: SGDRule, using generator: inout SplitMix64) {
        let k = rule.k, width = k + 1
        for slot in range {
            let user = Int(order[slot])
            let start = offsets[user], count = offsets[user + 1] - start
            if count == 0 || count == rule.itemCount { continue }
            let u = users + user * width
            for _ in 0..<count {
                let liked = Int(columns[start + generator.nextIndex(below: count)])
                let i = items + liked * width
                var j: UnsafeMutablePointer<Float>
                var weight: Float
                switch rule.sampling {
                case .uniform, .popularity:
                    let other = rule.sampling == .uniform
                        ? generator.nextIndex(below: rule.itemCount) : Int(columns[generator.nextIndex(below: pairCount)])
                    if has(user, Int32(other)) { continue }
                    j = items + other * width
                    let score = VectorKernels.dot(u, i, count: width) - VectorKernels.dot(u, j, count: width)
                    weight = 1 / (1 + Foundation.exp(score))      // σ(−x_uij)
                case .warp:
                    let positive = VectorKernels.dot(u, i, count: width)
                    var found: Int?
                    var draws = 0
                    while draws < rule.maxSampled {
                        draws += 1
                        let other = generator.nextIndex(below: rule.itemCount)
                        if has(user, Int32(other)) { continue }
                        if VectorKernels.dot(u, items + other * width, count: width) > positive - 1 {
                            found = other
                            break
                        }
                    }
                    guard let other = found else { continue }
                    j = items + other * width
                    weight = Foundation.log(Float(max(1, (rule.itemCount - 1) / draws))) * rule.warpScale
                }
                let rate = rule.rate, reg = rule.regularization
                if let userSquares, let itemSquares {
                    // AdaGrad per coordinate; f = k is the bias column, whose user side stays 1.
                    let su = userSquares + user * width, si = itemSquares + (i - items), sj = itemSquares + (j - items)
                    for f in 0...k {
                        let uf = u[f], i_f = i[f], jf = j[f]
                        if f < k {
                            let gu = weight * (i_f - jf) - reg * uf
                            su[f] += gu * gu
                            u[f] = uf + rate * gu / su[f].squareRoot()
                        }
                        let gi = weight * uf - reg * i_f, gj = -weight * uf - reg * jf
                        si[f] += gi * gi
                        sj[f] += gj * gj
                        i[f] = i_f + rate * gi / si[f].squareRoot()
                        j[f] = jf + rate * gj / sj[f].squareRoot()
                    }
                    continue
                }
                for f in 0..<k {
                    let uf = u[f], i_f = i[f], jf = j[f]
                    u[f] += rate * (weight * (i_f - jf) - reg * uf)
                    i[f] += rate * (weight * uf - reg * i_f)
                    j[f] += rate * (-weight * uf - reg * jf)
                }
                // The bias column: the user side stays 1.
                i[k] += rate * (weight - reg * i[k])
                j[k] += rate * (-weight - reg * j[k])
            }
        }
    }
}

extension BPR: ItemSimilarity {
    public func similarItems(to item: Int32, k: Int) -> [ScoredIndex] { factors.similarItems(to: item, k: k) }
}
