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
public struct MFSide: SideScoringModel, SideDataModel, ItemSimilarity {
    public static let name = "mfside"
    public static let summary =
        "MF with side features (LightFM's formulation): user and item vectors are sums of their features' embeddings"
    public static let details = "losses bpr, warp, logistic, mse; cold start for users and items from their features"

    public struct Config: SideLossConfig {
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

        enum CodingKeys: String, CodingKey {
            case factorCount = "factors", loss, positiveThreshold = "positive_threshold", sampleCount = "negatives"
            case epochCount = "epochs", batchSize = "batch_size", learningRate = "learning_rate", regularization, seed
            case coldDropout = "cold_dropout"
        }

        public static let settings = ModelSetting.sideSum(
            .factors(.between(1, 1024), "embedding width of every feature"))
    }

    public let config: Config
    public let state: FeatureModelState
    var objective: FeatureObjective { config.objective }

    public init(fitting train: Interactions, side: SideData, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        state = try FeatureModelState(
            fittingSides: train, side: side, config: config, model: Self.name, context: context,
            network: { MFSideNetwork(config: config, transform: $0) })
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
    func scores(_ users: FeatureBatch) -> Tensor { network().scores(users, items: allItems) }

    /// The items most alike by the cosine of their vectors (feature sums), for `similar`.
    public func similarItems(to item: Int32, k: Int) -> [ScoredIndex] {
        similarItems(to: item, k: k, vectors: network().itemVectors(allItems))
    }
}

/// Sums of feature embeddings per side, their dot product and the features' biases.
final class MFSideNetwork: FeatureNetwork {
    let bias = Variable(Tensor.zeros([1]), requiresGradient: true)
    let biases: Embedding
    let embeddings: Embedding
    let userFields: [Int]
    let itemFields: [Int]

    convenience init(config: MFSide.Config, transform: FeatureTransform, trained: Bool = false) {
        self.init(factorCount: config.factorCount, seed: config.seed, transform: transform, trained: trained)
    }

    init(factorCount: Int, seed: UInt64, transform: FeatureTransform, trained: Bool = false) {
        userFields = transform.fields(of: .user)
        itemFields = transform.fields(of: .item)
        biases = Embedding(transform.featureCount, 1, initializer: .zeros, seed: seed &+ 1)
        embeddings = Embedding(
            transform.featureCount, factorCount, initializer: trained ? .zeros : .normal(0.01), seed: seed &+ 2)
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

    /// `[users, items]` scores of a batch of the user side's fields against a batch of the item
    /// side's: each side's vectors once, then one product (no graph).
    func scores(_ users: FeatureBatch, items: FeatureBatch) -> Tensor {
        GradientRecording.disabled {
            let item = side(items)
            let user = side(users)
            let products = user.vectors.value.matmul(item.vectors.value, transposingOther: true)
            return products + user.biases.value + item.biases.value.reshaped([1, items.exampleCount]) + bias.value
        }
    }

    /// The item side's vectors `[items, factors]` (no graph).
    func itemVectors(_ items: FeatureBatch) -> Tensor { GradientRecording.disabled { side(items).vectors.value } }
}
