import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// DeepFM (Guo et al. 2017): a factorisation machine and an MLP reading the same feature
/// embeddings — the FM part models pairwise interactions, the deep part (the fields' pooled
/// embeddings side by side through ReLU layers) higher-order ones; their outputs are summed. Trained
/// jointly by Adam; seeded, single-threaded (BLAS aside).
public struct DeepFM: FeatureScoringModel, SideDataModel {
    public static let name = "deepfm"
    public static let summary =
        "DeepFM (Guo et al. 2017): FM + MLP over shared feature-column embeddings, trained jointly"
    public static let details = "cold start from user features (`--user-features`); a history scores through its items"

    public struct Config: FeatureModelConfig {
        public var factorCount = 16
        /// Hidden widths of the deep part (its input is fields × factors).
        public var layers = [200, 200]
        public var dropout: Float = 0
        public var objective = FeatureObjective.classification
        public var positiveThreshold: Float = 4
        public var negativeCount = 0
        public var epochCount = 10
        public var batchSize = 256
        public var learningRate: Float = 0.001
        public var regularization: Float = 0
        public var coldDropout: Float = 0
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case factorCount = "factors", layers, dropout, objective, positiveThreshold = "positive_threshold"
            case negativeCount = "negatives", epochCount = "epochs", batchSize = "batch_size"
            case learningRate = "learning_rate", regularization, seed
            case coldDropout = "cold_dropout"
        }

        public static let settings: [ModelSetting] = [
            .factors(.between(1, 1024), "embedding width, shared by the FM and deep parts"),
            ModelSetting("layers", .integers(.atLeast(1)), "hidden widths of the deep part"),
            .number("dropout", .from(0, below: 1), "dropout between hidden layers"),
            .featureObjective, .positiveThreshold, .featureNegatives,
            .epochs("passes over the training pairs"), .batchSize("examples per step"), .learningRate("Adam step"),
            .regularization("L2 weight decay"), .coldDropout, .seed,
        ]
    }

    public let config: Config
    public let state: FeatureModelState
    var objective: FeatureObjective { config.objective }

    public init(fitting train: Interactions, side: SideData, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        state = try FeatureModelState(
            fitting: train, side: side, config: config, model: Self.name, context: context,
            network: { DeepFMNetwork(config: config, transform: $0) },
            optimizer: { config.adam(for: $0) })
        self.config = config
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        state = try FeatureModelState(restoring: weights, userCount: userCount, itemCount: itemCount) {
            DeepFMNetwork(config: config, transform: $0, trained: true).namedShapes
        }
    }

    func emptyNetwork() -> DeepFMNetwork { DeepFMNetwork(config: config, transform: features.transform, trained: true) }
}

/// FM over every feature plus an MLP over the fields' pooled embeddings (the same table).
final class DeepFMNetwork: FeatureNetwork {
    let bias = Variable(Tensor.zeros([1]), requiresGradient: true)
    let linear: Embedding
    let factors: Embedding
    let deep: MLP
    let fieldCount: Int
    let width: Int

    init(config: DeepFM.Config, transform: FeatureTransform, trained: Bool = false) {
        let seed = config.seed
        fieldCount = transform.fieldCount
        width = config.factorCount
        linear = Embedding(transform.featureCount, 1, initializer: .zeros, seed: seed &+ 1)
        factors = Embedding(
            transform.featureCount, config.factorCount, initializer: trained ? .zeros : .normal(0.01), seed: seed &+ 2)
        deep = MLP(
            [transform.fieldCount * config.factorCount] + config.layers + [1], activation: .relu,
            dropout: config.dropout, initializer: trained ? .zeros : nil, seed: seed &+ 3)
    }

    var ownParameters: [NamedParameter] { [NamedParameter("bias", bias)] }
    var children: [(name: String, module: any Module)] { [("linear", linear), ("factors", factors), ("deep", deep)] }

    func callAsFunction(_ batch: FeatureBatch) -> Variable {
        let offsets = batch.exampleOffsets
        let wide = linear.table.bagged(indices: batch.indices, offsets: offsets, weights: batch.weights) + bias
        let pairwise = FactorizationNetwork.pairwise(factors.table, batch.indices, offsets, batch.weights)
        let fields = factors.table.bagged(indices: batch.indices, offsets: batch.offsets, weights: batch.weights)
        return wide + pairwise + deep(fields.reshaped([batch.exampleCount, fieldCount * width]))
    }
}
