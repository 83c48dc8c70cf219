import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Variational MF: every user and item vector is a Gaussian, N(μ, σ²) with a learned mean and
/// log-variance per dimension, trained by drawing a vector through the reparameterisation trick and
/// adding the KL divergence to a standard normal prior (weighted by `kl_weight`) to the loss, as in
/// Bayesian MF by variational inference. Predictions use the means. Every side is a sum of feature
/// embeddings as in `mfside` (means and log-variances alike, plus one learned log-variance offset),
/// with its losses. Adam; seeded, single-threaded (BLAS aside).
public struct VariationalMF: SideScoringModel, SideDataModel, ItemSimilarity {
    public static let name = "vmf"
    public static let summary =
        "variational MF: Gaussian user and item vectors (reparameterisation, KL to a standard normal prior)"
    public static let details =
        "user and item sides are sums of feature embeddings as in `mfside`; losses bpr, warp, logistic, mse"

    public struct Config: SideLossConfig {
        public var factorCount = 32
        /// Weight of KL(q ‖ N(0, I)) of the batch's user and item vectors, per example.
        public var klWeight: Float = 0.01
        public var loss = SideLoss.warp
        public var positiveThreshold: Float = 4
        public var sampleCount = 0
        public var epochCount = 10
        public var batchSize = 256
        public var learningRate: Float = 0.005
        public var regularization: Float = 0
        public var coldDropout: Float = 0
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case factorCount = "factors", klWeight = "kl_weight", loss, positiveThreshold = "positive_threshold"
            case sampleCount = "negatives", epochCount = "epochs", batchSize = "batch_size"
            case learningRate = "learning_rate", regularization, seed, coldDropout = "cold_dropout"
        }

        public static let settings = ModelSetting.sideSum(
            .factors(.between(1, 1024), "width of every mean and log-variance vector"),
            .number("kl_weight", .atLeast(0), "weight of the KL term (the batch's user and item vectors, per example)"))
    }

    public let config: Config
    public let state: FeatureModelState
    var objective: FeatureObjective { config.objective }

    public init(fitting train: Interactions, side: SideData, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        state = try FeatureModelState(
            fittingSides: train, side: side, config: config, model: Self.name, context: context,
            network: { VariationalNetwork(config: config, transform: $0) })
        self.config = config
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        state = try FeatureModelState(restoring: weights, userCount: userCount, itemCount: itemCount) {
            VariationalNetwork(config: config, transform: $0, trained: true).namedShapes
        }
    }

    func emptyNetwork() -> VariationalNetwork {
        VariationalNetwork(config: config, transform: features.transform, trained: true)
    }

    /// The means' scores, as `mfside` scores.
    func scores(_ users: FeatureBatch) -> Tensor { network().means.scores(users, items: allItems) }

    /// The items most alike by the cosine of their mean vectors, for `similar`.
    public func similarItems(to item: Int32, k: Int) -> [ScoredIndex] {
        similarItems(to: item, k: k, vectors: network().means.itemVectors(allItems))
    }
}

/// `mfside`'s network for the means, a log-variance table beside it and a sampler; the KL term of
/// every training pass waits in `penalty` for the loss.
final class VariationalNetwork: FeatureNetwork {
    let means: MFSideNetwork
    let logVariances: Embedding
    /// Added to every side's summed log-variance: starts the vectors nearly deterministic.
    let logVarianceOffset = Variable(Tensor(repeating: -5, shape: [1]), requiresGradient: true)
    let sample: GaussianSample
    let klWeight: Float
    var penalty: Variable?

    init(config: VariationalMF.Config, transform: FeatureTransform, trained: Bool = false) {
        means = MFSideNetwork(
            factorCount: config.factorCount, seed: config.seed, transform: transform, trained: trained)
        logVariances = Embedding(transform.featureCount, config.factorCount, initializer: .zeros, seed: 0)
        sample = GaussianSample(seed: config.seed &+ 5)
        klWeight = config.klWeight
    }

    var ownParameters: [NamedParameter] { [NamedParameter("log_variance_offset", logVarianceOffset)] }
    var children: [(name: String, module: any Module)] {
        [("means", means), ("log_variances", logVariances), ("sample", sample)]
    }

    /// A side's drawn vectors (in training; the means otherwise) and biases; in training, its KL
    /// term joins the penalty.
    func side(_ batch: FeatureBatch) -> (vectors: Variable, biases: Variable) {
        let (mean, biases) = means.side(batch)
        guard sample.isTraining else { return (mean, biases) }
        let logVariance =
            logVariances.table.bagged(indices: batch.indices, offsets: batch.exampleOffsets, weights: batch.weights)
            + logVarianceOffset
        if klWeight > 0 {
            penalty = Loss.gaussianKL(mean: mean, logVariance: logVariance).adding(penalty)
        }
        return (sample(mean: mean, logVariance: logVariance), biases)
    }

    func callAsFunction(_ batch: FeatureBatch) -> Variable {
        let user = side(batch.selecting(fields: means.userFields))
        let item = side(batch.selecting(fields: means.itemFields))
        return (user.vectors * item.vectors).sum(alongAxis: 1) + user.biases + item.biases + means.bias
    }

    func takePenalty() -> Variable? {
        defer { penalty = nil }
        return penalty.map { $0 * klWeight }
    }
}
