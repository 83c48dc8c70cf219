import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// The candidate generator of "Deep Neural Networks for YouTube Recommendations" (Covington, Adams
/// and Sargin 2016): a user's vector is a ReLU tower over the mean of the input embeddings of the
/// last `history` items they had and the example's age; every item has an output vector and bias,
/// and training is extreme multiclass classification of each next item from the items before it.
///
/// Every position t ≥ 1 of every training sequence (in time order) is one example: the items
/// before it predict the item at it. The softmax runs over every item (`softmax=full`) or over the
/// target and `negatives` items drawn for the batch from counts^`sampling_alpha` (`softmax=sampled`),
/// with each logit lowered by the log of its item's sampling probability (`logq=true`, Bengio and
/// Senécal's correction that makes the sampled softmax estimate the full one; without it popular
/// items are over-penalised) and sampled items equal to the target ignored. The example age is the
/// time from the example to the end of the training data, scaled by the largest (its value, square
/// and root are inputs); it is zero when recommending, as the paper serves, and zero throughout
/// without timestamps. Retrieval is the inner product of the user vector with every item's output
/// vector plus its bias. Adam; the epoch count is chosen on validation (each user's last training
/// item by default), then the model trains on all of the training data for that many epochs.
public struct YouTubeDNN: SequenceNetworkModel, ItemSimilarity {
    public static let name = "youtubednn"
    public static let summary =
        "YouTube DNN candidate generation (Covington et al. 2016): ReLU tower over the watched items, (sampled) softmax"
    public static let details = "retrieves by the inner product of the user vector with item output vectors"

    public enum Softmax: String, Codable, Sendable, CaseIterable {
        case full
        case sampled
    }

    /// How a user's top items are found among the item vectors.
    public enum Index: String, Codable, Sendable, CaseIterable {
        /// Every item scored.
        case exact
        /// An inverted file (`IVFIndex`): only the items of the `index_probes` cells nearest the user.
        case ivf
    }

    public struct Config: SequenceEpochSettings {
        public var embeddingWidth = 64
        public var layers = [64]
        public var historyLength = 50
        public var examplesPerUser = 0
        public var softmax = Softmax.sampled
        public var negativeCount = 1000
        public var samplingAlpha = 0.75
        public var logQ = true
        public var exampleAge = true
        public var dropout: Float = 0
        public var weightDecay: Float = 0
        public var batchSize = 256
        public var learningRate: Float = 0.001
        public var epochCount = 30
        public var validation = 0.1
        public var validationMetric = SequenceValidation.Metric.recall
        public var validationCut = SequenceValidation.Cut.last
        public var patience = 3
        public var index = Index.exact
        public var indexLists = 0
        public var indexProbes = 16
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case embeddingWidth = "embedding", layers, historyLength = "history",
                examplesPerUser = "examples_per_user", softmax,
                negativeCount = "negatives", samplingAlpha = "sampling_alpha", logQ = "logq",
                exampleAge = "example_age", dropout, weightDecay = "weight_decay", batchSize = "batch_size",
                learningRate = "learning_rate",
                epochCount = "epochs"
            case validation, validationMetric = "validation_metric", validationCut = "validation_cut", patience
            case index, indexLists = "index_lists", indexProbes = "index_probes", seed
        }

        public static let settings: [ModelSetting] = [
            .integer("embedding", .between(1, 4096), "width of the watched items' input embeddings"),
            ModelSetting(
                "layers", .integers(.between(1, 8192)),
                "the ReLU tower's widths; the last is the user and item vector width"),
            .integer("history", .between(1, 10_000), "the most recent items averaged into the input"),
            .integer(
                "examples_per_user", .atLeast(0),
                "at most this many positions of each user per epoch, drawn afresh each epoch, so that heavy users "
                    + "do not dominate the loss (the paper's fixed count per user); 0 trains every position"),
            .choice("softmax", Softmax.self, "full (every item) or sampled (the target and `negatives` drawn items)"),
            .integer("negatives", .atLeast(1), "sampled softmax: items drawn per batch"),
            .number("sampling_alpha", .atLeast(0), "sampled softmax: items drawn in proportion to count^alpha"),
            .boolean("logq", "sampled softmax: subtract log Q(item) from each logit (the sampling bias correction)"),
            .boolean("example_age", "feed each example's age (time to the end of the training data); 0 at serving"),
            .number("dropout", .from(0, below: 1), "dropout between the tower's layers"),
            .number("weight_decay", .atLeast(0), "Adam's L2 weight on the rows and weights each step touches"),
            .batchSize("examples (positions) per step"),
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
            .choice(
                "index", Index.self,
                "top items for a user (serving, recommend for one user): exact (every item scored) or ivf "
                    + "(an inverted file over the item vectors: approximate, for catalogues of millions; "
                    + "evaluation and scores stay exact)"),
            .integer("index_lists", .atLeast(0), "index=ivf: k-means cells (0: 4·√items)"),
            .integer("index_probes", .atLeast(1), "index=ivf: cells searched per user (more: closer to exact, slower)"),
            .seed,
        ]

        public func validate(model: String) throws(ConfigError) {
            if layers.isEmpty { throw ConfigError(model: model, key: "layers", "needs at least one width") }
        }
    }

    public let config: Config
    public let userCount: Int
    public let itemCount: Int
    public let parameters: [String: Tensor]
    /// Each training user's items in time order (the last `history` are read).
    public let sequences: [[Int32]]
    let network: YouTubeDNNNetwork
    /// With `index=ivf`: the index over `itemVectors`, made when first asked for top items.
    let itemIndex: LazyIVFIndex?

    public init(config: Config, parameters: [String: Tensor], sequences: [[Int32]], itemCount: Int) {
        self.config = config
        self.parameters = parameters
        self.sequences = sequences
        self.userCount = sequences.count
        self.itemCount = itemCount
        let network = YouTubeDNNNetwork(config: config, itemCount: itemCount)
        network.load(parameters)
        network.setTraining(false)
        self.network = network
        itemIndex =
            config.index == .ivf
            ? LazyIVFIndex {
                let lists = config.indexLists > 0 ? config.indexLists : IVFIndex.defaultListCount(for: itemCount)
                return IVFIndex(vectors: network.itemVectors, lists: lists, seed: config.seed)
            } : nil
    }

    /// The best `k` items of each user without `excluding[i]`: every item scored, or with
    /// `index=ivf` the items of the `index_probes` cells of the index nearest the user's vector (a
    /// user whose cells hold fewer than `k` items they may get is searched exactly).
    public func topItems(forUsers users: [Int32], k: Int, excluding: [[Int32]]) -> [[ScoredIndex]] {
        guard let itemIndex else { return exactTopItems(forUsers: users, k: k, excluding: excluding) }
        let found = itemIndex.index.search(
            queries: userVectors(forUsers: users), k: k, probes: config.indexProbes, excluding: excluding)
        return zip(users, found).enumerated().map { row, pair in
            pair.1 ?? exactTopItems(forUsers: [pair.0], k: k, excluding: excluding.isEmpty ? [] : [excluding[row]])[0]
        }
    }

    public static func parameterShapes(config: Config, itemCount: Int) -> [String: [Int]] {
        YouTubeDNNNetwork(config: config, itemCount: itemCount).namedShapes
    }

    public static func train(
        _ data: Interactions, config: Config, context: TrainingContext, validation: SequenceValidation?
    ) throws -> (parameters: [String: Tensor], bestEpoch: Int?) {
        let network = YouTubeDNNNetwork(config: config, itemCount: data.itemCount)
        let optimizer = Adam(
            network.parameters.map(\.variable), learningRate: config.learningRate, weightDecay: config.weightDecay)
        let examples = NextItemExamples(data, historyLength: config.historyLength, exampleAge: config.exampleAge)
        let sampler =
            config.softmax == .sampled
            ? NegativeSampler(
                itemCount: data.itemCount, kind: .popularity(alpha: config.samplingAlpha), counts: data.countsPerItem())
            : nil
        let perUser = config.examplesPerUser
        let schedule = BatchSchedule(
            exampleCount: examples.epochCount(perSequence: perUser), batchSize: config.batchSize, seed: config.seed)
        var loop = TrainingLoop(
            epochCount: config.epochCount,
            earlyStopping: validation.map { _ in EarlyStopping(patience: config.patience, higherIsBetter: true) })
        let summary = try loop.run(
            network, optimizer: optimizer, context: context,
            epoch: { epoch in
                var batches = schedule.batches(epoch: epoch)
                if perUser > 0 {
                    let chosen = examples.epochExamples(
                        perSequence: perUser, seed: config.seed &+ 29 &+ UInt64(epoch) &* 7_919)
                    batches = batches.map { $0.map { chosen[$0] } }
                }
                let seeds = batches.indices.map { config.seed &+ 17 &+ UInt64(epoch) &* 1_000_003 &+ UInt64($0) }
                return EpochBatches(inputs: Array(zip(batches, seeds))) { rows, seed in
                    var batch = examples.batch(rows)
                    if let sampler {
                        var generator = Xoshiro256(seed: seed)
                        batch.drawNegatives(config.negativeCount, from: sampler, logQ: config.logQ, using: &generator)
                    }
                    return batch
                }
            },
            loss: { batch, _ in network.loss(batch) },
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

    /// The items whose output vectors are closest in cosine to `item`'s.
    public func similarItems(to item: Int32, k: Int) -> [ScoredIndex] {
        let vectors = network.outputs.table.value
        return FactorModel(userFactors: Tensor.zeros([1, vectors.shape[1]]), itemFactors: vectors)
            .similarItems(to: item, k: k)
    }
}

/// The training examples of a next-item model: every position t ≥ 1 of every sequence, its item the
/// target and the `historyLength` items before it the input, with the example's age.
struct NextItemExamples: Sendable {
    let sequences: [[Int32]]
    /// (sequence, position) of each example, sequence by sequence.
    let positions: [(sequence: Int32, position: Int32)]
    /// The examples of sequence s are `starts[s]..<starts[s + 1]`.
    let starts: [Int]
    /// Each example's age over the largest, or nil (no timestamps, or not asked for).
    let ages: [Float]?
    let historyLength: Int

    init(_ data: Interactions, historyLength: Int, exampleAge: Bool) {
        sequences = data.sequences()
        var positions: [(sequence: Int32, position: Int32)] = []
        positions.reserveCapacity(data.count)
        var starts = [0]
        for (index, sequence) in sequences.enumerated() {
            for position in 1..<max(1, sequence.count) { positions.append((Int32(index), Int32(position))) }
            starts.append(positions.count)
        }
        self.positions = positions
        self.starts = starts
        self.historyLength = historyLength
        guard exampleAge, let times = data.sequenceTimes(), let end = data.timestamps?.max() else {
            ages = nil
            return
        }
        let raw = positions.map { example -> Double in
            Double(end - times[Int(example.sequence)][Int(example.position)])
        }
        let largest = raw.max() ?? 0
        ages = raw.map { largest > 0 ? Float($0 / largest) : 0 }
    }

    var count: Int { positions.count }

    /// How many examples an epoch has with at most `perSequence` from each sequence (0: no limit).
    func epochCount(perSequence: Int) -> Int {
        guard perSequence > 0 else { return count }
        return zip(starts, starts.dropFirst()).reduce(0) { $0 + min(perSequence, $1.1 - $1.0) }
    }

    /// Example indices for one epoch with at most `perSequence` of each sequence (0: every example),
    /// a seeded draw without replacement from each longer sequence; `epochCount(perSequence:)` of them,
    /// sequence by sequence.
    func epochExamples(perSequence: Int, seed: UInt64) -> [Int] {
        guard perSequence > 0 else { return Array(0..<count) }
        var generator = Xoshiro256(seed: seed)
        var chosen: [Int] = []
        chosen.reserveCapacity(epochCount(perSequence: perSequence))
        for (start, end) in zip(starts, starts.dropFirst()) {
            if end - start <= perSequence {
                chosen += start..<end
                continue
            }
            var rows = Array(start..<end)
            for slot in 0..<perSequence {
                rows.swapAt(slot, slot + generator.nextIndex(below: rows.count - slot))
            }
            chosen += rows.prefix(perSequence)
        }
        return chosen
    }

    func batch(_ rows: [Int]) -> NextItemBatch {
        var indices: [Int32] = []
        var offsets = [0]
        var targets: [Int32] = []
        for row in rows {
            let (sequence, position) = positions[row]
            let items = sequences[Int(sequence)]
            indices += items[max(0, Int(position) - historyLength)..<Int(position)]
            offsets.append(indices.count)
            targets.append(items[Int(position)])
        }
        let ages = rows.map { self.ages?[$0] ?? 0 }
        return NextItemBatch(
            histories: indices, offsets: offsets, ages: YouTubeDNNNetwork.ageFeatures(ages), targets: targets)
    }
}

/// A batch of next-item examples, with the sampled softmax's shared negatives when drawn.
struct NextItemBatch: Sendable {
    var histories: [Int32]
    var offsets: [Int]
    /// `[batch, 3]`: age, age², √age.
    var ages: Tensor
    var targets: [Int32]
    var negatives: [Int32] = []
    /// `[batch, 1 + negatives]`: what each logit is lowered by (log Q, and a large number for a
    /// sampled item equal to the row's target).
    var logQ = Tensor.zeros([0])

    mutating func drawNegatives(
        _ count: Int, from sampler: NegativeSampler, logQ correct: Bool, using generator: inout Xoshiro256
    ) {
        negatives = (0..<count).map { _ in sampler.sample(using: &generator) }
        let columns = count + 1
        var lowered = [Float](repeating: 0, count: targets.count * columns)
        for (row, target) in targets.enumerated() {
            if correct { lowered[row * columns] = sampler.logProbabilities[Int(target)] }
            for (slot, negative) in negatives.enumerated() {
                let column = row * columns + 1 + slot
                if negative == target {
                    lowered[column] = 1e9
                } else if correct {
                    lowered[column] = sampler.logProbabilities[Int(negative)]
                }
            }
        }
        logQ = Tensor(shape: [targets.count, columns], scalars: lowered)
    }
}

/// The YouTube DNN's network: input item embeddings (mean-pooled), a ReLU tower, output item
/// vectors and biases.
final class YouTubeDNNNetwork: Module, @unchecked Sendable { // read-only after training; scoring makes no state
    let inputs: EmbeddingBag
    let tower: MLP
    let outputs: Embedding
    let biases: Embedding
    let itemCount: Int
    let historyLength: Int
    let sampled: Bool

    init(config: YouTubeDNN.Config, itemCount: Int) {
        let seed = config.seed
        self.itemCount = itemCount
        historyLength = config.historyLength
        sampled = config.softmax == .sampled
        inputs = EmbeddingBag(itemCount, config.embeddingWidth, pooling: .mean, seed: seed &+ 1)
        tower = MLP(
            [config.embeddingWidth + 3] + config.layers, activation: .relu, finalActivation: .relu,
            dropout: config.dropout, seed: seed &+ 2)
        // Sampled softmax touches a few output rows per step (sparse, lazily updated); full softmax all.
        outputs = Embedding(
            itemCount, config.layers.last!, initializer: .normal(0.05), sparse: sampled, seed: seed &+ 3)
        biases = Embedding(itemCount, 1, initializer: .zeros, sparse: sampled, seed: seed &+ 4)
    }

    var children: [(name: String, module: any Module)] {
        [("inputs", inputs), ("tower", tower), ("outputs", outputs), ("biases", biases)]
    }

    /// Age, its square and its root: the paper's example-age inputs.
    static func ageFeatures(_ ages: [Float]) -> Tensor {
        Tensor(shape: [ages.count, 3], scalars: ages.flatMap { [$0, $0 * $0, $0.squareRoot()] })
    }

    /// The user vectors `[bags, width]` of the pooled histories and ages.
    func userVectors(histories: [Int32], offsets: [Int], ages: Tensor) -> Variable {
        tower(Variable.concatenatingColumns([inputs(histories, offsets: offsets), Variable(ages)]))
    }

    func loss(_ batch: NextItemBatch) -> Variable {
        let users = userVectors(histories: batch.histories, offsets: batch.offsets, ages: batch.ages)
        guard sampled else {
            let logits = users.matmul(outputs.table, transposingOther: true) + biases.table.reshaped([itemCount])
            return Loss.softmaxCrossEntropy(logits: logits, labels: batch.targets)
        }
        let rows = batch.targets.count
        let positive = (users * outputs(batch.targets)).sum(alongAxis: -1) + biases(batch.targets)
        let negative =
            users.matmul(outputs(batch.negatives), transposingOther: true)
            + biases(batch.negatives).reshaped([batch.negatives.count])
        let logits = Variable.concatenatingColumns([positive.reshaped([rows, 1]), negative])
        return Loss.sampledSoftmaxCrossEntropy(logits: logits, logQ: batch.logQ)
    }

    /// The output vectors with the biases as a last column, `[items, width + 1]`.
    var itemVectors: Tensor { Tensor.concatenatingColumns([outputs.table.value, biases.table.value]) }

    /// Scores of every item after each history (age zero, as served), `[histories.count, items]`.
    func scores(histories: [[Int32]]) -> Tensor {
        userVectors(histories: histories).matmul(outputs.table.value, transposingOther: true)
            + biases.table.value.reshaped([itemCount])
    }

    /// The user vectors `[histories.count, width]` after each history (age zero, as served), 256 at a time.
    func userVectors(histories: [[Int32]]) -> Tensor {
        var result: [Float] = []
        result.reserveCapacity(histories.count * outputs.table.shape[1])
        var start = 0
        while start < histories.count {
            let chunk = histories[start..<min(histories.count, start + 256)]
            var indices: [Int32] = []
            var offsets = [0]
            for history in chunk {
                indices += history.suffix(historyLength)
                offsets.append(indices.count)
            }
            result +=
                userVectors(histories: indices, offsets: offsets, ages: Tensor.zeros([chunk.count, 3])).value.scalars
            start += chunk.count
        }
        return Tensor(shape: [histories.count, outputs.table.shape[1]], scalars: result)
    }
}
