import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// "MF with DNN", the TensorFlow recommender talk's model: a user tower (the user's ID embedding and
/// feature columns — attributes, rating count and mean — and, with `history=true`, the sqrtn-pooled
/// embeddings of the items they rated: MF with history, as SVD++) and an item tower (ID embedding,
/// genres pooled, year, average rating and count), each ReLU layers ending in a vector; the score is
/// their dot product plus a linear term per feature (the user and item biases among them) and the
/// global mean. `objective=regression` (MSE, L2 by `regularization`) or `classification` (BCE on
/// rating ≥ `positive_threshold`). Crossed and context columns are not read (the towers are apart).
/// Seeded, single-threaded (BLAS aside).
public struct MFDNN: FeatureScoringModel, SideDataModel {
    public static let name = "mfdnn"
    public static let summary =
        "MF + DNN (the TensorFlow recommender talk): user and item towers over feature columns, dot product + biases"
    public static let details =
        "history=true adds the sqrtn-pooled rated items (MF with history); cold start from features"

    public struct Config: FeatureModelConfig {
        /// Embedding width of every feature.
        public var factorCount = 16
        /// Each tower's layer widths; the last is the vector whose dot product scores.
        public var layers = [64, 32]
        /// Pool the user's rated items into the user tower (MF with history).
        public var history = false
        public var objective = FeatureObjective.regression
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
            case factorCount = "factors", layers, history, objective, positiveThreshold = "positive_threshold"
            case negativeCount = "negatives", epochCount = "epochs", batchSize = "batch_size"
            case learningRate = "learning_rate", regularization, seed
            case coldDropout = "cold_dropout"
        }

        public static let settings: [ModelSetting] = [
            .factors(.between(1, 1024), "embedding width of every feature"),
            ModelSetting("layers", .integers(.atLeast(1)), "each tower's widths; the last is the scoring vector"),
            .boolean("history", "pool the user's rated items into the user tower (MF with history)"),
            .featureObjective, .positiveThreshold, .featureNegatives,
            .epochs("passes over the training pairs"), .batchSize("examples per step"), .learningRate("Adam step"),
            .regularization("L2 weight decay"), .coldDropout, .seed,
        ]
    }

    public let config: Config
    public let state: FeatureModelState
    var objective: FeatureObjective { config.objective }

    /// The history column MF with history adds to the user side.
    static let historyColumn = FeatureColumnSpec(
        "user_history", source: "history", kind: .multivalent, combiner: .sqrtn)

    public init(fitting train: Interactions, side: SideData, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        state = try FeatureModelState(
            fitting: train, side: side, config: config, model: Self.name, context: context,
            extraUserColumns: config.history ? [Self.historyColumn] : [],
            check: { try FeatureModelState.requireBothSides($0, model: Self.name) },
            network: { MFDNNNetwork(config: config, transform: $0) }, optimizer: { config.adam(for: $0) })
        self.config = config
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        state = try FeatureModelState(restoring: weights, userCount: userCount, itemCount: itemCount) {
            MFDNNNetwork(config: config, transform: $0, trained: true).namedShapes
        }
    }

    func emptyNetwork() -> MFDNNNetwork { MFDNNNetwork(config: config, transform: features.transform, trained: true) }

    /// Scores from the towers: every item's vector once, each user's once, then one product.
    public func scores(forUsers users: [Int32]) -> Tensor {
        tower(features.users.batch(rows: users))
    }

    public func scores(forUserValues values: [String: RawFeatureValue]) -> [Float] {
        tower(features.transform.encode(values: values, side: .user).batch(rows: [0])).scalars
    }

    /// `[users, items]` outputs for a batch of the user side's fields.
    func tower(_ users: FeatureBatch) -> Tensor {
        let network = network()
        return GradientRecording.disabled {
            let (itemVectors, itemLinear) = network.side(
                features.items.batch(rows: (0..<itemCount).map(Int32.init)), user: false)
            let (userVectors, userLinear) = network.side(users, user: true)
            let products = userVectors.value.matmul(itemVectors.value, transposingOther: true)
            return products + userLinear.value + itemLinear.value.reshaped([1, itemCount]) + network.bias.value
        }
    }
}

/// The user and item towers and the linear terms.
final class MFDNNNetwork: FeatureNetwork {
    let bias = Variable(Tensor.zeros([1]), requiresGradient: true)
    let linear: Embedding
    let embeddings: Embedding
    let userTower: MLP
    let itemTower: MLP
    let userFields: [Int]
    let itemFields: [Int]
    let width: Int

    init(config: MFDNN.Config, transform: FeatureTransform, trained: Bool = false) {
        let seed = config.seed
        width = config.factorCount
        userFields = transform.fields(of: .user)
        itemFields = transform.fields(of: .item)
        linear = Embedding(transform.featureCount, 1, initializer: .zeros, seed: seed &+ 1)
        embeddings = Embedding(
            transform.featureCount, config.factorCount, initializer: trained ? .zeros : .normal(0.01), seed: seed &+ 2)
        userTower = MLP(
            [userFields.count * config.factorCount] + config.layers, activation: .relu,
            initializer: trained ? .zeros : nil, seed: seed &+ 3)
        itemTower = MLP(
            [itemFields.count * config.factorCount] + config.layers, activation: .relu,
            initializer: trained ? .zeros : nil, seed: seed &+ 4)
    }

    var ownParameters: [NamedParameter] { [NamedParameter("bias", bias)] }
    var children: [(name: String, module: any Module)] {
        [("linear", linear), ("embeddings", embeddings), ("user_tower", userTower), ("item_tower", itemTower)]
    }

    /// One side's vectors `[n, d]` and linear terms `[n, 1]` from a batch of that side's fields only.
    func side(_ batch: FeatureBatch, user: Bool) -> (Variable, Variable) {
        let fieldCount = batch.fieldCount
        let pooled = embeddings.table.bagged(indices: batch.indices, offsets: batch.offsets, weights: batch.weights)
        let input = pooled.reshaped([batch.exampleCount, fieldCount * width])
        let vectors = (user ? userTower : itemTower)(input)
        let linearTerm = linear.table.bagged(
            indices: batch.indices, offsets: batch.exampleOffsets, weights: batch.weights)
        return (vectors, linearTerm)
    }

    func callAsFunction(_ batch: FeatureBatch) -> Variable {
        let (userVectors, userLinear) = side(batch.selecting(fields: userFields), user: true)
        let (itemVectors, itemLinear) = side(batch.selecting(fields: itemFields), user: false)
        return (userVectors * itemVectors).sum(alongAxis: 1) + userLinear + itemLinear + bias
    }
}
