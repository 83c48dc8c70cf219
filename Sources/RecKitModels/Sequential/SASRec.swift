import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// SASRec (Kang and McAuley 2018): causal self-attention over a user's last `max_length` items; the
/// output at each position scores the next item by a dot product with the shared item embeddings.
///
/// Each training sequence's last L + 1 items give L (input, next item) positions, left-padded; every
/// real position is trained with softmax cross-entropy over every item (`loss=cross-entropy`, the
/// default; with `negatives=N`, over the next item and N items drawn uniformly for the batch), which
/// later work found much stronger (Klenitskiy and Vasilev 2023), or with binary cross-entropy on its
/// next item against one uniformly drawn item the user never had (`loss=bce`, the paper's objective).
/// L (`max_length`) is 50 by default, the paper's for its sparser sets (200 for MovieLens-1M): on
/// ml-100k, 50 validated higher than 200 over three seeds.
/// The network: item embeddings × √d plus learned positions, dropout, `blocks` pre-norm transformer
/// blocks (x + attention(LN x), then x + FFN(LN x) with ReLU, dropout after each; padding positions
/// zeroed after each block), a final layer norm. Only the real positions are computed: the padded
/// ones are all alike and enter the attention as one key and value weighted by their count
/// (`PackedSelfAttention`), which is the padded window's arithmetic at half its cost on MovieLens.
/// Adam (β₂ 0.98). The epoch count (at most 400) is chosen on validation (each user's last training
/// item by default, as the paper does; `validation_cut=sequences` for session data) with a patience of
/// 150 epochs, then the model trains on all of the training data for that many epochs. A history
/// is read in the order given (its last `max_length` items).
public struct SASRec: SequenceNetworkModel {
    public static let name = "sasrec"
    public static let summary =
        "SASRec (Kang and McAuley 2018): causal self-attention over the last items, softmax or BCE loss"
    public static let details = "scores the next item from the user's or session's sequence"

    public enum LossKind: String, Codable, Sendable, CaseIterable {
        case bce
        case crossEntropy = "cross-entropy"
    }

    public struct Config: SequenceEpochSettings {
        public var factorCount = 50
        public var blockCount = 2
        public var headCount = 1
        public var maxLength = 50
        public var dropout: Float = 0.2
        public var loss = LossKind.crossEntropy
        /// Cross-entropy: shared sampled items per batch; 0 = every item.
        public var negativeCount = 0
        public var batchSize = 128
        public var learningRate: Float = 0.001
        public var epochCount = 400
        public var validation = 0.1
        public var validationMetric = SequenceValidation.Metric.mrr
        public var validationCut = SequenceValidation.Cut.last
        /// Long: on ml-latest-small, validation first peaks within ten epochs, dips, and climbs again for
        /// some 300 epochs, once 84 of them without a new best (seeds 0-2).
        public var patience = 150
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case factorCount = "factors", blockCount = "blocks", headCount = "heads", maxLength = "max_length"
            case dropout, loss, negativeCount = "negatives", batchSize = "batch_size", learningRate = "learning_rate",
                epochCount = "epochs"
            case validation, validationMetric = "validation_metric", validationCut = "validation_cut", patience, seed
        }

        public static let settings: [ModelSetting] = [
            .factors(.between(1, 4096), "embedding and attention width"),
            .integer("blocks", .between(1, 16), "self-attention blocks"),
            .integer("heads", .between(1, 64), "attention heads (must divide factors)"),
            .integer("max_length", .between(1, 4096), "the most recent items read"),
            .number("dropout", .from(0, below: 1), "dropout on embeddings, attention output and feed-forward"),
            .choice("loss", LossKind.self, "cross-entropy (softmax) or bce (one sampled negative per position)"),
            .integer(
                "negatives", .atLeast(0), "cross-entropy: shared uniformly sampled items per batch; 0 = every item"),
            .batchSize("sequences per step"),
            .learningRate("Adam step"),
            .epochs("the most passes (chosen on validation unless validation=0)"),
            .number(
                "validation", .from(0, below: 1),
                "0 trains all epochs; else the epoch count is chosen on validation (with validation_cut=sequences, "
                    + "this fraction of the most recent sequences)"),
            .choice(
                "validation_metric", SequenceValidation.Metric.self,
                "the next-item metric at 20 the epoch count is chosen on: recall or mrr"),
            .choice(
                "validation_cut", SequenceValidation.Cut.self,
                "own validation part: each sequence's last item (users) or the most recent sequences (sessions)"),
            .patience,
            .seed,
        ]

        public func validate(model: String) throws(ConfigError) {
            if factorCount % headCount != 0 {
                throw ConfigError(model: model, key: "heads", "must divide factors (\(factorCount))")
            }
        }
    }

    public let config: Config
    public let userCount: Int
    public let itemCount: Int
    public let parameters: [String: Tensor]
    /// Each training user's items in time order (the last `max_length` are read).
    public let sequences: [[Int32]]
    let network: SASRecNetwork

    public init(config: Config, parameters: [String: Tensor], sequences: [[Int32]], itemCount: Int) {
        self.config = config
        self.parameters = parameters
        self.sequences = sequences
        self.userCount = sequences.count
        self.itemCount = itemCount
        network = SASRecNetwork(config: config, itemCount: itemCount)
        network.load(parameters)
        network.setTraining(false)
    }

    public static func parameterShapes(config: Config, itemCount: Int) -> [String: [Int]] {
        SASRecNetwork(config: config, itemCount: itemCount).namedShapes
    }

    public static func train(
        _ data: Interactions, config: Config, context: TrainingContext, validation: SequenceValidation?
    ) throws -> (parameters: [String: Tensor], bestEpoch: Int?) {
        let network = SASRecNetwork(config: config, itemCount: data.itemCount)
        let optimizer = Adam(
            network.parameters.map(\.variable), learningRate: config.learningRate, beta2: 0.98, lazy: false)
        let sequences = data.sequences()
        let trainable = (0..<sequences.count).filter { sequences[$0].count >= 2 }
        let seen = sequences.map { Set($0) }
        let schedule = BatchSchedule(exampleCount: trainable.count, batchSize: config.batchSize, seed: config.seed)
        var generator = Xoshiro256(seed: config.seed &+ 11)
        let length = config.maxLength
        let itemCount = data.itemCount
        let allItems = (0..<Int32(itemCount)).map { $0 }
        var loop = TrainingLoop(
            epochCount: config.epochCount,
            earlyStopping: validation.map { _ in EarlyStopping(patience: config.patience, higherIsBetter: true) })
        let summary = try loop.run(
            network, optimizer: optimizer, context: context,
            epoch: { epoch in
                EpochBatches(inputs: schedule.batches(epoch: epoch)) { rows in rows.map { trainable[$0] } }
            },
            loss: { users, _ in
                // Inputs: the last L items before each target; a target for every input position (the
                // network's packed rows, in order).
                var inputs: [[Int32]] = []
                var positives: [Int32] = []
                var negatives: [Int32] = []
                for user in users {
                    let items = sequences[user]
                    let window = Array(items.suffix(length + 1))
                    inputs.append(Array(window.dropLast()))
                    for target in window.dropFirst() {
                        positives.append(target)
                        guard config.loss == .bce else { continue }
                        var negative = Int32(generator.nextIndex(below: itemCount))
                        var redraws = 0
                        while seen[user].contains(negative) && redraws < 50 {
                            negative = Int32(generator.nextIndex(below: itemCount))
                            redraws += 1
                        }
                        negatives.append(negative)
                    }
                }
                let states = network(inputs).states
                let count = positives.count
                let table = network.items.table
                if config.loss == .crossEntropy {
                    // Softmax over every item, or over the positive and shared sampled items.
                    guard config.negativeCount > 0 else {
                        let logits = states.matmul(table.gathering(rows: allItems), transposingOther: true)
                        return Loss.softmaxCrossEntropy(logits: logits, labels: positives)
                    }
                    let shared = (0..<config.negativeCount).map { _ in Int32(generator.nextIndex(below: itemCount)) }
                    let positive = (states * table.gathering(rows: positives)).sum(alongAxis: -1)
                    let logits = Variable.concatenatingColumns([
                        positive.reshaped([count, 1]),
                        states.matmul(table.gathering(rows: shared), transposingOther: true),
                    ])
                    return Loss.softmaxCrossEntropy(logits: logits, labels: [Int32](repeating: 0, count: count))
                }
                let positive = (states * table.gathering(rows: positives)).sum(alongAxis: -1)
                let negative = (states * table.gathering(rows: negatives)).sum(alongAxis: -1)
                let logits = Variable.concatenatingColumns([
                    positive.reshaped([count, 1]), negative.reshaped([count, 1]),
                ])
                var labels = [Float](repeating: 0, count: count * 2)
                for row in 0..<count { labels[row * 2] = 1 }
                return Loss.binaryCrossEntropy(
                    logits: logits, targets: Tensor(shape: [count, 2], scalars: labels))
                    * 2
            },
            validate: validation.map { part in
                { _ in
                    part.measurement(config.validationMetric) { cases in
                        GradientRecording.disabled { network.scores(histories: cases.map(\.prefix)) }
                    }
                }
            })
        return (network.namedValues, summary.bestEpoch)
    }

    public func scores(forHistories histories: [[Int32]]) -> Tensor {
        GradientRecording.disabled { network.scores(histories: histories) }
    }
}

/// SASRec's network. Item `itemCount` is the padding item (kept in the table, never looked up: the
/// padded positions are not computed).
final class SASRecNetwork: Module, @unchecked Sendable { // read-only after training; scoring makes no state
    let items: Embedding
    let positions: Embedding
    let attention: [MultiHeadSelfAttention]
    let attentionNorms: [LayerNorm]
    let feedForwardNorms: [LayerNorm]
    let feedForward: [MLP]
    let finalNorm: LayerNorm
    let dropouts: [Dropout]
    let length: Int
    let width: Int
    let headCount: Int
    let itemCount: Int

    init(config: SASRec.Config, itemCount: Int) {
        let width = config.factorCount
        let seed = config.seed
        self.length = config.maxLength
        self.width = width
        headCount = config.headCount
        self.itemCount = itemCount
        items = Embedding(itemCount + 1, width, initializer: .glorotUniform, sparse: false, seed: seed &+ 1)
        positions = Embedding(config.maxLength, width, initializer: .glorotUniform, sparse: false, seed: seed &+ 2)
        attention = (0..<config.blockCount).map {
            MultiHeadSelfAttention(
                width: width, heads: config.headCount, maxLength: config.maxLength, causal: true, positional: false,
                seed: seed &+ 10 &+ UInt64($0) &* 10)
        }
        attentionNorms = (0..<config.blockCount).map { _ in LayerNorm(width, epsilon: 1e-8) }
        feedForwardNorms = (0..<config.blockCount).map { _ in LayerNorm(width, epsilon: 1e-8) }
        feedForward = (0..<config.blockCount).map {
            MLP(
                [width, width, width], activation: .relu, dropout: config.dropout, seed: seed &+ 100 &+ UInt64($0) &* 10
            )
        }
        finalNorm = LayerNorm(width, epsilon: 1e-8)
        dropouts = (0..<(1 + 2 * config.blockCount)).map { Dropout(config.dropout, seed: seed &+ 200 &+ UInt64($0)) }
    }

    var children: [(name: String, module: any Module)] {
        var parts: [(name: String, module: any Module)] = [("items", items), ("positions", positions)]
        for block in attention.indices {
            parts += [
                ("blocks.\(block).attention", attention[block]),
                ("blocks.\(block).attention_norm", attentionNorms[block]),
                ("blocks.\(block).feed_forward_norm", feedForwardNorms[block]),
                ("blocks.\(block).feed_forward", feedForward[block]),
            ]
        }
        parts.append(("final_norm", finalNorm))
        parts += dropouts.enumerated().map { ("dropout.\($0.offset)", $0.element as any Module) }
        return parts
    }

    /// The states of each sequence's last `length` items at its real positions, packed `[Σ min(count,
    /// length), width]` (sequence after sequence, in order), as the left-padded window computes them: a
    /// padded position holds zero (item embeddings and positions masked, blocks' outputs masked), so
    /// its layer norm is the norm's bias and every padded position offers the attention the same key
    /// and value (`PackedSelfAttention`); the padded positions' own states are never computed.
    func callAsFunction(_ sequences: [[Int32]]) -> (states: Variable, layout: PackedSelfAttention) {
        let windows = sequences.map { $0.suffix(length) }
        let layout = PackedSelfAttention(
            lengths: windows.map(\.count), padding: windows.map { length - $0.count }, heads: headCount)
        var indices: [Int32] = []
        var positionIndices: [Int32] = []
        indices.reserveCapacity(layout.rowCount)
        positionIndices.reserveCapacity(layout.rowCount)
        for window in windows {
            indices += window
            positionIndices += (Int32(length - window.count)..<Int32(length)).map { $0 }
        }
        var x = items(indices) * Float(width).squareRoot() + positions(positionIndices)
        x = dropouts[0](x)
        for block in attention.indices {
            let norm = attentionNorms[block]
            let attended = attention[block](norm(x), padded: norm.bias.reshaped([1, width]), layout: layout)
            x = x + dropouts[1 + 2 * block](attended)
            x = x + dropouts[2 + 2 * block](feedForward[block](feedForwardNorms[block](x)))
        }
        return (finalNorm(x), layout)
    }

    /// Scores of every item after each history (its last position's state; an empty history's is the
    /// final norm's bias, the padded window's state), `[histories.count, items]`.
    func scores(histories: [[Int32]]) -> Tensor {
        var result: [Float] = []
        result.reserveCapacity(histories.count * itemCount)
        let table = items.table.value.gathering(rows: (0..<Int32(itemCount)).map { $0 })
        let empty = finalNorm.bias.value.scalars
        var start = 0
        while start < histories.count {
            let chunk = Array(histories[start..<min(histories.count, start + 64)])
            let (packed, layout) = self(chunk)
            // Each history's last real row; an empty history has none.
            let values = packed.value.scalars
            var states = [Float]()
            states.reserveCapacity(chunk.count * width)
            for (end, count) in zip(layout.offsets.dropFirst(), layout.lengths) {
                states += count > 0 ? values[((end - 1) * width)..<(end * width)] : empty[...]
            }
            let last = Tensor(shape: [chunk.count, width], scalars: states)
            result += last.matmul(table, transposingOther: true).scalars
            start += chunk.count
        }
        return Tensor(shape: [histories.count, itemCount], scalars: result)
    }
}
