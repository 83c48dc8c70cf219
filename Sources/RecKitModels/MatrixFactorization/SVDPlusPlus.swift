import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// SVD++ (Koren, "Factorization Meets the Neighborhood", KDD 2008), the seeds' "MF with history":
/// r̂_ui = μ + b_u + b_i + q_i·(p_u + |N(u)|^-½ Σ_{j∈N(u)} y_j), where N(u) is the user's rated items.
///
/// Trained by SGD user by user (users in a seeded random order, each user's ratings shuffled): the
/// pooled history term is computed once per user, the y_j gradients are summed over the user's
/// ratings and applied once at the end, so an epoch costs O(ratings · k) instead of Surprise's
/// O(Σ_u |N(u)|² · k). A new user is scored from their history alone, with no retraining.
/// Defaults are Surprise's SVDpp (20 factors, 20 epochs, learning rate 0.007, regularisation 0.02).
public struct SVDPlusPlus: RatingPredictor, TrainableRecommender {
    public static let name = "svdpp"
    public static let summary =
        "SVD++ (Koren 2008): biased MF plus a √n-pooled history term; new users scored from their history"

    public struct Config: ModelConfig {
        public var factorCount = 20
        public var epochCount = 20
        public var learningRate: Float = 0.007
        public var regularization: Float = 0.02
        public var initialStandardDeviation: Float = 0.1
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case factorCount = "factors", epochCount = "epochs", learningRate = "learning_rate", regularization
            case initialStandardDeviation = "init_std", seed
        }

        public static let settings: [ModelSetting] = [
            .factors(.between(1, 4096), "latent dimensions (user, item and history vectors)"),
            .epochs(),
            .learningRate(),
            .regularization(),
            .initialStandardDeviation,
            .seed,
        ]
    }

    public let config: Config
    public let globalMean: Float
    public let ratingRange: ClosedRange<Float>
    public let userBiases: [Float]
    public let itemBiases: [Float]
    /// `[userCount, k]`, `[itemCount, k]` and the implicit item factors `[itemCount, k]`.
    public let userFactors: Tensor
    public let itemFactors: Tensor
    public let historyFactors: Tensor
    /// Each user's rated items (the history N(u)).
    let history: InteractionMatrix
    public var userCount: Int { userBiases.count }
    public var itemCount: Int { itemBiases.count }

    /// Trains on one thread (seeded, bit-identical run to run); reports each epoch.
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        guard let ratings = train.ratings, !ratings.isEmpty else {
            throw ConfigError(model: "svdpp", key: "data", "needs explicit ratings; the training data has none")
        }
        let k = config.factorCount
        let byUser = InteractionMatrix.byUser(train) // values = ratings
        var generator = SplitMix64(seed: config.seed)
        func normal() -> Float { generator.nextStandardNormal() * config.initialStandardDeviation }
        var p = (0..<(train.userCount * k)).map { _ in normal() }
        var q = (0..<(train.itemCount * k)).map { _ in normal() }
        var y = (0..<(train.itemCount * k)).map { _ in normal() }
        var bu = [Float](repeating: 0, count: train.userCount)
        var bi = [Float](repeating: 0, count: train.itemCount)
        let mean = Float(ratings.reduce(0.0) { $0 + Double($1) } / Double(ratings.count))
        var userOrder = Array(0..<train.userCount)
        let rate = config.learningRate
        let reg = config.regularization
        var pooled = [Float](repeating: 0, count: k)
        var gradient = [Float](repeating: 0, count: k)
        var latent = [Float](repeating: 0, count: k)
        var positions: [Int] = []
        let offsets = byUser.rowOffsets
        let columns = byUser.columnIndices
        let values = byUser.values
        for epoch in 0..<config.epochCount {
            generator.shuffle(&userOrder)
            // Raw pointers: the loops below run once per rating and factor, free of bounds checks.
            p.withUnsafeMutableBufferPointer { p in
                q.withUnsafeMutableBufferPointer { q in
                    y.withUnsafeMutableBufferPointer { y in
                        pooled.withUnsafeMutableBufferPointer { pooled in
                            gradient.withUnsafeMutableBufferPointer { gradient in
                                latent.withUnsafeMutableBufferPointer { latent in
                                    for user in userOrder {
                                        let start = offsets[user]
                                        let end = offsets[user + 1]
                                        guard end > start else { continue }
                                        let scale = 1 / Float(end - start).squareRoot()
                                        // Pooled history |N(u)|^-½ Σ y_j, once per user.
                                        for f in 0..<k {
                                            pooled[f] = 0
                                            gradient[f] = 0
                                        }
                                        for position in start..<end {
                                            VectorKernels.axpy(
                                                1, y.baseAddress! + Int(columns[position]) * k, pooled.baseAddress!,
                                                count: k)
                                        }
                                        for f in 0..<k { pooled[f] *= scale }
                                        positions.removeAll(keepingCapacity: true)
                                        positions.append(contentsOf: start..<end)
                                        generator.shuffle(&positions)
                                        let pu = p.baseAddress! + user * k
                                        for position in positions {
                                            let item = Int(columns[position])
                                            let qi = q.baseAddress! + item * k
                                            for f in 0..<k { latent[f] = pu[f] + pooled[f] }
                                            let dot = VectorKernels.dot(qi, latent.baseAddress!, count: k)
                                            let error = values[position] - (mean + bu[user] + bi[item] + dot)
                                            bu[user] += rate * (error - reg * bu[user])
                                            bi[item] += rate * (error - reg * bi[item])
                                            for f in 0..<k {
                                                let puf = pu[f]
                                                let qif = qi[f]
                                                pu[f] = puf + rate * (error * qif - reg * puf)
                                                qi[f] = qif + rate * (error * latent[f] - reg * qif)
                                                gradient[f] += error * scale * qif
                                            }
                                        }
                                        // One y update per history item, with the summed gradient and the L2 pull the
                                        // per-rating updates would have applied |N(u)| times.
                                        let count = Float(end - start)
                                        for position in start..<end {
                                            let yj = y.baseAddress! + Int(columns[position]) * k
                                            for f in 0..<k { yj[f] += rate * (gradient[f] - reg * count * yj[f]) }
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
        self.config = config
        self.globalMean = mean
        self.ratingRange = ratings.min()!...ratings.max()!
        self.userBiases = bu
        self.itemBiases = bi
        self.userFactors = Tensor(shape: [train.userCount, k], scalars: p)
        self.itemFactors = Tensor(shape: [train.itemCount, k], scalars: q)
        self.historyFactors = Tensor(shape: [train.itemCount, k], scalars: y)
        self.history = byUser
    }

    /// The user part p_u + |N(u)|^-½ Σ y_j (without p_u for a new user).
    func latent(user: Int?, history items: some Collection<Int32>) -> [Float] {
        let k = config.factorCount
        var vector = [Float](repeating: 0, count: k)
        if let user { for f in 0..<k { vector[f] = userFactors.scalars[user * k + f] } }
        guard !items.isEmpty else { return vector }
        let scale = 1 / Float(items.count).squareRoot()
        for item in items { for f in 0..<k { vector[f] += scale * historyFactors.scalars[Int(item) * k + f] } }
        return vector
    }

    public func save(into weights: inout ModelWeights) {
        weights.storeRatingModel(
            mean: globalMean, range: ratingRange, userBiases: userBiases, itemBiases: itemBiases,
            userFactors: userFactors,
            itemFactors: itemFactors)
        weights.entries["history_factors"] = .float32(historyFactors)
        weights.store(history, as: "history")
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        let base = try weights.ratingModel(userCount: userCount, itemCount: itemCount, factorCount: config.factorCount)
        self.config = config
        (globalMean, ratingRange, userBiases, itemBiases) = (base.mean, base.range, base.userBiases, base.itemBiases)
        (userFactors, itemFactors) = (base.userFactors, base.itemFactors)
        historyFactors = try weights.tensor("history_factors", shape: [itemCount, config.factorCount])
        history = try weights.matrix("history", rows: userCount, columns: itemCount)
    }

    public func predict(user: Int32, item: Int32) -> Float {
        let u = Int(user)
        let i = Int(item)
        let userKnown = u >= 0 && u < userCount && history.count(inRow: u) > 0
        let itemKnown = i >= 0 && i < itemCount
        var estimate = globalMean
        if userKnown { estimate += userBiases[u] }
        if itemKnown { estimate += itemBiases[i] }
        if userKnown && itemKnown {
            let vector = latent(user: u, history: history.columns(inRow: u))
            let k = config.factorCount
            for f in 0..<k { estimate += vector[f] * itemFactors.scalars[i * k + f] }
        }
        return min(max(estimate, ratingRange.lowerBound), ratingRange.upperBound)
    }

    public func scores(forUsers users: [Int32]) -> Tensor {
        let k = config.factorCount
        let vectors = users.flatMap { latent(user: Int($0), history: history.columns(inRow: Int($0))) }
        var scores = Tensor(shape: [users.count, k], scalars: vectors).matmul(itemFactors, transposingOther: true)
        for (row, user) in users.enumerated() {
            for item in 0..<itemCount {
                scores.scalars[row * itemCount + item] += globalMean + userBiases[Int(user)] + itemBiases[item]
            }
        }
        return scores
    }

    /// A new user from their history alone: μ + b_i + q_i · |N|^-½ Σ y_j.
    public func scores(forHistory items: [Int32]) -> [Float] {
        let known = items.filter { $0 >= 0 && Int($0) < itemCount }
        let vector = latent(user: nil, history: known)
        var scores = Tensor(shape: [1, config.factorCount], scalars: vector).matmul(itemFactors, transposingOther: true)
            .scalars
        for item in 0..<itemCount { scores[item] += globalMean + itemBiases[item] }
        return scores
    }
}

extension SVDPlusPlus: ItemSimilarity {
    public func similarItems(to item: Int32, k: Int) -> [ScoredIndex] {
        FactorModel(userFactors: userFactors, itemFactors: itemFactors).similarItems(to: item, k: k)
    }
}
