import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Factorisation machine (Rendle 2010) over feature columns:
/// w₀ + Σᵢ wᵢxᵢ + Σᵢ<ⱼ ⟨vᵢ, vⱼ⟩ xᵢxⱼ, the
/// pairwise sum computed in O(k·n) as ½ Σ_f [(Σᵢ v_if xᵢ)² − Σᵢ v_if² xᵢ²]. `factors=0` leaves the
/// linear part: logistic (or linear) regression on the same columns. Trained by Adam on
/// mini-batches; seeded, single-threaded (BLAS aside), so a seeded run is repeatable.
public struct FactorizationMachine: FeatureScoringModel, SideDataModel {
    public static let name = "fm"
    public static let summary =
        "factorisation machine (Rendle 2010) over feature columns (IDs, attributes, genres, crosses); factors=0: LR"
    public static let details = "cold start from user features (`--user-features`); a history scores through its items"

    public struct Config: FeatureModelConfig {
        public var factorCount = 16
        public var objective = FeatureObjective.classification
        public var positiveThreshold: Float = 4
        public var negativeCount = 0
        public var epochCount = 10
        public var batchSize = 256
        public var learningRate: Float = 0.001
        /// L2 weight decay on every parameter (Adam's).
        public var regularization: Float = 0
        public var coldDropout: Float = 0
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case factorCount = "factors", objective, positiveThreshold = "positive_threshold", negativeCount =
                "negatives"
            case epochCount = "epochs", batchSize = "batch_size", learningRate = "learning_rate", regularization, seed
            case coldDropout = "cold_dropout"
        }

        public static let settings: [ModelSetting] = [
            .factors(.between(0, 1024), "pairwise-interaction width (0: linear model only)"),
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
            network: {
                FactorizationNetwork(featureCount: $0.featureCount, factors: config.factorCount, seed: config.seed)
            },
            optimizer: { config.adam(for: $0) })
        self.config = config
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        state = try FeatureModelState(restoring: weights, userCount: userCount, itemCount: itemCount) {
            FactorizationNetwork(featureCount: $0.featureCount, factors: config.factorCount, seed: 0, trained: true)
                .namedShapes
        }
    }

    func emptyNetwork() -> FactorizationNetwork {
        FactorizationNetwork(
            featureCount: state.features.transform.featureCount, factors: config.factorCount, seed: 0, trained: true)
    }
}

/// w₀ + the linear bag + the FM pairwise term, one output per example.
final class FactorizationNetwork: FeatureNetwork {
    let bias = Variable(Tensor.zeros([1]), requiresGradient: true)
    let linear: Embedding
    let factors: Embedding?

    init(featureCount: Int, factors: Int, seed: UInt64, trained: Bool = false) {
        linear = Embedding(featureCount, 1, initializer: .zeros, seed: seed &+ 1)
        self.factors =
            factors > 0
            ? Embedding(featureCount, factors, initializer: trained ? .zeros : .normal(0.01), seed: seed &+ 2) : nil
    }

    var ownParameters: [NamedParameter] { [NamedParameter("bias", bias)] }
    var children: [(name: String, module: any Module)] {
        [("linear", linear)] + (factors.map { [("factors", $0 as any Module)] } ?? [])
    }

    func callAsFunction(_ batch: FeatureBatch) -> Variable {
        let offsets = batch.exampleOffsets
        let output = linear.table.bagged(indices: batch.indices, offsets: offsets, weights: batch.weights) + bias
        guard let factors else { return output }
        return output + FactorizationNetwork.pairwise(factors.table, batch.indices, offsets, batch.weights)
    }

    /// ½ Σ_f [(Σᵢ v_if xᵢ)² − Σᵢ (v_if xᵢ)²] per bag, `[bags, 1]`.
    static func pairwise(_ table: Variable, _ indices: [Int32], _ offsets: [Int], _ weights: [Float]) -> Variable {
        let sum = table.bagged(indices: indices, offsets: offsets, weights: weights)
        let squares = table.baggedSquares(indices: indices, offsets: offsets, weights: weights)
        return (sum.squared() - squares).sum(alongAxis: 1) * 0.5
    }
}
