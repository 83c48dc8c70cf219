import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Variational autoencoder for collaborative filtering with a multinomial likelihood (Mult-VAE,
/// Liang et al., WWW 2018). A user's history x is encoded (input dropout, x/‖x‖, tanh layer) into a
/// Gaussian q(z | x); a sample of z is decoded (tanh layer, then logits over every item) and scored
/// by the multinomial log-likelihood Σ_i x_i log softmax(logits)_i, plus β·KL(q ‖ N(0, I)) with β
/// annealed linearly from 0 to `beta` over `annealSteps` updates. Adam on batches of users.
///
/// Scoring uses the mean of q (no sampling) and works for any history, so new users need no
/// retraining. Seeded: a run is repeatable.
public struct MultVAE: TrainableRecommender {
    public static let name = "multvae"
    public static let summary =
        "Mult-VAE (Liang et al. 2018): multinomial likelihood + annealed β·KL; new users need no retraining"
    public static let details =
        "a history encoded by an input-dropout tanh encoder into a Gaussian, decoded to logits over every item; Adam"

    public struct Config: ModelConfig {
        public var hiddenSize = 600
        public var factorCount = 200
        /// The most epochs; with `validation` the count is chosen on it.
        public var epochCount = 200
        public var batchSize = 500
        public var learningRate: Float = 0.001
        /// Input dropout probability.
        public var dropout: Float = 0.5
        /// The final weight of the KL term.
        public var beta: Float = 0.2
        /// Updates over which β grows from 0 to `beta` (0: the whole training run).
        public var annealSteps = 0
        // A fifth of each user's items held out, as the usual 80/20 protocol does; NDCG@10 on a tenth was
        // too noisy to choose by (it stopped Mult-DAE at epoch 44 of a curve still rising on ml-100k).
        public var validation = 0.2
        public var patience = 30
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case hiddenSize = "hidden", factorCount = "factors", epochCount = "epochs", batchSize = "batch_size"
            case learningRate = "learning_rate", dropout, beta, annealSteps = "anneal_steps", validation, patience
            case seed
        }

        public static let settings: [ModelSetting] = [
            .integer("hidden", .atLeast(1), "encoder and decoder hidden width"),
            .integer("factors", .atLeast(1), "latent dimensions (the Gaussian's)", aliases: ["latent"]),
            .epochs("the most passes over the users (the count is chosen on validation)"),
            .batchSize("users per step"),
            .learningRate("Adam step"),
            .number("dropout", .from(0, below: 1), "input dropout"),
            .number("beta", .atLeast(0), "final KL weight"),
            .integer("anneal_steps", .atLeast(0), "updates to reach beta (0: all of training)"),
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

    /// Trains by the RecKitNN training loop (histories and targets prepared on a background
    /// thread); reports each epoch with its mean loss.
    /// With `validation` > 0 the epoch count is chosen first (`EpochChoice`); `anneal_steps` 0 becomes
    /// the updates of all `epochs` (the most) before that, so both runs anneal β alike. The saved
    /// configuration's `epochs` is the count trained on all of `train`.
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        var config = config
        if config.annealSteps == 0 {
            // β's schedule is fixed per update before the epoch count is chosen, so that the run trained
            // on everything follows the schedule the validation run chose its epochs by.
            let users = Set(train.users).count
            config.annealSteps = (users + config.batchSize - 1) / config.batchSize * config.epochCount
        }
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
        let network = AutoencoderNetwork(config: config, itemCount: train.itemCount)
        var anneal = config.annealSteps
        let (history, best) = try network.train(
            on: train, epochs: config.epochCount, batchSize: config.batchSize, learningRate: config.learningRate,
            weightDecay: 0, seed: config.seed, context: context, validation: validation, patience: config.patience
        ) { batch, step, totalSteps, generator in
            if anneal == 0 { anneal = totalSteps }
            let beta = config.beta * min(1, Float(step) / Float(max(1, anneal)))
            let (logits, mean, logVariance) = network.forward(
                histories: batch.histories, dropout: config.dropout, sample: true, using: &generator)
            return Loss.multinomialLogLikelihood(logits: logits, counts: batch.targets)
                + Loss.gaussianKL(mean: mean, logVariance: logVariance) * beta
        }
        return ((network, history), best)
    }

    public func save(into weights: inout ModelWeights) { state.save(into: &weights) }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        state = try HistoryModelState(
            restoring: config, weights: weights,
            shapes: AutoencoderNetwork(config: config, itemCount: itemCount).namedShapes, userCount: userCount,
            itemCount: itemCount)
    }

    public func scores(forUsers users: [Int32]) -> Tensor { restored.logits(users: users, history: history) }

    public func scores(forHistory items: [Int32]) -> [Float] { scores(forHistories: [items]).scalars }

    public func scores(forHistories histories: [[Int32]]) -> Tensor { restored.logits(foldIn: histories) }

    /// The trained network, scoring from the mean of q(z | history).
    var restored: AutoencoderNetwork { AutoencoderNetwork(config: config, itemCount: itemCount, restoring: parameters) }
}

/// The encoder and decoder of Mult-VAE and Mult-DAE (I → hidden → factors → hidden → I, tanh) as
/// RecKitNN modules. The variational network's latent layer gives [μ, log σ²]; the denoising one's
/// gives the code itself (tanh).
final class AutoencoderNetwork: HistoryAutoencoder {
    let encoder: EmbeddingBag // the first encoder layer over a history: Σ W_i / √n (+ bias)
    let encoderBias: Variable
    let latent: Linear // hidden → [μ, log σ²], or hidden → code
    let decoderHidden: Linear
    let decoderOutput: Linear
    let factorCount: Int
    let itemCount: Int
    let variational: Bool

    /// A fresh network, or (with `trained`) one that starts from zeros and loads those values.
    init(
        hiddenSize: Int, factorCount: Int, itemCount: Int, variational: Bool, seed: UInt64,
        restoring trained: [String: Tensor]? = nil
    ) {
        let start: Initializer = trained == nil ? .glorotUniform : .zeros
        encoder = EmbeddingBag(itemCount, hiddenSize, pooling: .sum, initializer: start, sparse: true, seed: seed &+ 1)
        encoderBias = Variable(Tensor.zeros([hiddenSize]), requiresGradient: true)
        latent = Linear(hiddenSize, (variational ? 2 : 1) * factorCount, initializer: start, seed: seed &+ 2)
        decoderHidden = Linear(factorCount, hiddenSize, initializer: start, seed: seed &+ 3)
        decoderOutput = Linear(hiddenSize, itemCount, initializer: start, seed: seed &+ 4)
        self.factorCount = factorCount
        self.itemCount = itemCount
        self.variational = variational
        if let trained { load(trained) }
    }

    convenience init(config: MultVAE.Config, itemCount: Int, restoring trained: [String: Tensor]? = nil) {
        self.init(
            hiddenSize: config.hiddenSize, factorCount: config.factorCount, itemCount: itemCount, variational: true,
            seed: config.seed, restoring: trained)
    }

    /// Logits of training users (their stored histories), without a graph.
    func logits(users: [Int32], history: InteractionMatrix) -> Tensor {
        logits(users.map { Int($0) < history.rowCount ? Array(history.columns(inRow: Int($0))) : [] })
    }

    /// Logits for ad-hoc histories (fold-in: the same computation as for a training user).
    func logits(foldIn histories: [[Int32]]) -> Tensor {
        logits(histories.map { Self.distinctKnown($0, itemCount: itemCount) })
    }

    /// Decoder logits (from the mean of q for the variational network), without a graph.
    func logits(_ histories: [[Int32]]) -> Tensor {
        var generator = SplitMix64(seed: 0)
        return GradientRecording.disabled {
            forward(histories: histories, dropout: 0, sample: false, using: &generator).logits.value
        }
    }

    var ownParameters: [NamedParameter] { [NamedParameter("encoder.bias", encoderBias)] }

    var children: [(name: String, module: any Module)] {
        [
            ("encoder", encoder), ("latent", latent), ("decoder.hidden", decoderHidden),
            ("decoder.output", decoderOutput),
        ]
    }

    /// Logits, μ and log σ² for a batch of histories (the denoising network returns its code for both).
    /// With `dropout`, each history item is dropped
    /// with that probability and the rest scaled by 1/(1 − p) after the x/‖x‖ normalisation.
    func forward(histories: [[Int32]], dropout: Float, sample: Bool, using generator: inout SplitMix64)
        -> (logits: Variable, mean: Variable, logVariance: Variable)
    {
        var kept: [[Int32]] = []
        var scales: [Float] = []
        for items in histories {
            let norm = items.isEmpty ? 1 : 1 / Float(items.count).squareRoot()
            if dropout > 0 {
                kept.append(items.filter { _ in generator.nextUnitFloat() >= dropout })
                scales.append(norm / (1 - dropout))
            } else {
                kept.append(items)
                scales.append(norm)
            }
        }
        let pooled = encoder(kept) * Tensor(shape: [histories.count, 1], scalars: scales)
        let hidden = (pooled + encoderBias).tanh()
        guard variational else {
            let code = latent(hidden).tanh()
            return (decoderOutput(decoderHidden(code).tanh()), code, code)
        }
        let statistics = latent(hidden)
        let mean = statistics.columns(0..<factorCount)
        let logVariance = statistics.columns(factorCount..<(2 * factorCount))
        var z = mean
        if sample {
            let noise = (0..<(histories.count * factorCount)).map { _ in generator.nextStandardNormal() }
            z = mean + (logVariance * 0.5).exp() * Tensor(shape: [histories.count, factorCount], scalars: noise)
        }
        return (decoderOutput(decoderHidden(z).tanh()), mean, logVariance)
    }
}

/// A batch of users with their histories and dense binary targets `[users, items]`.
struct HistoryBatch: Sendable {
    var users: [Int32]
    var histories: [[Int32]]
    var targets: Tensor
}

/// A network that reads a user's whole history and gives logits over every item (Mult-VAE, Mult-DAE,
/// CDAE): training over batches of users and storing the histories written once.
protocol HistoryAutoencoder: Module {
    var itemCount: Int { get }
    /// Logits of training users (from their stored histories), without a graph.
    func logits(users: [Int32], history: InteractionMatrix) -> Tensor
}

extension HistoryAutoencoder {
    /// Trains on `train`'s binary user histories (repeated pairs count once) with Adam (L2 `weightDecay`
    /// in the gradient) over shuffled batches of users; `loss` gets a batch, the step (from 1), the total
    /// steps and the dropout/sampling generator. Returns the histories, which scoring reads.
    /// With `validation`, training stops early on its NDCG@10 (`patience` epochs without improvement)
    /// and the best epoch is returned.
    func train(
        on train: Interactions, epochs: Int, batchSize: Int, learningRate: Float, weightDecay: Float, seed: UInt64,
        context: TrainingContext, validation: ValidationHoldout? = nil, patience: Int = 1,
        loss: @escaping (HistoryBatch, Int, Int, inout SplitMix64) -> Variable
    ) throws -> (history: InteractionMatrix, bestEpoch: Int?) {
        let history = InteractionMatrix.byUser(train.deduplicated(.max))
        let optimizer = Adam(parameters.map(\.variable), learningRate: learningRate, weightDecay: weightDecay)
        let active = (0..<history.rowCount).filter { history.count(inRow: $0) > 0 }
        let schedule = BatchSchedule(exampleCount: active.count, batchSize: batchSize, seed: seed)
        let totalSteps = schedule.batchesPerEpoch * epochs
        var generator = SplitMix64(seed: seed ^ 0xA5A5)
        let itemCount = self.itemCount
        var loop = TrainingLoop(epochCount: epochs)
        loop.earlyStopping = validation?.earlyStopping(patience: patience)
        let summary = try loop.run(
            self, optimizer: optimizer, context: context,
            epoch: { epoch in
                EpochBatches(inputs: schedule.batches(epoch: epoch)) { batch in
                    let rows = batch.map { active[$0] }
                    return HistoryBatch(
                        users: rows.map { Int32($0) }, histories: rows.map { Array(history.columns(inRow: $0)) },
                        targets: Self.targets(rows, history, itemCount: itemCount))
                }
            },
            loss: { batch, step in loss(batch, step, totalSteps, &generator) },
            validate: validation.map { validation in
                { _ in validation.ndcg { self.logits(users: $0, history: history) } }
            })
        return (history, summary.bestEpoch)
    }

    /// A history's distinct items within the catalogue, ascending (what a training user's row holds).
    static func distinctKnown(_ items: [Int32], itemCount: Int) -> [Int32] {
        Array(Set(items.filter { $0 >= 0 && Int($0) < itemCount })).sorted()
    }

    /// Binary history rows as a dense `[rows, itemCount]` target.
    static func targets(_ rows: [Int], _ history: InteractionMatrix, itemCount: Int) -> Tensor {
        var scalars = [Float](repeating: 0, count: rows.count * itemCount)
        for (slot, row) in rows.enumerated() {
            for item in history.columns(inRow: row) { scalars[slot * itemCount + Int(item)] = 1 }
        }
        return Tensor(shape: [rows.count, itemCount], scalars: scalars)
    }
}

/// What a history-autoencoder model (Mult-VAE, Mult-DAE, CDAE) keeps: its configuration, the trained
/// parameters by name, the training histories scoring reads, and the sizes. Fitting (the epoch count
/// chosen on validation, then training on everything) and the saved form are written here once.
struct HistoryModelState<Config: ModelConfig>: Sendable {
    var config: Config
    var parameters: [String: Tensor]
    var history: InteractionMatrix
    var userCount: Int
    var itemCount: Int

    /// Chooses `epochs` on a validation part of `train` (`validation`, `patience`; NDCG@10) with
    /// `training`, then trains on all of `train` for that many epochs.
    init<Network: HistoryAutoencoder>(
        fitting train: Interactions, config: Config, epochs: WritableKeyPath<Config, Int>, validation: Double,
        patience: Int, seed: UInt64, model: String,
        training: (Interactions, Config, ValidationHoldout?) throws -> (
            (network: Network, history: InteractionMatrix), bestEpoch: Int?
        )
    ) throws {
        let (chosen, (network, history)) = try EpochChoice(fraction: validation, patience: patience, target: .ranking)
            .fit(config, epochs: epochs, data: train, seed: seed, model: model, training: training)
        self.config = chosen
        self.parameters = network.namedValues
        self.history = history
        self.userCount = train.userCount
        self.itemCount = train.itemCount
    }

    /// The state `save(into:)` wrote, its parameters checked against `shapes`.
    init(restoring config: Config, weights: ModelWeights, shapes: [String: [Int]], userCount: Int, itemCount: Int)
        throws(RestoreError)
    {
        self.config = config
        self.parameters = try weights.parameters(shapes: shapes)
        self.history = try weights.matrix("history", rows: userCount, columns: itemCount)
        self.userCount = userCount
        self.itemCount = itemCount
    }

    func save(into weights: inout ModelWeights) {
        weights.store(parameters: parameters)
        weights.store(history, as: "history")
    }
}
