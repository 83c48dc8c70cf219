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
/// Latent Cross (Beutel et al. 2018, `latent_cross=true`): each click's context — hour of day,
/// weekday and the gap since the previous click, read from its time (`ClickContext`) — is embedded
/// (the sum of one learned vector per feature, w_c, starting at zero) and multiplied in as
/// (1 + w_c) ⊙ x on the input embedding before the GRU (with `embedding` > 0) and as (1 + w_c) ⊙ h on
/// the state before the output layer. Histories scored without times (`recommend --session`) get
/// w_c = 0.
///
/// Multi-task (`auxiliary=genres|tags`): a second head on the same state predicts the next item's
/// genres (or tags), softmax over the vocabulary against the item's tokens as a distribution,
/// weighted by `auxiliary_weight` in the loss; it shapes the state and is not used in scoring.
///
/// The epoch count is chosen on validation: the caller's (`evaluate --validation FILE`) or the most
/// recent `validation` fraction of the training sequences, by recall@20 of the next-item protocol;
/// then the model trains on all of the training data for that many epochs. A training user's
/// scores come from its whole sequence; a history (a session so far) is read in the order given.
public struct GRU4Rec: SequenceValidatedModel, ContextualSequenceModel {
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

    /// What the multi-task head predicts of the next item.
    public enum AuxiliaryTarget: String, Codable, Sendable, CaseIterable {
        case none
        case genres
        case tags
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
        public var latentCross = false
        public var auxiliary = AuxiliaryTarget.none
        public var auxiliaryWeight: Float = 1
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
            case latentCross = "latent_cross", auxiliary, auxiliaryWeight = "auxiliary_weight"
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
            .boolean("latent_cross", "Latent Cross: hour, weekday and click-gap contexts multiplied into the GRU"),
            .choice("auxiliary", AuxiliaryTarget.self, "multi-task head predicting the next item's genres or tags"),
            .number("auxiliary_weight", .atLeast(0), "weight of the multi-task head's loss"),
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
    /// With Latent Cross, their click contexts.
    let contexts: [[ClickContext]]?
    let reader: GRU4RecReader

    public init(
        fitting train: Interactions, side: SideData, config: Config, context: TrainingContext,
        validation: SequenceValidation?
    ) throws {
        try Self.check(config)
        if config.latentCross && train.timestamps == nil {
            throw ConfigError(model: Self.name, key: "latent_cross", "needs click times, and the data has none")
        }
        let tokens = try Self.auxiliaryTokens(config, side: side, itemCount: train.itemCount)
        let (config, network) = try SequenceValidation.fit(
            train, config: config, validation: validation, model: Self.name
        ) { data, config, part in
            try Self.train(data, config: config, tokens: tokens, context: context, validation: part)
        }
        self.init(
            config: config, parameters: network.namedValues, sequences: train.sequences(),
            contexts: config.latentCross ? train.sequenceContexts() : nil, itemCount: train.itemCount)
    }

    init(
        config: Config, parameters: [String: Tensor], sequences: [[Int32]], contexts: [[ClickContext]]?,
        itemCount: Int
    ) {
        self.config = config
        self.parameters = parameters
        self.sequences = sequences
        self.contexts = contexts
        self.userCount = sequences.count
        self.itemCount = itemCount
        reader = GRU4RecReader(config: config, parameters: parameters)
    }

    /// The multi-task head's targets: each item's tokens as a distribution (rows of zeros for items
    /// without any), nil without the head.
    /// - Throws: `ConfigError` when the data has no such tokens.
    static func auxiliaryTokens(_ config: Config, side: SideData, itemCount: Int) throws(ConfigError)
        -> MultiValuedColumn?
    {
        guard config.auxiliary != .none else { return nil }
        let column = config.auxiliary == .genres ? side.items?.genres : side.items?.tags
        guard let column, column.entityCount == itemCount, !column.vocabulary.isEmpty else {
            throw ConfigError(
                model: name, key: "auxiliary", "the data has no item \(config.auxiliary.rawValue) to predict")
        }
        return column
    }

    /// One training run; with `validation`, early stopping on its recall@20 and the best epoch.
    static func train(
        _ data: Interactions, config: Config, tokens: MultiValuedColumn?, context: TrainingContext,
        validation: SequenceValidation?
    ) throws -> (GRU4RecNetwork, Int?) {
        let network = GRU4RecNetwork(
            config: config, itemCount: data.itemCount, tokenCount: tokens?.vocabulary.count ?? 0)
        let variables = network.parameters.map(\.variable)
        let optimizer: any Optimizer =
            config.optimizer == .adam
            ? Adam(variables, learningRate: config.learningRate, lazy: false)
            : Adagrad(variables, learningRate: config.learningRate)
        let sequences = data.sequences()
        // Steps are scheduled over click positions, which name both the item and its context.
        let clickItems = sequences.flatMap { $0 }
        let clickContexts = config.latentCross ? data.sequenceContexts()!.flatMap { $0 } : nil
        var position: Int32 = 0
        let positions = sequences.map { sequence in
            sequence.map { _ in
                defer { position += 1 }
                return position
            }
        }
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
                    inputs: SessionParallelStep.schedule(positions, order: order, batchSize: config.batchSize)
                ) { $0 }
            },
            loss: { step, _ in
                let rows = step.lanes.count
                let inputs = step.inputs.map { clickItems[Int($0)] }
                let nextItems = step.targets.map { clickItems[Int($0)] }
                let contexts = clickContexts.map { all in step.inputs.map { all[Int($0)] } }
                var initial = [Float](repeating: 0, count: rows * hidden)
                for (row, lane) in step.lanes.enumerated() where !step.starts[row] {
                    for unit in 0..<hidden { initial[row * hidden + unit] = lanes[lane * hidden + unit] }
                }
                let state = network.step(
                    inputs, contexts: contexts, state: Variable(Tensor(shape: [rows, hidden], scalars: initial)))
                let values = state.value.scalars
                for (row, lane) in step.lanes.enumerated() {
                    for unit in 0..<hidden { lanes[lane * hidden + unit] = values[row * hidden + unit] }
                }
                let output = network.outputState(state, contexts: contexts)
                let logits: Variable
                let targets: [Int32]
                if let sampler {
                    let columns =
                        nextItems + (0..<config.negativeCount).map { _ in sampler.sample(using: &generator) }
                    logits = network.logits(output, columns: columns)
                    targets = (0..<Int32(rows)).map { $0 }
                } else {
                    logits = network.logits(output, columns: nil)
                    targets = nextItems
                }
                let loss: Variable
                switch config.loss {
                case .crossEntropy: loss = Loss.softmaxCrossEntropy(logits: logits, labels: targets)
                case .bprMax:
                    loss = Loss.bprMax(logits: logits, targets: targets, regularization: config.bprRegularization)
                case .top1Max: loss = Loss.top1Max(logits: logits, targets: targets)
                }
                guard let tokens, let head = network.auxiliary else { return loss }
                return loss
                    + Loss.multinomialLogLikelihood(
                        logits: head(output), counts: Self.distributions(of: nextItems, tokens: tokens))
                    * config.auxiliaryWeight
            },
            validate: validation.map { part in
                { _ in
                    let reader = GRU4RecReader(config: config, parameters: network.namedValues)
                    return part.measurement(config.validationMetric) { cases in
                        reader.scores(histories: cases.map(\.prefix), contexts: NextItemCase.contexts(of: cases))
                    }
                }
            })
        return (network, summary.bestEpoch)
    }

    /// `[items.count, vocabulary]`: each item's tokens, each 1/(its token count).
    static func distributions(of items: [Int32], tokens: MultiValuedColumn) -> Tensor {
        let width = tokens.vocabulary.count
        var values = [Float](repeating: 0, count: items.count * width)
        for (row, item) in items.enumerated() {
            let codes = tokens.codes(of: Int(item))
            for code in codes { values[row * width + Int(code)] += 1 / Float(codes.count) }
        }
        return Tensor(shape: [items.count, width], scalars: values)
    }

    public func save(into weights: inout ModelWeights) {
        weights.store(parameters: parameters)
        weights.store(sequences: sequences, as: "sequences")
        if let contexts { weights.store(sequences: contexts.map { $0.map(\.code) }, as: "contexts") }
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        var tokenCount = 0
        if config.auxiliary != .none {
            guard case .float32(let head)? = weights.entries["auxiliary.weight"], head.shape.count == 2 else {
                throw RestoreError("missing float tensor 'auxiliary.weight'")
            }
            tokenCount = head.shape[1]
        }
        let shapes = GRU4RecNetwork(config: config, itemCount: itemCount, tokenCount: tokenCount).namedShapes
        let contexts =
            config.latentCross
            ? try weights.sequences("contexts", count: userCount, itemCount: ClickContext.codeCount)
                .map { $0.map(ClickContext.init(code:)) } : nil
        self.init(
            config: config, parameters: try weights.parameters(shapes: shapes),
            sequences: try weights.sequences("sequences", count: userCount, itemCount: itemCount), contexts: contexts,
            itemCount: itemCount)
    }

    public func scores(forUsers users: [Int32]) -> Tensor {
        let known = users.map { Int($0) < sequences.count ? Int($0) : nil }
        return reader.scores(
            histories: known.map { $0.map { sequences[$0] } ?? [] },
            contexts: contexts.map { all in known.map { $0.map { all[$0] } ?? [] } })
    }

    public func scores(forHistory history: [Int32]) -> [Float] { reader.scores(histories: [history]).scalars }

    public func scores(forHistories histories: [[Int32]]) -> Tensor { reader.scores(histories: histories) }

    public func scores(forHistories histories: [[Int32]], contexts: [[ClickContext]]) -> Tensor {
        reader.scores(histories: histories, contexts: config.latentCross ? contexts : nil)
    }
}

/// GRU4Rec's network for training: input lookup, one GRU cell, output table and bias; Latent
/// Cross layers before and after the cell and the multi-task head when configured.
final class GRU4RecNetwork: Module {
    let cell: GRUCell
    /// The input embedding (also the output table when tied); nil for one-hot input.
    let embedding: Embedding?
    /// The output table `[items, hidden]` unless tied.
    let output: Embedding?
    let outputBias: Embedding
    let dropout: Dropout?
    let embeddingDropout: Dropout?
    /// Latent Cross on the input embedding (with embedding input) and on the state.
    let crossBefore: LatentCross?
    let crossAfter: LatentCross?
    /// The multi-task head: the next item's tokens from the state.
    let auxiliary: Linear?

    init(config: GRU4Rec.Config, itemCount: Int, tokenCount: Int) {
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
        let cardinalities = [ClickContext.hourCount, ClickContext.weekdayCount, ClickContext.gapCount]
        crossBefore = config.latentCross && width > 0 ? LatentCross(cardinalities: cardinalities, width: width) : nil
        crossAfter = config.latentCross ? LatentCross(cardinalities: cardinalities, width: hidden) : nil
        auxiliary = tokenCount > 0 ? Linear(hidden, tokenCount, seed: seed &+ 6) : nil
    }

    var children: [(name: String, module: any Module)] {
        var parts: [(name: String, module: any Module)] = [("cell", cell), ("output_bias", outputBias)]
        if let embedding { parts.append(("embedding", embedding)) }
        if let output { parts.append(("output", output)) }
        if let dropout { parts.append(("dropout", dropout)) }
        if let embeddingDropout { parts.append(("embedding_dropout", embeddingDropout)) }
        if let crossBefore { parts.append(("cross_before", crossBefore)) }
        if let crossAfter { parts.append(("cross_after", crossAfter)) }
        if let auxiliary { parts.append(("auxiliary", auxiliary)) }
        return parts
    }

    /// The state after reading `items` (in `contexts`, with Latent Cross) from `state`.
    func step(_ items: [Int32], contexts: [ClickContext]?, state: Variable) -> Variable {
        guard let embedding else { return cell(items: items, state: state) }
        var x = embedding(items)
        if let crossBefore, let contexts { x = crossBefore(x, features: GRU4RecNetwork.features(contexts)) }
        if let embeddingDropout { x = embeddingDropout(x) }
        return cell(x, state: state)
    }

    /// The state the output layer reads: crossed with the contexts under Latent Cross.
    func outputState(_ state: Variable, contexts: [ClickContext]?) -> Variable {
        guard let crossAfter, let contexts else { return state }
        return crossAfter(state, features: GRU4RecNetwork.features(contexts))
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

    /// Latent Cross's features of clicks: hours, weekdays, gaps.
    static func features(_ contexts: [ClickContext]) -> [[Int32]] {
        [contexts.map(\.hour), contexts.map(\.weekday), contexts.map(\.gap)]
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
    /// Latent Cross's tables (hour, weekday, gap) before and after the cell.
    let crossBefore: [Tensor]?
    let crossAfter: [Tensor]?

    init(config: GRU4Rec.Config, parameters: [String: Tensor]) {
        hidden = config.hiddenSize
        inputWeight = parameters["cell.input.weight"]!
        inputBias = parameters["cell.input.bias"]!
        stateWeight = parameters["cell.hidden.weight"]!
        embedding = parameters["embedding.weight"]
        output = parameters["output.weight"] ?? parameters["embedding.weight"]!
        let bias = parameters["output_bias.weight"]!
        outputBias = bias.reshaped([bias.shape[0]])
        let tables = { (name: String) -> [Tensor]? in
            parameters["\(name).0.weight"].map { first in
                [first, parameters["\(name).1.weight"]!, parameters["\(name).2.weight"]!]
            }
        }
        crossBefore = tables("cross_before")
        crossAfter = tables("cross_after")
    }

    /// Each history's final state, `[histories.count, hidden]` (zeros for an empty one), its clicks
    /// crossed with `contexts` (one per click) when given and the model has Latent Cross.
    func states(_ histories: [[Int32]], contexts: [[ClickContext]]? = nil) -> Tensor {
        let h3 = 3 * hidden
        var states = [Float](repeating: 0, count: histories.count * hidden)
        let longest = histories.map(\.count).max() ?? 0
        for t in 0..<longest {
            let rows = histories.indices.filter { histories[$0].count > t }
            let items = rows.map { histories[$0][t] }
            let projected: Tensor
            if let embedding {
                var x = embedding.gathering(rows: items)
                if let crossBefore, let contexts {
                    x =
                        x
                        * LatentCross.factors(
                            tables: crossBefore, features: GRU4RecNetwork.features(rows.map { contexts[$0][t] }))
                }
                projected = x.matmul(inputWeight)
            } else {
                projected = inputWeight.gathering(rows: items)
            }
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
        let final = Tensor(shape: [histories.count, hidden], scalars: states)
        guard let crossAfter, let contexts else { return final }
        // The state the output reads is crossed with the last click's context (none for an empty history).
        let last = contexts.map { $0.last ?? ClickContext(hour: 0, weekday: 0, gap: 0) }
        var factors = LatentCross.factors(tables: crossAfter, features: GRU4RecNetwork.features(last))
        for (row, history) in histories.enumerated() where history.isEmpty {
            for unit in 0..<hidden { factors.scalars[row * hidden + unit] = 1 }
        }
        return final * factors
    }

    /// Scores of every item after each history, `[histories.count, items]`.
    func scores(histories: [[Int32]], contexts: [[ClickContext]]? = nil) -> Tensor {
        states(histories, contexts: contexts).matmul(output, transposingOther: true) + outputBias
    }
}
