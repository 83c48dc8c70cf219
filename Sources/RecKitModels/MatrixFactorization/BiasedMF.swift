import RecKitData
import RecKitTensor

/// Biased matrix factorisation for explicit ratings trained by stochastic gradient descent
/// (Koren, Bell and Volinsky, "Matrix Factorization Techniques for Recommender Systems", 2009;
/// Funk 2006): r̂_ui = μ + b_u + b_i + p_u·q_i, minimising squared error plus L2.
///
/// Defaults are Surprise's SVD (100 factors, 20 epochs, learning rate 0.005, regularisation 0.02,
/// factors from N(0, 0.1)). Training runs on one thread, so a seeded run is bit-identical. Unknown users or items contribute only the terms that exist
/// (as Surprise does), and predictions are clipped to the training rating range.
/// Ratings are visited in a seeded shuffled order (blocks of a once-shuffled copy, in a new random
/// block order each epoch).
public struct BiasedMF: RatingPredictor, Recommender {
    public struct Config: Codable, Sendable, Equatable {
        public var factorCount = 100
        public var epochCount = 20
        public var learningRate: Float = 0.005
        public var regularization: Float = 0.02
        /// Standard deviation of the initial factors.
        public var initialStandardDeviation: Float = 0.1
        /// Learning rate multiplier applied after every epoch (1: constant).
        public var learningRateDecay: Float = 1
        public var seed: UInt64 = 0
        public init() {}

        public func validate() throws(ConfigError) {
            if factorCount < 0 || factorCount > 4096 { throw ConfigError(model: "svd", key: "factors", "must be in 0...4096") }
            if epochCount < 1 { throw ConfigError(model: "svd", key: "epochs", "must be at least 1") }
            if !(learningRate > 0) || !learningRate.isFinite { throw ConfigError(model: "svd", key: "learning_rate", "must be > 0") }
            if !(regularization >= 0) { throw ConfigError(model: "svd", key: "regularization", "must be ≥ 0") }
            if !(initialStandardDeviation >= 0) { throw ConfigError(model: "svd", key: "init_std", "must be ≥ 0") }
            if !(learningRateDecay > 0 && learningRateDecay <= 1) { throw ConfigError(model: "svd", key: "decay", "must be in (0, 1]") }
        }
    }

    public let config: Config
    public let globalMean: Float
    public let userBiases: [Float]
    public let itemBiases: [Float]
    /// `[userCount, factorCount]` and `[itemCount, factorCount]`.
    public let userFactors: Tensor
    public let itemFactors: Tensor
    let knownUsers: [Bool]
    let knownItems: [Bool]
    public let ratingRange: ClosedRange<Float>
    public var name: String { "svd" }
    public var userCount: Int { userBiases.count }
    public var itemCount: Int { itemBiases.count }

    /// - Throws: `ConfigError` for a bad config or training data without ratings.
    public init(fitting train: Interactions, config: Config = Config(), progress: ((Int, Int) -> Void)? = nil) throws(ConfigError) {
        try config.validate()
        guard let ratings = train.ratings, !ratings.isEmpty else {
            throw ConfigError(model: "svd", key: "data", "needs explicit ratings; the training data has none")
        }
        let k = config.factorCount
        var generator = SplitMix64(seed: config.seed)
        let normal = { (generator: inout SplitMix64) -> Float in
            // Box–Muller from two uniforms in (0, 1].
            let u1 = 1 - generator.nextUnitDouble(), u2 = generator.nextUnitDouble()
            return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
        }
        var p = (0..<(train.userCount * k)).map { _ in normal(&generator) * config.initialStandardDeviation }
        var q = (0..<(train.itemCount * k)).map { _ in normal(&generator) * config.initialStandardDeviation }
        var bu = [Float](repeating: 0, count: train.userCount), bi = [Float](repeating: 0, count: train.itemCount)
        let mean = Float(ratings.reduce(0.0) { $0 + Double($1) } / Double(ratings.count))
        // The ratings are shuffled once into new arrays; each epoch then walks blocks of 1,024 in a
        // fresh random block order. Every epoch still sees a new order, while reads within a block
        // stay sequential (a fully random index per rating spent most of its time on cache misses).
        var permutation = Array(0..<train.count)
        generator.shuffle(&permutation)
        let shuffledUsers = permutation.map { train.users[$0] }, shuffledItems = permutation.map { train.items[$0] }
        let shuffledRatings = permutation.map { ratings[$0] }
        let blockSize = 1024
        var blocks = Array(0..<((train.count + blockSize - 1) / blockSize))
        var rate = config.learningRate
        let reg = config.regularization
        for epoch in 0..<config.epochCount {
            for index in stride(from: blocks.count - 1, to: 0, by: -1) { blocks.swapAt(index, generator.nextIndex(below: index + 1)) }
            BiasedMF.epoch(
                blocks: blocks, blockSize: blockSize, users: shuffledUsers, items: shuffledItems, ratings: shuffledRatings, mean: mean, k: k,
                rate: rate, regularization: reg, p: &p, q: &q, userBiases: &bu, itemBiases: &bi)
            rate *= config.learningRateDecay
            progress?(epoch + 1, config.epochCount)
        }
        var knownUsers = [Bool](repeating: false, count: train.userCount), knownItems = [Bool](repeating: false, count: train.itemCount)
        for row in 0..<train.count {
            knownUsers[Int(train.users[row])] = true
            knownItems[Int(train.items[row])] = true
        }
        self.config = config
        self.globalMean = mean
        self.userBiases = bu
        self.itemBiases = bi
        self.userFactors = Tensor(shape: [train.userCount, k], scalars: p)
        self.itemFactors = Tensor(shape: [train.itemCount, k], scalars: q)
        self.knownUsers = knownUsers
        self.knownItems = knownItems
        self.ratingRange = ratings.min()!...ratings.max()!
    }

    /// One SGD pass in `order`, on raw pointers: the loop touches no reference counts and no
    /// exclusivity checks of captured variables.
    static func epoch(
        blocks: [Int], blockSize: Int, users: [Int32], items: [Int32], ratings: [Float], mean: Float, k: Int, rate: Float,
        regularization reg: Float, p: inout [Float], q: inout [Float], userBiases: inout [Float], itemBiases: inout [Float]
    ) {
        let count = users.count
        blocks.withUnsafeBufferPointer { blocks in
            users.withUnsafeBufferPointer { users in
                items.withUnsafeBufferPointer { items in
                    ratings.withUnsafeBufferPointer { ratings in
                        p.withUnsafeMutableBufferPointer { p in
                            q.withUnsafeMutableBufferPointer { q in
                                userBiases.withUnsafeMutableBufferPointer { bu in
                                    itemBiases.withUnsafeMutableBufferPointer { bi in
                                        for block in blocks {
                                          for row in (block * blockSize)..<min(count, (block + 1) * blockSize) {
                                            let u = Int(users[row]), i = Int(items[row])
                                            let pu = p.baseAddress! + u * k, qi = q.baseAddress! + i * k
                                            let error = ratings[row] - (mean + bu[u] + bi[i] + VectorKernels.dot(pu, qi, count: k))
                                            bu[u] += rate * (error - reg * bu[u])
                                            bi[i] += rate * (error - reg * bi[i])
                                            for f in 0..<k {
                                                let puf = pu[f], qif = qi[f]
                                                pu[f] = puf + rate * (error * qif - reg * puf)
                                                qi[f] = qif + rate * (error * puf - reg * qif)
                                            }
                                          }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    public func predict(user: Int32, item: Int32) -> Float {
        let u = Int(user), i = Int(item)
        let userKnown = u >= 0 && u < userCount && knownUsers[u], itemKnown = i >= 0 && i < itemCount && knownItems[i]
        var estimate = globalMean
        if userKnown { estimate += userBiases[u] }
        if itemKnown { estimate += itemBiases[i] }
        if userKnown && itemKnown {
            let k = config.factorCount
            for f in 0..<k { estimate += userFactors.scalars[u * k + f] * itemFactors.scalars[i * k + f] }
        }
        return min(max(estimate, ratingRange.lowerBound), ratingRange.upperBound)
    }

    /// Top-N from predicted ratings: biases plus factors for every item.
    public func scores(forUsers users: [Int32]) -> Tensor {
        var scores = userFactors.gathering(rows: users).matmul(itemFactors, transposingOther: true)
        for (row, user) in users.enumerated() {
            for item in 0..<itemCount { scores.scalars[row * itemCount + item] += globalMean + userBiases[Int(user)] + itemBiases[item] }
        }
        return scores
    }

    /// A new user's scores: item biases (the popular-and-liked prior) without a user vector.
    public func scores(forHistory history: [Int32]) -> [Float] { itemBiases.map { globalMean + $0 } }
}

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
