import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Item vectors from content, for items nobody has interacted with yet (van den Oord, Dieleman and
/// Schrauwen 2013: a CNN regressing the collaborative vectors from an item's content). A
/// collaborative `base` model (iALS or the YouTube DNN) is trained as usual; then a network — a text
/// CNN over the title's words (a 1-D convolution, ReLU, max over time) beside pooled embeddings of
/// the title's words, genres, tags and decade, through a ReLU layer — learns to regress the base's item vectors from
/// that metadata on the items with interactions (epochs chosen on a held-out part of them). By
/// default the error is measured in scores rather than coordinates: (ŷ − y) G (ŷ − y)ᵀ with G the
/// base's users' Gramian XᵀX / |U|, the mean squared error of the scores every training user would
/// give the item (the unweighted prediction error of van den Oord et al.), so that directions no
/// user's taste points along cost nothing; `loss=vectors` is the plain squared error. Items
/// without interactions (cold items, and items added later through `addingItems`) get the network's
/// vector and are scored and shown in `similar` like any other; users are the base's. `mapping=knn`
/// averages the vectors of the items most alike in content instead (`ContentNeighbours`), and
/// `mapping=hybrid` feeds that average to the network beside the metadata.
public struct ContentModel: SideDataModel, InnerProductModel, ItemSimilarity {
    public static let name = "content"
    public static let summary =
        "item vectors regressed from titles (text CNN), genres and tags: brand-new items are recommendable"
    public static let details =
        "base=ials or youtubednn gives users and warm items; items without interactions get content vectors"

    /// How metadata becomes a vector.
    public enum Mapping: String, Codable, Sendable, CaseIterable {
        case cnn, knn, hybrid
    }

    /// What the content network's squared error is measured on.
    public enum Loss: String, Codable, Sendable, CaseIterable {
        case scores, vectors
    }

    public struct Config: ModelConfig {
        /// The collaborative model, `name:key=value:…`.
        public var base = "ials:factors=64"
        public var mapping = Mapping.cnn
        public var neighbors = 20
        public var loss = Loss.scores
        public var embeddingWidth = 32
        public var filters = 64
        public var window = 3
        public var titleLength = 16
        public var hidden = 128
        public var wordMinCount = 2
        public var epochCount = 200
        public var patience = 10
        public var validation = 0.1
        public var batchSize = 64
        public var learningRate: Float = 0.001
        public var weightDecay: Float = 0
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case base, mapping, neighbors, loss, embeddingWidth = "embedding", filters, window, titleLength =
                "title_length", hidden
            case wordMinCount = "word_min_count", epochCount = "epochs", patience, validation
            case batchSize = "batch_size", learningRate = "learning_rate", weightDecay = "weight_decay", seed
        }

        public static let settings: [ModelSetting] = [
            ModelSetting(
                "base", .text(format: "name:key=value:… (ials or youtubednn)", example: "ials:factors=32"),
                "the collaborative model whose item vectors the content network learns"),
            .choice(
                "mapping", Mapping.self,
                "cnn: the network regresses the base's vectors; knn: the similarity-weighted mean of the vectors "
                    + "of the items most alike in content (idf-weighted cosine; Gantner et al. 2010); hybrid: the "
                    + "network reads that mean and its best similarity beside the metadata"),
            .integer("neighbors", .between(1, 10_000), "knn: items with interactions averaged"),
            .choice(
                "loss", Loss.self,
                "scores: squared error of the scores the training users would give (error weighted by their "
                    + "Gramian); vectors: of the vector coordinates"),
            .integer("embedding", .between(1, 4096), "width of the word, genre, tag and decade embeddings"),
            .integer("filters", .between(1, 4096), "the title convolution's filters"),
            .integer("window", .between(1, 16), "words each filter spans"),
            .integer("title_length", .between(1, 256), "the most title words read"),
            .integer("hidden", .between(0, 8192), "width of the ReLU layer before the output (0: none)"),
            .integer("word_min_count", .atLeast(1), "titles a word must appear in to get its own embedding"),
            .epochs("the most passes over the items with interactions"),
            .patience,
            .number(
                "validation", .from(0, below: 1),
                "fraction of the items with interactions held out to choose the epoch (0: train every epoch)"),
            .batchSize("items per step"),
            .learningRate("Adam step"),
            .number("weight_decay", .atLeast(0), "Adam's L2 weight"),
            .seed,
        ]

        public func validate(model: String) throws(ConfigError) {
            let configured = try ConfiguredModel(describedAs: base, in: model, key: "base")
            guard configured.type is any InnerProductModel.Type,
                ObjectIdentifier(configured.type) != ObjectIdentifier(ContentModel.self)
            else {
                throw ConfigError(
                    model: model, key: "base",
                    "\(configured.name) does not score by user · item vectors; use ials or youtubednn")
            }
            if window > titleLength {
                throw ConfigError(model: model, key: "window", "spans \(window) words of titles cut at \(titleLength)")
            }
        }

        /// The base with this configuration's seed when it draws random numbers and gives none.
        func configuredBase() throws(ConfigError) -> ConfiguredModel {
            let configured = try ConfiguredModel(describedAs: base, in: ContentModel.name, key: "base")
            return configured.isSeeded ? try configured.seeded(seed) : configured
        }
    }

    public let config: Config
    public let base: any TrainableRecommender & InnerProductModel
    /// Every item's vector: the base's for items it was trained with, the network's for the rest.
    public let itemVectors: Tensor
    /// The fitted metadata columns the network reads (vocabularies of title words, genres, tags).
    public let transform: FeatureTransform
    let mapper: ContentMapper

    public var userCount: Int { base.userCount }
    public var itemCount: Int { itemVectors.shape[0] }

    public init(fitting train: Interactions, side: SideData, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        guard let catalog = side.items, catalog.count == train.itemCount else {
            throw ConfigError(
                model: Self.name, key: "base",
                "content needs item metadata (titles, genres or tags); these data have none")
        }
        var baseContext = context
        baseContext.progress = nil
        guard
            let base = try config.configuredBase().fit(train, validation: nil, side: side, context: baseContext)
                as? any TrainableRecommender & InnerProductModel
        else { preconditionFailure("validate admits only inner-product bases") }
        let items = RawFeatureTable.items(train, side: side)
        do {
            transform = try FeatureTransform(
                fitting: ContentInputs.spec(items, wordMinCount: config.wordMinCount), train: train,
                users: RawFeatureTable.empty(entityCount: train.userCount), items: items)
        } catch {
            throw ConfigError(model: Self.name, key: "base", "item metadata: \(error.description)")
        }
        let inputs = ContentInputs(
            transform: transform, table: items, titles: catalog.titles, length: config.titleLength)
        let targets = base.itemVectors
        let counts = train.countsPerItem()
        let warm = counts.indices.filter { counts[$0] > 0 }
        let neighbours =
            config.mapping == .cnn
            ? nil : ContentNeighbours(inputs: inputs, warm: warm, featureCount: transform.featureCount)
        var network: ContentNetwork?
        if config.mapping != .knn {
            var inputs = inputs
            // Each item with interactions reads its neighbours without itself, as a new item would.
            inputs.neighbours = neighbours?.summaries(
                inputs, items: Array(0..<train.itemCount), targets: targets, k: config.neighbors, leavingOut: true)
            let metric =
                config.loss == .scores
                ? Self.scoreMetric(base.userVectors(forUsers: (0..<train.userCount).map(Int32.init))) : nil
            network = try ContentNetwork.train(
                inputs: inputs, targets: targets, items: warm, metric: metric, config: config,
                transform: transform, context: context)
        }
        mapper = ContentMapper(network: network, neighbours: neighbours)
        var table = targets
        let cold = counts.indices.filter { counts[$0] == 0 }
        if !cold.isEmpty {
            let vectors = mapper.vectors(inputs, items: cold, table: targets, config: config)
            let width = targets.shape[1]
            for (row, item) in cold.enumerated() {
                table.scalars.replaceSubrange(
                    (item * width)..<((item + 1) * width), with: vectors.scalars[(row * width)..<((row + 1) * width)])
            }
        }
        self.config = config
        self.base = base
        itemVectors = table
    }

    /// L with L Lᵀ = XᵀX / |U| (plus a trace-scaled ridge so that it is positive definite), `[k, k]`:
    /// ‖(ŷ − y) L‖² is the mean squared error of the users' scores `X ŷᵀ` against `X yᵀ`.
    static func scoreMetric(_ users: Tensor) -> Tensor {
        let (count, width) = (users.shape[0], users.shape[1])
        var gram = [Double](repeating: 0, count: width * width)
        let x = users.scalars
        for user in 0..<count {
            for i in 0..<width {
                let a = Double(x[user * width + i])
                for j in 0...i { gram[i * width + j] += a * Double(x[user * width + j]) }
            }
        }
        let trace = (0..<width).reduce(0) { $0 + gram[$1 * width + $1] }
        for i in 0..<width {
            for j in 0...i { gram[i * width + j] /= Double(max(count, 1)) }
            gram[i * width + i] += max(trace / Double(max(count, 1) * width), 1e-12) * 1e-4
        }
        let factor = LinearSolve.cholesky(gram, n: width)!
        var lower = [Float](repeating: 0, count: width * width)
        for i in 0..<width { for j in 0...i { lower[i * width + j] = Float(factor[i * width + j]) } }
        return Tensor(shape: [width, width], scalars: lower)
    }

    init(
        config: Config, base: any TrainableRecommender & InnerProductModel, itemVectors: Tensor,
        transform: FeatureTransform, mapper: ContentMapper
    ) {
        self.config = config
        self.base = base
        self.itemVectors = itemVectors
        self.transform = transform
        self.mapper = mapper
    }

    public func save(into weights: inout ModelWeights) {
        weights.store(base, prefix: "base.")
        weights.entries["base_item_count"] = .int64([Int64(base.itemCount)], shape: [1])
        if let network = mapper.network {
            var own = ModelWeights()
            own.store(parameters: network.namedValues)
            weights.store(own, prefix: "content.")
        }
        if let neighbours = mapper.neighbours {
            weights.store(neighbours.idf, as: "content_idf")
            weights.store(sequences: [neighbours.items], as: "content_items")
            weights.store(neighbours.rows, as: "content_rows")
        }
        weights.store(document: transform, as: "content_features.json")
        weights.entries["item_vectors"] = .float32(itemVectors)
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        guard case .int64(let counts, _)? = weights.entries["base_item_count"], let baseItems = counts.first,
            baseItems >= 0, Int(baseItems) <= itemCount
        else { throw RestoreError("missing or malformed 'base_item_count'") }
        let configured: ConfiguredModel
        do { configured = try config.configuredBase() } catch { throw RestoreError("\(error)") }
        let restored: any TrainableRecommender
        do {
            restored = try configured.type.restore(
                config: configured.config.jsonObject, weights: weights.unprefixed("base."), userCount: userCount,
                itemCount: Int(baseItems))
        } catch { throw RestoreError("base (\(configured.name)): \(error)") }
        guard let base = restored as? any TrainableRecommender & InnerProductModel else {
            throw RestoreError("base \(configured.name) does not score by inner products")
        }
        let transform = try weights.document(FeatureTransform.self, "content_features.json")
        let width = base.itemVectors.shape[1]
        var mapper = ContentMapper(network: nil, neighbours: nil)
        if config.mapping != .knn {
            let network = ContentNetwork(config: config, transform: transform, width: width, trained: true)
            network.load(try weights.unprefixed("content.").parameters(shapes: network.namedShapes))
            mapper.network = network
        }
        if config.mapping != .cnn {
            let items = try weights.sequences("content_items", count: 1, itemCount: Int(baseItems))[0]
            mapper.neighbours = ContentNeighbours(
                idf: try weights.vector("content_idf", count: transform.featureCount), items: items,
                rows: try weights.matrix("content_rows", rows: items.count, columns: transform.featureCount))
        }
        self.init(
            config: config, base: base, itemVectors: try weights.tensor("item_vectors", shape: [itemCount, width]),
            transform: transform, mapper: mapper)
    }

    /// The model with `catalog`'s items appended (indices `itemCount...`), their vectors from their
    /// metadata alone.
    public func addingItems(_ catalog: ItemCatalog) -> ContentModel {
        let inputs = ContentInputs(
            transform: transform, table: RawFeatureTable.items(catalog: catalog), titles: catalog.titles,
            length: config.titleLength)
        let added = mapper.vectors(inputs, items: Array(0..<catalog.count), table: itemVectors, config: config)
        let table = Tensor(
            shape: [itemCount + catalog.count, itemVectors.shape[1]], scalars: itemVectors.scalars + added.scalars)
        return ContentModel(config: config, base: base, itemVectors: table, transform: transform, mapper: mapper)
    }

    public func userVectors(forUsers users: [Int32]) -> Tensor { base.userVectors(forUsers: users) }

    /// The base's fold-in over the items it knows (items added later are left out of the history).
    public func userVectors(forHistories histories: [[Int32]]) -> Tensor {
        base.userVectors(forHistories: histories.map { history in history.filter { $0 >= 0 && $0 < base.itemCount } })
    }

    public func scores(forUsers users: [Int32]) -> Tensor {
        userVectors(forUsers: users).matmul(itemVectors, transposingOther: true)
    }

    public func scores(forHistories histories: [[Int32]]) -> Tensor {
        userVectors(forHistories: histories).matmul(itemVectors, transposingOther: true)
    }

    public func scores(forHistory history: [Int32]) -> [Float] { scores(forHistories: [history]).scalars }

    /// Cosine of the item vectors (content vectors for items without interactions).
    public func similarItems(to item: Int32, k: Int) -> [ScoredIndex] {
        FactorModel(userFactors: Tensor.zeros([1, itemVectors.shape[1]]), itemFactors: itemVectors)
            .similarItems(to: item, k: k)
    }
}

/// How a content model turns metadata into vectors: its trained network, its items' content rows
/// (nearest neighbours), or the network reading the neighbours' summary.
struct ContentMapper: Sendable {
    var network: ContentNetwork?
    var neighbours: ContentNeighbours?

    /// Vectors for `items` of `inputs`; `table` holds the items with interactions' vectors.
    func vectors(_ inputs: ContentInputs, items: [Int], table: Tensor, config: ContentModel.Config) -> Tensor {
        guard let network else {
            return neighbours!.summaries(inputs, items: items, targets: table, k: config.neighbors).vectors()
        }
        var inputs = inputs
        if let neighbours {
            let summaries = neighbours.summaries(inputs, items: items, targets: table, k: config.neighbors)
            inputs.neighbours = summaries.scattered(to: items, count: inputs.titles.count)
        }
        return network.vectors(inputs, items: items)
    }
}

/// What the content network reads of each item: its title's words in order (feature indices, at most
/// `length`) and each metadata column's active features (the title's words again, as a bag).
struct ContentInputs: Sendable {
    static let titleColumn = "title_words"
    var titles: [[Int32]]
    /// Per metadata column (title words, genres, tags, decade), per item: feature indices and weights.
    var fields: [[(indices: [Int32], weights: [Float])]]
    /// For a hybrid network: each item's neighbour summary (its nearest items' mean vector and their
    /// best similarity).
    var neighbours: NeighbourSummaries?

    /// The columns a content network reads from `items`: title words, genres, tags and decade,
    /// whichever the data has.
    static func spec(_ items: RawFeatureTable, wordMinCount: Int) -> FeatureSpec {
        var spec = FeatureSpec()
        if items.has(titleColumn) {
            spec.item.append(FeatureColumnSpec(titleColumn, kind: .multivalent, minCount: wordMinCount))
        }
        if items.has("genres") { spec.item.append(FeatureColumnSpec("genres", kind: .multivalent, combiner: .sqrtn)) }
        if items.has("tags") {
            spec.item.append(FeatureColumnSpec("tags", kind: .multivalent, combiner: .sqrtn, minCount: 2))
        }
        if let years = items.values("year"), years.contains(where: { $0 != .number(nil) }) {
            spec.item.append(
                FeatureColumnSpec(
                    "decade", source: "year", kind: .bucketized,
                    boundaries: stride(from: 1930, through: 2020, by: 10).map(Float.init)))
        }
        return spec
    }

    init(transform: FeatureTransform, table: RawFeatureTable, titles: [String?], length: Int) {
        let columns = transform.columns
        if let words = columns.first(where: { $0.name == Self.titleColumn }) {
            self.titles = titles.map { title in
                RawFeatureTable.titleSequence(title ?? "").prefix(length).map { words.featureIndex(of: $0) }
            }
        } else {
            self.titles = [[Int32]](repeating: [], count: titles.count)
        }
        fields = columns.map { column in
            let values = table.values(column.sourceName)
            return (0..<table.entityCount).map { item in
                let active = column.encode(values?[item] ?? column.missingValue)
                return (active.map(\.0), active.map(\.1))
            }
        }
    }
}

/// A batch of items for the content network.
struct ContentBatch: Sendable {
    /// `[items · length]` word indices, each title padded with the padding index.
    var words: [Int32]
    /// Valid convolution windows per item (at least one).
    var windows: [Int]
    var fields: [(indices: [Int32], offsets: [Int], weights: [Float])]
    /// `[items, width + 1]` neighbour summaries, for a hybrid network.
    var neighbours: Tensor?
    var targets: Tensor?

    init(_ inputs: ContentInputs, items: [Int], length: Int, window: Int, padding: Int32, targets: Tensor?) {
        words = []
        windows = []
        words.reserveCapacity(items.count * length)
        for item in items {
            let title = inputs.titles[item]
            words += title + [Int32](repeating: padding, count: length - title.count)
            windows.append(max(1, title.count - window + 1))
        }
        fields = inputs.fields.map { column in
            var indices: [Int32] = []
            var offsets = [0]
            var weights: [Float] = []
            for item in items {
                indices += column[item].indices
                weights += column[item].weights
                offsets.append(indices.count)
            }
            return (indices, offsets, weights)
        }
        neighbours = inputs.neighbours.map { $0.rows(items) }
        if let targets {
            let width = targets.shape[1]
            self.targets = Tensor(
                shape: [items.count, width],
                scalars: items.flatMap { targets.scalars[($0 * width)..<(($0 + 1) * width)] })
        }
    }
}

/// Title CNN and pooled metadata embeddings, then a ReLU layer, to a vector of the base's width.
final class ContentNetwork: Module, @unchecked Sendable { // read-only after training; inference makes no state
    let embeddings: Embedding
    let convolution: Conv1D
    let head: MLP
    let length: Int
    let window: Int
    let padding: Int32
    /// The first input column of the neighbour summary (hybrid), nil without one.
    let neighbourColumn: Int?

    init(config: ContentModel.Config, transform: FeatureTransform, width: Int, trained: Bool = false) {
        let seed = config.seed
        let fieldCount = transform.columns.count
        length = config.titleLength
        window = config.window
        padding = Int32(transform.featureCount)
        embeddings = Embedding(
            transform.featureCount + 1, config.embeddingWidth, initializer: trained ? .zeros : .normal(0.1),
            seed: seed &+ 1)
        convolution = Conv1D(
            channels: config.embeddingWidth, filters: config.filters, width: config.window, seed: seed &+ 2)
        let metadata = config.filters + fieldCount * config.embeddingWidth
        neighbourColumn = config.mapping == .hybrid ? metadata : nil
        let inputs = metadata + (config.mapping == .hybrid ? width + 1 : 0)
        head = MLP(
            config.hidden > 0 ? [inputs, config.hidden, width] : [inputs, width], activation: .relu, seed: seed &+ 3)
    }

    var children: [(name: String, module: any Module)] {
        [("embeddings", embeddings), ("convolution", convolution), ("head", head)]
    }

    func callAsFunction(_ batch: ContentBatch) -> Variable {
        let count = batch.windows.count
        let words = embeddings(batch.words).reshaped([count, length, embeddings.table.shape[1]])
        let title = convolution(words).relu().maxOverSteps(length - window + 1, counts: batch.windows)
        let fields = batch.fields.map { field in
            embeddings.table.bagged(indices: field.indices, offsets: field.offsets, weights: field.weights)
        }
        return head(Variable.concatenatingColumns([title] + fields + (batch.neighbours.map { [Variable($0)] } ?? [])))
    }

    func batch(_ inputs: ContentInputs, items: [Int], targets: Tensor? = nil) -> ContentBatch {
        ContentBatch(inputs, items: items, length: length, window: window, padding: padding, targets: targets)
    }

    /// The network's vectors `[items.count, width]` for `items` of `inputs`, 1,024 at a time.
    func vectors(_ inputs: ContentInputs, items: [Int]) -> Tensor {
        var scalars: [Float] = []
        var start = 0
        while start < items.count {
            let chunk = Array(items[start..<min(items.count, start + 1024)])
            scalars += GradientRecording.disabled { self(batch(inputs, items: chunk)).value.scalars }
            start += chunk.count
        }
        return Tensor(shape: [items.count, head.layers.last!.weight.shape[1]], scalars: scalars)
    }

    /// A network regressing `targets`' rows of `items` from their inputs, by mean squared error (of
    /// both multiplied by `metric` when given) with Adam; with `validation` > 0 a seeded part of the
    /// items is held out and the best epoch kept.
    static func train(
        inputs: ContentInputs, targets: Tensor, items: [Int], metric: Tensor?, config: ContentModel.Config,
        transform: FeatureTransform, context: TrainingContext
    ) throws -> ContentNetwork {
        let network = ContentNetwork(config: config, transform: transform, width: targets.shape[1])
        // Collaborative vectors are small (iALS's score ~0.01): the network learns them at unit scale,
        // and its last layer is scaled back after training.
        let scale = Self.rootMeanSquare(targets, rows: items)
        let targets = (metric.map { targets.matmul($0) } ?? targets) * (1 / scale)
        let inputs = {
            var scaled = inputs
            scaled.neighbours = inputs.neighbours?.scalingVectors(by: 1 / scale)
            return scaled
        }()
        let projection = metric.map { Variable($0) }
        func predictions(_ batch: ContentBatch) -> Variable {
            projection.map { network(batch).matmul($0) } ?? network(batch)
        }
        var order = items
        var generator = Xoshiro256(seed: config.seed &+ 7)
        order.shuffle(using: &generator)
        let heldOut = config.validation > 0 ? max(1, Int((Double(order.count) * config.validation).rounded())) : 0
        let (validation, training) = (Array(order.prefix(heldOut)), Array(order.dropFirst(heldOut)))
        guard !training.isEmpty else {
            throw ConfigError(model: ContentModel.name, key: "validation", "leaves no items with interactions to train")
        }
        let optimizer = Adam(
            network.parameters.map(\.variable), learningRate: config.learningRate, weightDecay: config.weightDecay)
        let schedule = BatchSchedule(exampleCount: training.count, batchSize: config.batchSize, seed: config.seed)
        let validationBatch = validation.isEmpty ? nil : network.batch(inputs, items: validation, targets: targets)
        var loop = TrainingLoop(
            epochCount: config.epochCount,
            earlyStopping: validationBatch.map { _ in EarlyStopping(patience: config.patience, higherIsBetter: false) })
        try loop.run(
            network, optimizer: optimizer, context: context,
            epoch: { epoch in
                EpochBatches(inputs: schedule.batches(epoch: epoch)) { rows in
                    network.batch(inputs, items: rows.map { training[$0] }, targets: targets)
                }
            },
            loss: { batch, _ in Loss.meanSquaredError(predictions(batch), batch.targets!) },
            validate: validationBatch.map { batch in
                { _ in
                    let error = GradientRecording.disabled { Loss.meanSquaredError(predictions(batch), batch.targets!) }
                    return ValidationMeasurement(name: "mse", value: Double(error.value.scalar))
                }
            })
        // Undo the training scale: in the last layer's output, and in the first layer's rows that read
        // the neighbours' mean vector (served unscaled).
        let last = network.head.layers.last!
        last.weight.value = last.weight.value * scale
        if let bias = last.bias { bias.value = bias.value * scale }
        if let column = network.neighbourColumn {
            let first = network.head.layers[0].weight
            let outputs = first.shape[1]
            for row in column..<(column + targets.shape[1]) {
                for j in 0..<outputs { first.value.scalars[row * outputs + j] /= scale }
            }
        }
        return network
    }

    /// √(mean of the squares) of `matrix`'s `rows` (1 when they are all zero).
    static func rootMeanSquare(_ matrix: Tensor, rows: [Int]) -> Float {
        let width = matrix.shape[1]
        var sum = 0.0
        for row in rows {
            for j in 0..<width { sum += Double(matrix.scalars[row * width + j] * matrix.scalars[row * width + j]) }
        }
        let value = Float((sum / Double(max(1, rows.count * width))).squareRoot())
        return value > 0 ? value : 1
    }
}
