import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Denoising autoencoder for collaborative filtering with a multinomial likelihood (Mult-DAE, Liang
/// et al., WWW 2018): Mult-VAE's I → 600 → 200 → 600 → I tanh network (the same code) with a
/// deterministic code instead of a Gaussian. A user's history x is normalised (x/‖x‖), corrupted by
/// dropout, encoded and decoded to logits over every item, scored by the multinomial log-likelihood;
/// L2 weight decay λ·Σ‖W‖² (λ = 0.01, the paper's code). Adam on batches of users.
///
/// Scoring reads the history with no dropout and works for any history, so new users need no
/// retraining and fold-in equals a training user's score exactly. Seeded: a run is repeatable.
public struct MultDAE: TrainableRecommender {
    public static let name = "multdae"
    public static let summary =
        "Mult-DAE (Liang et al. 2018): denoising autoencoder, multinomial likelihood; new users need no retraining"
    public static let details =
        "a dropout-corrupted history encoded by a tanh network into a code, decoded to logits over every item; Adam"

    public struct Config: ModelConfig {
        public var hiddenSize = 600
        public var factorCount = 200
        /// The most epochs; with `validation` the count is chosen on it.
        public var epochCount = 200
        public var batchSize = 500
        public var learningRate: Float = 0.001
        /// Input dropout probability (the corruption).
        public var dropout: Float = 0.5
        /// λ of the L2 penalty λ·Σ‖W‖² (Adam adds 2λ·W to each gradient).
        public var regularization: Float = 0.01
        // A fifth of each user's items held out, as the usual 80/20 protocol does; NDCG@10 on a tenth was
        // too noisy to choose by (it stopped Mult-DAE at epoch 44 of a curve still rising on ml-100k).
        public var validation = 0.2
        public var patience = 30
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case hiddenSize = "hidden", factorCount = "factors", epochCount = "epochs", batchSize = "batch_size"
            case learningRate = "learning_rate", dropout, regularization, validation, patience, seed
        }

        public static let settings: [ModelSetting] = [
            .integer("hidden", .atLeast(1), "encoder and decoder hidden width"),
            .integer("factors", .atLeast(1), "code width", aliases: ["latent"]),
            .epochs("the most passes over the users (the count is chosen on validation)"),
            .batchSize("users per step"),
            .learningRate("Adam step"),
            .number("dropout", .from(0, below: 1), "input dropout (the corruption)"),
            .regularization("λ of the L2 penalty λ·Σ‖W‖²"),
            .validation, .patience,
            .seed,
        ]
    }

    let state: HistoryModelState<Config>
    public var config: Config { state.config }
    /// The trained parameters by name (`encoder.weight`, `decoder.output.weight`, …).
    public var parameters: [String: Tensor] { state.parameters }
    var history: InteractionMatrix { state.history }
    public var userCount: Int { state.userCount }
    public var itemCount: Int { state.itemCount }

    /// Trains by the RecKitNN training loop (after choosing the epoch count on a validation part when
    /// `validation` > 0); reports each epoch with its mean loss.
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        state = try HistoryModelState(
            fitting: train, config: config, epochs: \.epochCount, validation: config.validation,
            patience: config.patience, seed: config.seed, model: Self.name
        ) { try Self.train($0, $1, context, $2) }
    }

    static func train(
        _ train: Interactions, _ config: Config, _ context: TrainingContext, _ validation: ValidationHoldout?
    )
        throws -> ((network: AutoencoderNetwork, history: InteractionMatrix), bestEpoch: Int?)
    {
        let network = Self.network(config, itemCount: train.itemCount)
        let (history, best) = try network.train(
            on: train, epochs: config.epochCount, batchSize: config.batchSize, learningRate: config.learningRate,
            weightDecay: 2 * config.regularization, seed: config.seed, context: context, validation: validation,
            patience: config.patience
        ) { batch, _, _, generator in
            let logits = network.forward(
                histories: batch.histories, dropout: config.dropout, sample: false, using: &generator
            ).logits
            return Loss.multinomialLogLikelihood(logits: logits, counts: batch.targets)
        }
        return ((network, history), best)
    }

    public func save(into weights: inout ModelWeights) { state.save(into: &weights) }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        state = try HistoryModelState(
            restoring: config, weights: weights, shapes: Self.network(config, itemCount: itemCount).namedShapes,
            userCount: userCount, itemCount: itemCount)
    }

    public func scores(forUsers users: [Int32]) -> Tensor {
        Self.network(config, itemCount: itemCount, restoring: parameters).logits(users: users, history: history)
    }

    public func scores(forHistory items: [Int32]) -> [Float] { scores(forHistories: [items]).scalars }

    public func scores(forHistories histories: [[Int32]]) -> Tensor {
        Self.network(config, itemCount: itemCount, restoring: parameters).logits(foldIn: histories)
    }

    static func network(_ config: Config, itemCount: Int, restoring trained: [String: Tensor]? = nil)
        -> AutoencoderNetwork
    {
        AutoencoderNetwork(
            hiddenSize: config.hiddenSize, factorCount: config.factorCount, itemCount: itemCount, variational: false,
            seed: config.seed, restoring: trained)
    }
}
