import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Collaborative denoising autoencoder (CDAE, Wu, DuBois, Zheng and Ester, WSDM 2016): a user's
/// binary history y, corrupted by dropout (kept items scaled by 1/(1 − q)), is encoded together
/// with a per-user input node V_u, h = σ(Wᵀỹ + V_u + b), and decoded to a logit per item,
/// ŷ = W′ᵀh + b′. The loss is the logistic one summed over every item (the paper's best), or the
/// multinomial one of Mult-DAE; L2 λ on every weight. Adam on batches of users.
///
/// A history that was not in training (fold-in, a new user) is scored with V_u = 0, the user node's
/// regularised centre: with `user_node=false` the model has no user node and fold-in equals a
/// training user's score exactly. Seeded: a run is repeatable.
public struct CDAE: TrainableRecommender {
    public static let name = "cdae"
    public static let summary =
        "CDAE (Wu et al. 2016): denoising autoencoder of a user's history with a user input node"
    public static let details =
        "a dropout-corrupted history plus a user vector through one hidden layer, decoded to logits over every "
        + "item; logistic or multinomial loss; Adam; epochs chosen on validation"

    public struct Config: ModelConfig {
        // Defaults chosen on a per-user 20 % holdout cut from the ml-100k peers' training part (validation
        // NDCG@10: hidden 100/200/400 → 0.2681/0.2765/0.2695; learning rate 0.001 stalls early, 0.003 0.2412;
        // λ 0.1 0.2013, 1e-5 0.1556; the multinomial loss 0.2646).
        public var hiddenSize = 200
        public var activation = Activation.sigmoid
        public var loss = LossChoice.logistic
        /// Whether each user has an input node (the "collaborative" part); new users get a zero one.
        public var userNode = true
        public var epochCount = 200
        public var batchSize = 256
        public var learningRate: Float = 0.01
        /// Input dropout probability q (the corruption).
        public var dropout: Float = 0.5
        /// λ of λ·Σ‖W‖² (Adam adds 2λ·W to each gradient).
        public var regularization: Float = 0.01
        public var validation = 0.2
        public var patience = 30
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case hiddenSize = "hidden", activation, loss, userNode = "user_node", epochCount = "epochs"
            case batchSize = "batch_size", learningRate = "learning_rate", dropout, regularization, validation
            case patience, seed
        }

        public static let settings: [ModelSetting] = [
            .integer("hidden", .atLeast(1), "hidden units", aliases: ["factors"]),
            .choice("activation", Activation.self, "the hidden layer's function"),
            .choice("loss", LossChoice.self, "logistic (per item, the paper's) or multinomial (Mult-DAE's)"),
            .boolean("user_node", "a learned input vector per user (new users get zero)"),
            .epochs("the most passes over the users (the count is chosen on validation)"),
            .batchSize("users per step"),
            .learningRate("Adam step"),
            .number("dropout", .from(0, below: 1), "input dropout q (the corruption)"),
            .regularization("λ of the L2 penalty λ·Σ‖W‖²"),
            .validation, .patience,
            .seed,
        ]
    }

    public enum LossChoice: String, Codable, Sendable, CaseIterable {
        case logistic, multinomial
    }

    let state: HistoryModelState<Config>
    public var config: Config { state.config }
    /// The trained parameters by name (`encoder.weight`, `users.weight`, `decoder.weight`, …).
    public var parameters: [String: Tensor] { state.parameters }
    var history: InteractionMatrix { state.history }
    public var userCount: Int { state.userCount }
    public var itemCount: Int { state.itemCount }

    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        state = try HistoryModelState(
            fitting: train, config: config, epochs: \.epochCount, validation: config.validation,
            patience: config.patience, seed: config.seed, model: Self.name
        ) { try Self.train($0, $1, context, $2) }
    }

    static func train(
        _ train: Interactions, _ config: Config, _ context: TrainingContext, _ validation: ValidationHoldout?
    ) throws -> ((network: CDAENetwork, history: InteractionMatrix), bestEpoch: Int?) {
        let network = CDAENetwork(config, userCount: train.userCount, itemCount: train.itemCount)
        let itemCount = Float(train.itemCount)
        let (history, best) = try network.train(
            on: train, epochs: config.epochCount, batchSize: config.batchSize, learningRate: config.learningRate,
            weightDecay: 2 * config.regularization, seed: config.seed, context: context, validation: validation,
            patience: config.patience
        ) { batch, _, _, generator in
            let logits = network.forward(
                users: batch.users, histories: batch.histories, dropout: config.dropout, using: &generator)
            switch config.loss {
            case .logistic:
                // Summed over the items, averaged over the users (the binary cross-entropy is a mean over both).
                return Loss.binaryCrossEntropy(logits: logits, targets: batch.targets) * itemCount
            case .multinomial:
                return Loss.multinomialLogLikelihood(logits: logits, counts: batch.targets)
            }
        }
        return ((network, history), best)
    }

    public func save(into weights: inout ModelWeights) { state.save(into: &weights) }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        state = try HistoryModelState(
            restoring: config, weights: weights,
            shapes: CDAENetwork(config, userCount: userCount, itemCount: itemCount, restoring: [:]).namedShapes,
            userCount: userCount, itemCount: itemCount)
    }

    var restored: CDAENetwork {
        CDAENetwork(config, userCount: userCount, itemCount: itemCount, restoring: parameters)
    }

    public func scores(forUsers users: [Int32]) -> Tensor { restored.logits(users: users, history: history) }

    public func scores(forHistory items: [Int32]) -> [Float] { scores(forHistories: [items]).scalars }

    /// New users (no user node): one pass for the batch.
    public func scores(forHistories histories: [[Int32]]) -> Tensor {
        restored.logits(users: nil, histories: histories.map { CDAENetwork.distinctKnown($0, itemCount: itemCount) })
    }
}

/// CDAE's network: the history's items pooled by sum (an `EmbeddingBag`), plus the user's vector and
/// a bias, through the activation, then a linear decoder to logits over every item.
final class CDAENetwork: HistoryAutoencoder {
    let encoder: EmbeddingBag
    let users: Embedding?
    let bias: Variable
    let decoder: Linear
    let activation: Activation
    let itemCount: Int

    /// A fresh network, or (with `trained`) one that starts from zeros and loads those values.
    init(_ config: CDAE.Config, userCount: Int, itemCount: Int, restoring trained: [String: Tensor]? = nil) {
        let start: Initializer = trained == nil ? .glorotUniform : .zeros
        let hidden = config.hiddenSize
        encoder = EmbeddingBag(
            itemCount, hidden, pooling: .sum, initializer: start, sparse: true, seed: config.seed &+ 1)
        users =
            config.userNode
            ? Embedding(userCount, hidden, initializer: trained == nil ? .normal(0.01) : .zeros, seed: config.seed &+ 2)
            : nil
        bias = Variable(Tensor.zeros([hidden]), requiresGradient: true)
        decoder = Linear(hidden, itemCount, initializer: start, seed: config.seed &+ 3)
        activation = config.activation
        self.itemCount = itemCount
        if let trained, !trained.isEmpty { load(trained) }
    }

    var ownParameters: [NamedParameter] { [NamedParameter("encoder.bias", bias)] }

    var children: [(name: String, module: any Module)] {
        [("encoder", encoder as any Module)] + (users.map { [("users", $0 as any Module)] } ?? [])
            + [("decoder", decoder)]
    }

    /// Logits for a batch of histories; `users` adds their input nodes (nil: new users, a zero node).
    /// With `dropout`, each item is dropped with that probability and the rest scaled by 1/(1 − p).
    func forward(users batchUsers: [Int32]?, histories: [[Int32]], dropout: Float, using generator: inout SplitMix64)
        -> Variable
    {
        var input = histories
        if dropout > 0 { input = histories.map { $0.filter { _ in generator.nextUnitFloat() >= dropout } } }
        var pooled = encoder(input)
        if dropout > 0 { pooled = pooled * (1 / (1 - dropout)) }
        if let users, let batchUsers { pooled = pooled + users(batchUsers) }
        return decoder(activation(pooled + bias))
    }

    /// Logits without a graph; `users` nil for histories of users not in training.
    func logits(users: [Int32]?, histories: [[Int32]]) -> Tensor {
        var generator = SplitMix64(seed: 0)
        return GradientRecording.disabled {
            forward(users: users, histories: histories, dropout: 0, using: &generator).value
        }
    }

    func logits(users: [Int32], history: InteractionMatrix) -> Tensor {
        logits(users: users, histories: users.map { Array(history.columns(inRow: Int($0))) })
    }
}
