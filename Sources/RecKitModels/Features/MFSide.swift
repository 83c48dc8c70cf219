import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Matrix factorisation with side features, LightFM's formulation (Kula 2015): a user's vector is
/// the sum of the embeddings of its features (its ID among them) and an item's likewise, each
/// weighted as the feature columns say; the score is their dot product plus the features' biases.
/// A user or item known only by attributes gets a vector from them (cold start). Losses: `bpr` and
/// `warp` (each positive against sampled unobserved items; WARP as a rank-weighted hinge over the
/// samples), `logistic` (observed against sampled pairs) for implicit data or positives, and `mse`
/// for ratings. Adam; seeded, single-threaded (BLAS aside).
public struct MFSide: FeatureScoringModel, SideDataModel, ItemSimilarity {
    public static let name = "mfside"
    public static let summary =
        "MF with side features (LightFM's formulation): user and item vectors are sums of their features' embeddings"
    public static let details = "losses bpr, warp, logistic, mse; cold start for users and items from their features"

    public enum SideLoss: String, Codable, Sendable, CaseIterable {
        case bpr, warp, logistic, mse
    }

    public struct Config: FeatureModelConfig {
        public var factorCount = 32
        public var loss = SideLoss.warp
        public var positiveThreshold: Float = 4
        /// Unobserved items drawn per positive (0: by loss — bpr 1, warp 10, logistic 4).
        public var sampleCount = 0
        public var epochCount = 10
        public var batchSize = 256
        public var learningRate: Float = 0.005
        public var regularization: Float = 0
        public var coldDropout: Float = 0
        public var seed: UInt64 = 0
        public init() {}

        public var objective: FeatureObjective { loss == .mse ? .regression : .classification }
        public var negativeCount: Int {
            guard sampleCount == 0 else { return loss == .mse ? 0 : sampleCount }
            switch loss {
            case .bpr: return 1
            case .warp: return 10
            case .logistic: return 4
            case .mse: return 0
            }
        }

        enum CodingKeys: String, CodingKey {
            case factorCount = "factors", loss, positiveThreshold = "positive_threshold", sampleCount = "negatives"
            case epochCount = "epochs", batchSize = "batch_size", learningRate = "learning_rate", regularization, seed
            case coldDropout = "cold_dropout"
        }

        public static let settings: [ModelSetting] = [
            .factors(.between(1, 1024), "embedding width of every feature"),
            .choice("loss", SideLoss.self, "bpr / warp (ranking against sampled items), logistic, mse (ratings)"),
            .positiveThreshold,
            .integer("negatives", .atLeast(0), "unobserved items drawn per positive (0: bpr 1, warp 10, logistic 4)"),
            .epochs("passes over the training pairs"), .batchSize("positives per step"), .learningRate("Adam step"),
            .regularization("L2 weight decay"), .coldDropout, .seed,
        ]
    }

    public let config: Config
    public let state: FeatureModelState
    var objective: FeatureObjective { config.objective }

    public init(fitting train: Interactions, side: SideData, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        if config.loss == .mse && config.sampleCount > 0 {
            throw ConfigError(model: Self.name, key: "negatives", "applies to bpr, warp and logistic, not mse")
        }
        let itemCount = train.itemCount
        let ranking: FeatureRanking? =
            switch config.loss {
            case .bpr: FeatureRanking(samples: config.negativeCount) { Loss.bpr(positive: $0, negative: $1) }
            case .warp:
                FeatureRanking(samples: config.negativeCount) {
                    Loss.warpHinge(positive: $0, negative: $1, itemCount: itemCount)
                }
            case .logistic, .mse: nil
            }
        state = try FeatureModelState(
            fitting: train, side: side, config: config, model: Self.name, context: context, ranking: ranking,
            check: { try FeatureModelState.requireBothSides($0, model: Self.name) },
            network: { MFSideNetwork(config: config, transform: $0) }, optimizer: { config.adam(for: $0) })
        self.config = config
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        state = try FeatureModelState(restoring: weights, userCount: userCount, itemCount: itemCount) {
            MFSideNetwork(config: config, transform: $0, trained: true).namedShapes
        }
    }

    func emptyNetwork() -> MFSideNetwork { MFSideNetwork(config: config, transform: features.transform, trained: true) }

    /// Every item's vector once, each user's once, then one product.
    public func scores(forUsers users: [Int32]) -> Tensor {
        scores(features.users.batch(rows: users))
    }

    public func scores(forUserValues values: [String: RawFeatureValue]) -> [Float] {
        scores(features.transform.encode(values: values, side: .user).batch(rows: [0])).scalars
    }

    /// `[users, items]` scores for a batch of the user side's fields.
    func scores(_ users: FeatureBatch) -> Tensor {
        let network = network()
        return GradientRecording.disabled {
            let (itemVectors, itemBiases) = network.side(features.items.batch(rows: (0..<itemCount).map(Int32.init)))
            let (userVectors, userBiases) = network.side(users)
            let products = userVectors.value.matmul(itemVectors.value, transposingOther: true)
            return products + userBiases.value + itemBiases.value.reshaped([1, itemCount]) + network.bias.value
        }
    }

    /// The items most alike by the cosine of their vectors (feature sums), for `similar`.
    public func similarItems(to item: Int32, k: Int) -> [ScoredIndex] {
        let network = network()
        let vectors = GradientRecording.disabled {
            network.side(features.items.batch(rows: (0..<itemCount).map(Int32.init))).vectors.value
        }
        return FactorModel(userFactors: Tensor.zeros([1, config.factorCount]), itemFactors: vectors)
            .similarItems(to: item, k: k)
    }
}

/// Sums of feature embeddings per side, their dot product and the features' biases.
final class MFSideNetwork: FeatureNetwork {
    let bias = Variable(Tensor.zeros([1]), requiresGradient: true)
    let biases: Embedding
    let embeddings: Embedding
    let userFields: [Int]
    let itemFields: [Int]

    init(config: MFSide.Config, transform: FeatureTransform, trained: Bool = false) {
        userFields = transform.fields(of: .user)
        itemFields = transform.fields(of: .item)
        biases = Embedding(transform.featureCount, 1, initializer: .zeros, seed: config.seed &+ 1)
        embeddings = Embedding(
            transform.featureCount, config.factorCount, initializer: trained ? .zeros : .normal(0.01),
            seed: config.seed &+ 2)
    }

    var ownParameters: [NamedParameter] { [NamedParameter("bias", bias)] }
    var children: [(name: String, module: any Module)] { [("biases", biases), ("embeddings", embeddings)] }

    /// One side's vectors `[n, k]` (the weighted sum of all its features' embeddings) and biases `[n, 1]`.
    func side(_ batch: FeatureBatch) -> (vectors: Variable, biases: Variable) {
        let offsets = batch.exampleOffsets
        return (
            embeddings.table.bagged(indices: batch.indices, offsets: offsets, weights: batch.weights),
            biases.table.bagged(indices: batch.indices, offsets: offsets, weights: batch.weights)
        )
    }

    func callAsFunction(_ batch: FeatureBatch) -> Variable {
        let user = side(batch.selecting(fields: userFields))
        let item = side(batch.selecting(fields: itemFields))
        return (user.vectors * item.vectors).sum(alongAxis: 1) + user.biases + item.biases + bias
    }
}
