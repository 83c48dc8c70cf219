import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Biased matrix factorisation for explicit ratings (Koren, Bell and Volinsky, "Matrix Factorization
/// Techniques for Recommender Systems", 2009; Funk 2006): r̂_ui = μ + b_u + b_i + p_u·q_i, minimising
/// squared error plus L2.
///
/// Two solvers:
/// - `sgd` (default; Surprise's SVD defaults: 100 factors, 20 epochs, learning rate 0.005,
///   regularisation 0.02, factors from N(0, 0.1)). Ratings are visited user by user, users in a new
///   seeded order each epoch, each user's ratings in a once-shuffled order. One thread is
///   bit-identical run to run; with more, the user order is cut into chunks that update the item
///   factors without locks (Hogwild), so results vary by floating-point reordering only.
/// - `als`: alternating ridge solves of [p_u, b_u] and [q_i, b_i] with the weighted-λ regularisation
///   λ·n (Zhou et al. 2008, n = the row's rating count); `epochs` counts the alternations. Each row is
///   solved exactly and independently, so threads never change the result.
///
/// `temporal` adds the time effects of timeSVD (Koren, "Collaborative Filtering with Temporal
/// Dynamics", KDD 2009) to the SGD solver: an item bias per time bin, b_i + b_i,Bin(t), and a drifting
/// user bias b_u + α_u·dev_u(t), dev_u(t) = sign(t − t̄_u)·|t − t̄_u|^β in days from the user's mean
/// rating date. Predictions with a time use them; without one they are the static model.
///
/// Unknown users or items contribute only the terms that exist (as Surprise does), and predictions
/// are clipped to the training rating range.
public struct BiasedMF: RatingPredictor, TrainableRecommender {
    public static let name = "svd"
    public static let summary =
        "biased MF for explicit ratings (Surprise's SVD: SGD with Hogwild threads, or ALS; timeSVD terms)"
    public static let details = """
        named `svd` for Surprise users: biased matrix factorisation, not a singular value decomposition; \
        Surprise's SVD defaults; `--metrics rmse,mae`; `temporal=true` adds timeSVD's time-binned item biases \
        and drifting user bias; `biased=false` is plain MF (a rating is p_u·q_i)
        """

    public enum Solver: String, Codable, Sendable, CaseIterable {
        case sgd
        case als
    }

    public struct Config: ModelConfig {
        public var factorCount = 100
        /// Global mean and user and item biases in the estimate (Surprise's `biased`); false: p_u·q_i alone.
        public var biased = true
        public var epochCount = 20
        public var learningRate: Float = 0.005
        public var regularization: Float = 0.02
        /// Standard deviation of the initial factors.
        public var initialStandardDeviation: Float = 0.1
        /// Learning rate multiplier applied after every epoch (1: constant).
        public var learningRateDecay: Float = 1
        public var solver = Solver.sgd
        /// Time-binned item biases and a drifting user bias (SGD only; needs timestamps).
        public var temporal = false
        public var timeBinCount = 30
        /// β of dev_u(t).
        public var driftExponent: Float = 0.4
        /// Step and L2 weight of α_u (Koren's 1e-5 and 50: dev is in days^β, so α_u moves slowly).
        public var driftLearningRate: Float = 1e-5
        public var driftRegularization: Float = 50
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case factorCount = "factors", biased, epochCount = "epochs", learningRate = "learning_rate", regularization
            case initialStandardDeviation = "init_std", learningRateDecay = "decay", solver, temporal
            case timeBinCount = "time_bins", driftExponent = "drift_exponent", driftLearningRate = "drift_learning_rate"
            case driftRegularization = "drift_regularization", seed
        }

        public static let settings: [ModelSetting] = [
            .factors(.between(0, 4096), "latent dimensions"),
            .boolean("biased", "global mean and user and item biases (false: plain MF, p_u·q_i; sgd only)"),
            .epochs("SGD passes (ALS: alternations)"),
            .learningRate(),
            .regularization("L2 weight (ALS: λ·n per row; 0.1 by default there)"),
            .initialStandardDeviation,
            .number("decay", .above(0, upTo: 1), "learning-rate factor per epoch"),
            .choice("solver", Solver.self, "SGD (Hogwild with threads > 1) or exact alternating ridge solves"),
            .boolean("temporal", "time-binned item biases and drifting user biases (timeSVD; sgd only)"),
            .integer("time_bins", .between(1, 100_000), "temporal: item-bias time bins"),
            .number("drift_exponent", .above(0, upTo: 1), "temporal: β of dev_u(t)"),
            .number("drift_learning_rate", .atLeast(0), "temporal: step of α_u"),
            .number("drift_regularization", .atLeast(0), "temporal: L2 weight of α_u"),
            .seed,
        ]

        public func validate(model: String) throws(ConfigError) {
            if temporal && solver != .sgd { throw ConfigError(model: model, key: "temporal", "needs solver=sgd") }
            if !biased && solver != .sgd { throw ConfigError(model: model, key: "biased", "false needs solver=sgd") }
            if !biased && temporal {
                throw ConfigError(model: model, key: "temporal", "adds time-varying biases; needs biased=true")
            }
        }

        /// ALS's λ multiplies each row's rating count: 0.1 suits it as 0.02 suits SGD.
        public mutating func resolveDefaults(given: Set<String>) {
            if solver == .als && !given.contains("regularization") { regularization = 0.1 }
        }
    }

    public let config: Config
    public let globalMean: Float
    public let userBiases: [Float]
    public let itemBiases: [Float]
    /// `[userCount, factorCount]` and `[itemCount, factorCount]`.
    public let userFactors: Tensor
    public let itemFactors: Tensor
    /// The time effects, when trained with `temporal`.
    public let temporal: TemporalBiases?
    let knownUsers: [Bool]
    let knownItems: [Bool]
    public let ratingRange: ClosedRange<Float>
    public var userCount: Int { userBiases.count }
    public var itemCount: Int { itemBiases.count }

    /// Trains on one thread unless the context gives more (SGD: Hogwild, results then vary by
    /// floating-point reordering; ALS: parallel rows, never changes the result); reports each pass.
    /// - Throws: `ConfigError` for a bad config or training data without ratings (or without
    ///   timestamps for `temporal`).
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        let threadCount = context.threads(default: 1)
        guard let ratings = train.ratings, !ratings.isEmpty else {
            throw ConfigError(model: "svd", key: "data", "needs explicit ratings; the training data has none")
        }
        if config.temporal && train.timestamps == nil {
            throw ConfigError(model: "svd", key: "temporal", "needs timestamps; the training data has none")
        }
        let k = config.factorCount
        var generator = SplitMix64(seed: config.seed)
        var state = SGDState(
            p: (0..<(train.userCount * k)).map { _ in generator.nextStandardNormal() * config.initialStandardDeviation
            },
            q: (0..<(train.itemCount * k)).map { _ in generator.nextStandardNormal() * config.initialStandardDeviation
            },
            userBiases: [Float](repeating: 0, count: train.userCount),
            itemBiases: [Float](repeating: 0, count: train.itemCount))
        let mean = Float(ratings.reduce(0.0) { $0 + Double($1) } / Double(ratings.count))
        var temporal =
            config.temporal
            ? TemporalBiases(
                train.timestamps!, users: train.users, userCount: train.userCount,
                itemCount: train.itemCount, config: config) : nil
        switch config.solver {
        case .sgd:
            try BiasedMF.trainSGD(
                train, ratings: ratings, mean: mean, config: config, state: &state, temporal: &temporal,
                generator: &generator,
                threadCount: threadCount, context: context)
        case .als:
            try BiasedMF.trainALS(
                train, ratings: ratings, mean: mean, config: config, state: &state, threadCount: threadCount,
                context: context)
        }
        var knownUsers = [Bool](repeating: false, count: train.userCount)
        var knownItems = [Bool](repeating: false, count: train.itemCount)
        for row in 0..<train.count {
            knownUsers[Int(train.users[row])] = true
            knownItems[Int(train.items[row])] = true
        }
        self.config = config
        self.globalMean = mean
        self.userBiases = state.userBiases
        self.itemBiases = state.itemBiases
        self.userFactors = Tensor(shape: [train.userCount, k], scalars: state.p)
        self.itemFactors = Tensor(shape: [train.itemCount, k], scalars: state.q)
        self.temporal = temporal
        self.knownUsers = knownUsers
        self.knownItems = knownItems
        self.ratingRange = ratings.min()!...ratings.max()!
    }

    /// The trained parameters while training.
    struct SGDState {
        var p: [Float], q: [Float], userBiases: [Float], itemBiases: [Float]
    }

    public func predict(user: Int32, item: Int32) -> Float { predict(user: user, item: item, time: nil) }

    /// The predicted rating at `time` (seconds, as the training timestamps): with the temporal terms
    /// when the model has them; without a time, the static model.
    public func predict(user: Int32, item: Int32, time: Int64?) -> Float {
        let u = Int(user)
        let i = Int(item)
        let userKnown = u >= 0 && u < userCount && knownUsers[u]
        let itemKnown = i >= 0 && i < itemCount && knownItems[i]
        guard config.biased else {
            // Plain MF has nothing for a stranger: the training mean, as Surprise falls back to.
            guard userKnown && itemKnown else { return globalMean }
            return min(max(dot(user: u, item: i), ratingRange.lowerBound), ratingRange.upperBound)
        }
        var estimate = globalMean
        if userKnown { estimate += userBiases[u] }
        if itemKnown { estimate += itemBiases[i] }
        if let temporal, let time {
            let at = temporal.time(of: time, user: u)
            if userKnown { estimate += temporal.userDrift[u] * at.deviation }
            if itemKnown { estimate += temporal.itemBinBiases[i * temporal.binCount + Int(at.bin)] }
        }
        if userKnown && itemKnown { estimate += dot(user: u, item: i) }
        return min(max(estimate, ratingRange.lowerBound), ratingRange.upperBound)
    }

    func dot(user u: Int, item i: Int) -> Float {
        let k = config.factorCount
        var product: Float = 0
        for f in 0..<k { product += userFactors.scalars[u * k + f] * itemFactors.scalars[i * k + f] }
        return product
    }

    /// Top-N from predicted ratings: biases plus factors for every item.
    public func scores(forUsers users: [Int32]) -> Tensor {
        var scores = userFactors.gathering(rows: users).matmul(itemFactors, transposingOther: true)
        guard config.biased else { return scores }
        for (row, user) in users.enumerated() {
            for item in 0..<itemCount {
                scores.scalars[row * itemCount + item] += globalMean + userBiases[Int(user)] + itemBiases[item]
            }
        }
        return scores
    }

    /// A new user's scores: item biases (the popular-and-liked prior) without a user vector.
    /// Plain MF (`biased=false`) has no such prior: every item scores the training mean.
    public func scores(forHistory history: [Int32]) -> [Float] { itemBiases.map { globalMean + $0 } }

    public func save(into weights: inout ModelWeights) {
        weights.storeRatingModel(
            mean: globalMean, range: ratingRange, userBiases: userBiases, itemBiases: itemBiases,
            userFactors: userFactors,
            itemFactors: itemFactors)
        weights.store(flags: knownUsers, as: "known_users")
        weights.store(flags: knownItems, as: "known_items")
        temporal?.save(into: &weights)
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        let base = try weights.ratingModel(userCount: userCount, itemCount: itemCount, factorCount: config.factorCount)
        self.config = config
        (globalMean, ratingRange, userBiases, itemBiases) = (base.mean, base.range, base.userBiases, base.itemBiases)
        (userFactors, itemFactors) = (base.userFactors, base.itemFactors)
        knownUsers = try weights.flags("known_users", count: userCount)
        knownItems = try weights.flags("known_items", count: itemCount)
        temporal =
            config.temporal
            ? try TemporalBiases(restoring: weights, config: config, userCount: userCount, itemCount: itemCount) : nil
    }
}

extension BiasedMF: ItemSimilarity {
    public func similarItems(to item: Int32, k: Int) -> [ScoredIndex] {
        FactorModel(userFactors: userFactors, itemFactors: itemFactors).similarItems(to: item, k: k)
    }
}
