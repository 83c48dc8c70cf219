import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// GRU4Rec (Hidasi et al. 2016; Hidasi and Karatzoglou 2018): a GRU reads a session click by click
/// and its state scores every item as the next click.
///
/// Training follows the papers: session-parallel mini-batches (`SessionParallelStep`; the hidden
/// state is carried from step to step, detached, and reset where a lane starts a new session), the
/// next click as target, and one of three losses over the output scores: `cross-entropy`,
/// `bpr-max` or `top1-max`. With `negatives=0` every item is scored at every step (full softmax);
/// with N > 0 the scores are the batch's own targets (in-batch negatives) plus N items drawn by
/// popularity^`sample_alpha`, shared by the batch. Input is one-hot (`embedding=0`, the input
/// weights looked up by item) or an embedding of that width; `tied` uses one item table for input
/// and output (GRU4Rec's constrained embedding, width = `hidden`). Adam or Adagrad; dropout on the
/// input embedding and on the hidden state. Adam moves every row's moments at every step, as
/// PyTorch's dense Adam does (row-only "lazy" updates learned markedly slower on yoochoose: validation
/// recall@20 after 10 epochs 0.513 against 0.565).
///
/// The epoch count is chosen on validation: the caller's (`evaluate --validation FILE`) or the most
/// recent `validation` fraction of the training sequences, by recall@20 of the next-item protocol;
/// then the model trains on all of the training data for that many epochs. A training user's
/// scores come from its whole sequence; a history (a session so far) is read in the order given.
public struct GRU4Rec: SequenceValidatedModel {
    public static let name = "gru4rec"
    public static let summary =
        "GRU4Rec (Hidasi et al. 2016/2018): a GRU over the session, session-parallel batches, CE / BPR-max / TOP1-max"
    public static let details = "scores the next click from the clicks so far (`recommend --session`)"

    public enum LossKind: String, Codable, Sendable, CaseIterable {
        case crossEntropy = "cross-entropy"
        case bprMax = "bpr-max"
        case top1Max = "top1-max"
    }

    public enum OptimizerChoice: String, Codable, Sendable, CaseIterable {
        case adam
        case adagrad
    }

    public struct Config: SequenceEpochSettings {
        public var hiddenSize = 100
        /// Input embedding width; 0 is one-hot input.
        public var embeddingSize = 0
        public var tied = false
        public var loss = LossKind.crossEntropy
        /// Extra popularity-sampled negatives per step; 0 scores every item.
        public var negativeCount = 0
        public var sampleAlpha: Float = 0.75
        /// λ of BPR-max's score regularisation.
        public var bprRegularization: Float = 1
        public var batchSize = 32
        public var learningRate: Float = 0.001
        public var optimizer = OptimizerChoice.adam
        public var dropout: Float = 0
        public var embeddingDropout: Float = 0
        /// The most epochs; with validation, the count is chosen on it.
        public var epochCount = 20
        public var validation = 0.1
        public var validationMetric = SequenceValidation.Metric.recall
        public var validationCut = SequenceValidation.Cut.sequences
        public var patience = 3
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case hiddenSize = "hidden", embeddingSize = "embedding", tied, loss, negativeCount = "negatives"
            case sampleAlpha = "sample_alpha", bprRegularization = "bpreg", batchSize = "batch_size"
            case learningRate = "learning_rate", optimizer, dropout, embeddingDropout = "dropout_embedding"
            case epochCount = "epochs", validation, validationMetric = "validation_metric"
            case validationCut = "validation_cut", patience, seed
        }

        public static let settings: [ModelSetting] = [
            .integer("hidden", .between(1, 4096), "GRU units"),
            .integer("embedding", .between(0, 4096), "input embedding width; 0 = one-hot input"),
            .boolean("tied", "one item table for input and output (width = hidden)"),
            .choice("loss", LossKind.self, "cross-entropy, bpr-max or top1-max"),
            .integer("negatives", .atLeast(0), "popularity-sampled extra negatives per step; 0 = score every item"),
            .number("sample_alpha", .between(0, 1), "negatives drawn ∝ count^alpha (0 uniform)"),
            .number("bpreg", .atLeast(0), "BPR-max score regularisation λ"),
            .batchSize("session-parallel lanes"),
            .learningRate("optimiser step"),
            .choice("optimizer", OptimizerChoice.self, "adam or adagrad"),
            .number("dropout", .from(0, below: 1), "dropout on the hidden state before the output"),
            .number("dropout_embedding", .from(0, below: 1), "dropout on the input embedding"),
            .epochs("the most passes (chosen on validation unless validation=0)"),
            .validation,
            .choice(
                "validation_metric", SequenceValidation.Metric.self,
                "the next-item metric at 20 the epoch count is chosen on: recall or mrr"),
            .choice(
                "validation_cut", SequenceValidation.Cut.self,
                "own validation part: the most recent sequences (sessions) or each sequence's last item (users)"),
            .patience,
            .seed,
        ]
    }

    public let config: Config
    public let userCount: Int
    public let itemCount: Int
    /// The trained parameters by name.
    public let parameters: [String: Tensor]
    /// Each training user's (session's) items in time order.
    let sequences: [[Int32]]
    let reader: GRU4RecReader

    public init(
        fitting train: Interactions, side: SideData, config: Config, context: TrainingContext,
        validation: SequenceValidation?
    ) throws {
        try Self.check(config)
        let (config, network) = try SequenceValidation.fit(
            train, config: config, validation: validation, model: Self.name
        ) { data, config, part in try Self.train(data, config: config, context: context, validation: part) }
        self.init(
            config: config, parameters: network.namedValues, sequences: train.sequences(), itemCount: train.itemCount)
    }

    init(config: Config, parameters: [String: Tensor], sequences: [[Int32]], itemCount: Int) {
        self.config = config
        self.parameters = parameters
        self.sequences = sequences
        self.userCount = sequences.count
        self.itemCount = itemCount
        reader = GRU4RecReader(config: config, parameters: parameters)
    }

    /// One training run; with `validation`, early stopping on its recall@20 and the best epoch.
    static func train(
        _ data: Interactions, config: Config, context: TrainingContext, validation: SequenceValidation?
    ) throws -> (GRU4RecNetwork, Int?) {
        let network = GRU4RecNetwork(config: config, itemCount: data.itemCount)
        let variables = network.parameters.map(\.variable)
        let optimizer: any Optimizer =
            config.optimizer == .adam
            ? Adam(variables, learningRate: config.learningRate, lazy: false)
            : Adagrad(variables, learningRate: config.learningRate)
        let sequences = data.sequences()
        let trainable = (0..<sequences.count).filter { sequences[$0].count >= 2 }
        let sampler =
            config.negativeCount > 0
            ? NegativeSampler(
                itemCount: data.itemCount, kind: .popularity(alpha: Double(config.sampleAlpha)),
                counts: data.countsPerItem().map { max($0, 0) }) : nil
        var generator = Xoshiro256(seed: config.seed &+ 7)
        let hidden = config.hiddenSize
        var lanes = [Float](repeating: 0, count: config.batchSize * hidden)
        var loop = TrainingLoop(
            epochCount: config.epochCount,
            earlyStopping: validation.map { _ in EarlyStopping(patience: config.patience, higherIsBetter: true) })
        loop.prefetchDepth = 1
        let summary = try loop.run(
            network, optimizer: optimizer, context: context,
            epoch: { epoch in
                var order = trainable
                var shuffler = Xoshiro256(seed: config.seed &+ UInt64(epoch) &* 0x9E37_79B9)
                shuffler.shuffle(&order)
                return EpochBatches(
                    inputs: SessionParallelStep.schedule(sequences, order: order, batchSize: config.batchSize)
                ) { $0 }
            },
            loss: { step, _ in
                let rows = step.lanes.count
                var initial = [Float](repeating: 0, count: rows * hidden)
                for (row, lane) in step.lanes.enumerated() where !step.starts[row] {
                    for unit in 0..<hidden { initial[row * hidden + unit] = lanes[lane * hidden + unit] }
                }
                let state = network.step(
                    step.inputs, state: Variable(Tensor(shape: [rows, hidden], scalars: initial)))
                let values = state.value.scalars
                for (row, lane) in step.lanes.enumerated() {
                    for unit in 0..<hidden { lanes[lane * hidden + unit] = values[row * hidden + unit] }
                }
                let logits: Variable
                let targets: [Int32]
                if let sampler {
                    let columns =
                        step.targets + (0..<config.negativeCount).map { _ in sampler.sample(using: &generator) }
                    logits = network.logits(state, columns: columns)
                    targets = (0..<Int32(rows)).map { $0 }
                } else {
                    logits = network.logits(state, columns: nil)
                    targets = step.targets
                }
                switch config.loss {
                case .crossEntropy: return Loss.softmaxCrossEntropy(logits: logits, labels: targets)
                case .bprMax:
                    return Loss.bprMax(logits: logits, targets: targets, regularization: config.bprRegularization)
                case .top1Max: return Loss.top1Max(logits: logits, targets: targets)
                }
            },
            validate: validation.map { part in
                { _ in
                    let reader = GRU4RecReader(config: config, parameters: network.namedValues)
                    return part.measurement(config.validationMetric) { reader.scores(histories: $0) }
                }
            })
        return (network, summary.bestEpoch)
    }

    public func save(into weights: inout ModelWeights) {
        weights.store(parameters: parameters)
        weights.store(sequences: sequences, as: "sequences")
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        let shapes = GRU4RecNetwork(config: config, itemCount: itemCount).namedShapes
        self.init(
            config: config, parameters: try weights.parameters(shapes: shapes),
            sequences: try weights.sequences("sequences", count: userCount, itemCount: itemCount), itemCount: itemCount)
    }

    public func scores(forUsers users: [Int32]) -> Tensor {
        reader.scores(histories: users.map { Int($0) < sequences.count ? sequences[Int($0)] : [] })
    }

    public func scores(forHistory history: [Int32]) -> [Float] { reader.scores(histories: [history]).scalars }

    public func scores(forHistories histories: [[Int32]]) -> Tensor { reader.scores(histories: histories) }
}

/// GRU4Rec's network for training: input lookup, one GRU cell, output table and bias.
final class GRU4RecNetwork: Module {
    let cell: GRUCell
    /// The input embedding (also the output table when tied); nil for one-hot input.
    let embedding: Embedding?
    /// The output table `[items, hidden]` unless tied.
    let output: Embedding?
    let outputBias: Embedding
    let dropout: Dropout?
    let embeddingDropout: Dropout?

    init(config: GRU4Rec.Config, itemCount: Int) {
        let hidden = config.hiddenSize
        let width = config.tied ? hidden : config.embeddingSize
        let seed = config.seed
        embedding =
            width > 0
            ? Embedding(
                itemCount, width, initializer: .glorotUniform, sparse: !config.tied || config.negativeCount > 0,
                seed: seed &+ 1)
            : nil
        cell = GRUCell(inputs: width > 0 ? width : itemCount, hidden: hidden, seed: seed &+ 2)
        if width == 0 { cell.input.weight.isSparse = true }
        output =
            config.tied
            ? nil
            : Embedding(
                itemCount, hidden, initializer: .glorotUniform, sparse: config.negativeCount > 0, seed: seed &+ 3)
        outputBias = Embedding(itemCount, 1, initializer: .zeros, sparse: config.negativeCount > 0)
        dropout = config.dropout > 0 ? Dropout(config.dropout, seed: seed &+ 4) : nil
        embeddingDropout =
            config.embeddingDropout > 0 && width > 0 ? Dropout(config.embeddingDropout, seed: seed &+ 5) : nil
    }

    var children: [(name: String, module: any Module)] {
        var parts: [(name: String, module: any Module)] = [("cell", cell), ("output_bias", outputBias)]
        if let embedding { parts.append(("embedding", embedding)) }
        if let output { parts.append(("output", output)) }
        if let dropout { parts.append(("dropout", dropout)) }
        if let embeddingDropout { parts.append(("embedding_dropout", embeddingDropout)) }
        return parts
    }

    /// The state after reading `items` from `state`.
    func step(_ items: [Int32], state: Variable) -> Variable {
        guard let embedding else { return cell(items: items, state: state) }
        var x = embedding(items)
        if let embeddingDropout { x = embeddingDropout(x) }
        return cell(x, state: state)
    }

    /// Scores of `columns` (all items when nil) from the states, after the hidden dropout.
    func logits(_ state: Variable, columns: [Int32]?) -> Variable {
        let h = dropout.map { $0(state) } ?? state
        let table = (output ?? embedding!).table
        guard let columns else {
            return h.matmul(table, transposingOther: true) + outputBias.table.reshaped([table.shape[0]])
        }
        return h.matmul(table.gathering(rows: columns), transposingOther: true)
            + outputBias.table.gathering(rows: columns).reshaped([columns.count])
    }
}

/// A trained GRU4Rec's forward pass on plain tensors: final states of histories and their scores.
struct GRU4RecReader: Sendable {
    let hidden: Int
    let inputWeight: Tensor // [inputs, 3·hidden]
    let inputBias: Tensor // [3·hidden]
    let stateWeight: Tensor // [hidden, 3·hidden]
    let embedding: Tensor? // [items, width]
    let output: Tensor // [items, hidden]
    let outputBias: Tensor // [items]

    init(config: GRU4Rec.Config, parameters: [String: Tensor]) {
        hidden = config.hiddenSize
        inputWeight = parameters["cell.input.weight"]!
        inputBias = parameters["cell.input.bias"]!
        stateWeight = parameters["cell.hidden.weight"]!
        embedding = parameters["embedding.weight"]
        output = parameters["output.weight"] ?? parameters["embedding.weight"]!
        let bias = parameters["output_bias.weight"]!
        outputBias = bias.reshaped([bias.shape[0]])
    }

    /// Each history's final state, `[histories.count, hidden]` (zeros for an empty one).
    func states(_ histories: [[Int32]]) -> Tensor {
        let h3 = 3 * hidden
        var states = [Float](repeating: 0, count: histories.count * hidden)
        let longest = histories.map(\.count).max() ?? 0
        for t in 0..<longest {
            let rows = histories.indices.filter { histories[$0].count > t }
            let items = rows.map { histories[$0][t] }
            let projected: Tensor =
                embedding.map { $0.gathering(rows: items).matmul(inputWeight) } ?? inputWeight.gathering(rows: items)
            var previous = [Float](repeating: 0, count: rows.count * hidden)
            for (slot, row) in rows.enumerated() {
                for unit in 0..<hidden { previous[slot * hidden + unit] = states[row * hidden + unit] }
            }
            let fromState = Tensor(shape: [rows.count, hidden], scalars: previous).matmul(stateWeight).scalars
            let fromInput = projected.scalars
            let bias = inputBias.scalars
            for (slot, row) in rows.enumerated() {
                let base = slot * h3
                for unit in 0..<hidden {
                    let r = Activation.sigmoid(fromInput[base + unit] + bias[unit] + fromState[base + unit])
                    let zIndex = base + hidden + unit
                    let z = Activation.sigmoid(fromInput[zIndex] + bias[hidden + unit] + fromState[zIndex])
                    let nIndex = base + 2 * hidden + unit
                    let n = Foundation.tanh(fromInput[nIndex] + bias[2 * hidden + unit] + r * fromState[nIndex])
                    states[row * hidden + unit] = (1 - z) * n + z * previous[slot * hidden + unit]
                }
            }
        }
        return Tensor(shape: [histories.count, hidden], scalars: states)
    }

    /// Scores of every item after each history, `[histories.count, items]`.
    func scores(histories: [[Int32]]) -> Tensor {
        states(histories).matmul(output, transposingOther: true) + outputBias
    }
}
