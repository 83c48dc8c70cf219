import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Wide & Deep (Cheng et al. 2016): a wide linear model over every feature column, crossed columns
/// included, and a deep MLP over the embeddings of the other columns, their outputs summed and
/// trained jointly — the wide part by FTRL-Proximal (or AdaGrad) as in the paper, the deep part by
/// Adam. `part=wide` or `part=deep` trains one alone (the paper's ablation). Seeded,
/// single-threaded (BLAS aside).
public struct WideAndDeep: FeatureScoringModel, SideDataModel {
    public static let name = "widedeep"
    public static let summary =
        "Wide & Deep (Cheng et al. 2016): linear over sparse + crossed columns (FTRL) + MLP over embeddings (Adam)"
    public static let details = "part=wide / part=deep for the ablation; cold start from user features"

    public enum Part: String, Codable, Sendable, CaseIterable {
        case both, wide, deep
    }

    public enum WideOptimizer: String, Codable, Sendable, CaseIterable {
        case ftrl, adagrad
    }

    public struct Config: FeatureModelConfig {
        public var part = Part.both
        public var factorCount = 16
        public var layers = [200, 200]
        public var dropout: Float = 0
        public var wideOptimizer = WideOptimizer.ftrl
        public var wideLearningRate: Float = 0.05
        /// FTRL's L1 strength (sparsifies the wide weights).
        public var l1: Float = 0
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
            case part, factorCount = "factors", layers, dropout, wideOptimizer = "wide_optimizer"
            case wideLearningRate = "wide_learning_rate", l1, objective, positiveThreshold = "positive_threshold"
            case negativeCount = "negatives", epochCount = "epochs", batchSize = "batch_size"
            case learningRate = "learning_rate", regularization, seed
            case coldDropout = "cold_dropout"
        }

        public static let settings: [ModelSetting] = [
            .choice("part", Part.self, "both (joint), or wide or deep alone"),
            .factors(.between(1, 1024), "embedding width of the deep part"),
            ModelSetting("layers", .integers(.atLeast(1)), "hidden widths of the deep part"),
            .number("dropout", .from(0, below: 1), "dropout between hidden layers"),
            .choice("wide_optimizer", WideOptimizer.self, "the wide part's optimiser (the paper: FTRL)"),
            .number("wide_learning_rate", .above(0), "the wide part's step (FTRL's α)"),
            .number("l1", .atLeast(0), "FTRL's L1 strength on the wide weights"),
            .featureObjective, .positiveThreshold, .featureNegatives,
            .epochs("passes over the training pairs"), .batchSize("examples per step"),
            .learningRate("the deep part's Adam step"), .regularization("L2 on the deep part (Adam's decay)"),
            .coldDropout, .seed,
        ]
    }

    public let config: Config
    public let state: FeatureModelState
    var objective: FeatureObjective { config.objective }

    public init(fitting train: Interactions, side: SideData, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        state = try FeatureModelState(
            fitting: train, side: side, config: config, model: Self.name, context: context,
            network: { WideAndDeepNetwork(config: config, transform: $0) },
            optimizer: { network in Self.optimizer(network, config: config) })
        self.config = config
    }

    /// The wide part by FTRL (or AdaGrad), the deep part by Adam, stepping together.
    static func optimizer(_ network: WideAndDeepNetwork, config: Config) -> any Optimizer {
        var optimizers: [any Optimizer] = []
        let wide = network.wideParameters
        if !wide.isEmpty {
            switch config.wideOptimizer {
            case .ftrl: optimizers.append(FTRL(wide, learningRate: config.wideLearningRate, l1: config.l1))
            case .adagrad: optimizers.append(Adagrad(wide, learningRate: config.wideLearningRate))
            }
        }
        let deep = network.deepParameters
        if !deep.isEmpty {
            optimizers.append(Adam(deep, learningRate: config.learningRate, weightDecay: config.regularization))
        }
        return CombinedOptimizer(optimizers)
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        state = try FeatureModelState(restoring: weights, userCount: userCount, itemCount: itemCount) {
            WideAndDeepNetwork(config: config, transform: $0, trained: true).namedShapes
        }
    }

    func emptyNetwork() -> WideAndDeepNetwork {
        WideAndDeepNetwork(config: config, transform: features.transform, trained: true)
    }
}

/// The wide linear part over every field and the deep MLP over the non-crossed fields' embeddings.
final class WideAndDeepNetwork: FeatureNetwork {
    let bias = Variable(Tensor.zeros([1]), requiresGradient: true)
    let wide: Embedding?
    let embeddings: Embedding?
    let deep: MLP?
    /// The fields the deep part reads (all but crosses).
    let deepFields: [Int]
    let width: Int

    init(config: WideAndDeep.Config, transform: FeatureTransform, trained: Bool = false) {
        let seed = config.seed
        width = config.factorCount
        let crossed = Set(transform.crossedFields)
        deepFields = (0..<transform.fieldCount).filter { !crossed.contains($0) }
        wide =
            config.part != .deep ? Embedding(transform.featureCount, 1, initializer: .zeros, seed: seed &+ 1) : nil
        if config.part != .wide {
            embeddings = Embedding(
                transform.featureCount, config.factorCount, initializer: trained ? .zeros : .normal(0.01),
                seed: seed &+ 2)
            deep = MLP(
                [deepFields.count * config.factorCount] + config.layers + [1], activation: .relu,
                dropout: config.dropout, initializer: trained ? .zeros : nil, seed: seed &+ 3)
        } else {
            embeddings = nil
            deep = nil
        }
    }

    var ownParameters: [NamedParameter] { [NamedParameter("bias", bias)] }
    var children: [(name: String, module: any Module)] {
        (wide.map { [("wide", $0 as any Module)] } ?? [])
            + (embeddings.map { [("embeddings", $0 as any Module)] } ?? [])
            + (deep.map { [("deep", $0 as any Module)] } ?? [])
    }

    /// The bias and the wide weights (FTRL or AdaGrad); with `part=deep` the bias goes with the deep part.
    var wideParameters: [Variable] { wide.map { [bias, $0.table] } ?? [] }
    var deepParameters: [Variable] {
        (wide == nil ? [bias] : []) + (embeddings.map { [$0.table] } ?? []) + (deep?.parameters.map(\.variable) ?? [])
    }

    func callAsFunction(_ batch: FeatureBatch) -> Variable {
        var output: Variable = bias
        if let wide {
            output =
                wide.table.bagged(indices: batch.indices, offsets: batch.exampleOffsets, weights: batch.weights)
                + bias
        }
        if let embeddings, let deep {
            let fields = deepFields.count == batch.fieldCount ? batch : batch.selecting(fields: deepFields)
            let pooled = embeddings.table.bagged(
                indices: fields.indices, offsets: fields.offsets, weights: fields.weights)
            let logit = deep(pooled.reshaped([batch.exampleCount, deepFields.count * width]))
            output = wide == nil ? logit + bias : output + logit
        }
        return output
    }
}
