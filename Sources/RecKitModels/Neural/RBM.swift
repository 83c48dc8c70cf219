import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Restricted Boltzmann machine for collaborative filtering (RBM-CF, Salakhutdinov, Mnih and Hinton,
/// ICML 2007). Each user is one training case: a K-way softmax visible unit for every item the user
/// rated (K = the training data's rating levels; weights shared by all users), binary hidden units.
/// Trained by contrastive divergence: CD-T with T growing during training (1 at first, +2 every
/// `cd_every` epochs up to `cd_max`), momentum, weight decay, mini-batches of users. The CD update is
/// the gradient of the free-energy gap F(v_data) − F(v_T), v_T held fixed, so it runs on RecKitNN's
/// training loop and optimiser like every other model.
///
/// A rating is predicted as the expectation of the item's visible softmax given the hidden
/// probabilities of the user's training ratings, p̂ = σ(c + Σ W·v); a pair whose user or item has no
/// training ratings gets the global mean. `variant=item` (the default, I-RBM) swaps the roles: items
/// are the training cases, with a softmax unit per user who rated them. A history without ratings
/// (fold-in) is read by U-RBM as rated at the level nearest the global mean; I-RBM has no unit for a new
/// user and ranks by the items' mean rating. `visible=binary` is the implicit-data variant for top-N:
/// one binary visible unit per item over the whole catalogue, items ranked by p(v_i = 1 | p̂), exact for
/// a U-RBM fold-in history. Seeded: a run is repeatable.
public struct RBM: TrainableRecommender, RatingPredictor {
    public static let name = "rbm"
    public static let summary =
        "RBM-CF (Salakhutdinov et al. 2007): softmax visible units per rated item, contrastive divergence"
    public static let details =
        "binary hidden units over K-way softmax visible units (ratings), or binary visible units (implicit data, "
        + "visible=binary); CD-T with growing T, momentum, weight decay; epochs chosen on validation"

    public struct Config: ModelConfig {
        /// Items as training cases (I-RBM, which AutoRec's table puts ahead; validation RMSE 0.9191 against
        /// U-RBM's 0.9483 on the split below) or users (U-RBM, the paper's).
        public var variant = Variant.item
        // Defaults from the talk (100 hidden units, batches of 100, ≤ 200 epochs) and, for the rest, chosen on
        // a seeded random 10 % of ml-100k's u1.base (validation RMSE at 80 epochs: learning rate 0.005/0.01/0.02
        // → 0.9684/0.9526/0.9721; weight decay 1e-4/1e-3/1e-2/3e-2 → 0.9531/0.9526/0.9498/0.9591; hidden 50/200
        // 0.9550/0.9572; batches of 20 1.0114; with epochs chosen on validation, decay 0.01 and T + 2 every 20
        // epochs 0.9483).
        public var visible = Visible.softmax
        public var hiddenSize = 100
        public var epochCount = 200
        public var batchSize = 100
        public var learningRate: Float = 0.01
        public var momentum: Float = 0.9
        /// L2 weight decay on every parameter.
        public var regularization: Float = 0.01
        /// CD steps at the start; +2 every `cdEvery` epochs up to `cdMax`.
        public var cdSteps = 1
        public var cdMax = 9
        public var cdEvery = 20
        public var validation = 0.1
        public var patience = 20
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case variant, visible, hiddenSize = "hidden", epochCount = "epochs", batchSize = "batch_size"
            case learningRate = "learning_rate", momentum, regularization, cdSteps = "cd_steps", cdMax = "cd_max"
            case cdEvery = "cd_every", validation, patience, seed
        }

        public static let settings: [ModelSetting] = [
            .choice("variant", Variant.self, "user (users are the training cases; U-RBM) or item (I-RBM)"),
            .choice("visible", Visible.self, "softmax (one K-way unit per rated item; ratings) or binary (implicit)"),
            .integer("hidden", .atLeast(1), "binary hidden units", aliases: ["factors"]),
            .epochs("the most passes over the users (the count is chosen on validation)"),
            .batchSize("users per step"),
            .learningRate("SGD step"),
            .number("momentum", .from(0, below: 1), "SGD momentum"),
            .regularization("weight decay (L2) on every parameter"),
            .integer("cd_steps", .atLeast(1), "Gibbs steps of contrastive divergence at the start"),
            .integer("cd_max", .atLeast(1), "the most Gibbs steps (T grows by 2 every cd_every epochs)"),
            .integer("cd_every", .atLeast(1), "epochs between increases of T"),
            .validation, .patience,
            .seed,
        ]

        public mutating func resolveDefaults(given: Set<String>) {
            if visible == .binary && !given.contains("validation") { validation = 0.2 }
            // Binary units: users as cases ranked far better on a holdout cut from ml-100k's peers' training part
            // (validation NDCG@10 0.2578 against items' 0.1930).
            if visible == .binary && !given.contains("variant") { variant = .user }
        }

        /// T for `epoch` (from 1).
        func gibbsSteps(epoch: Int) -> Int { min(max(cdSteps, cdMax), cdSteps + 2 * ((epoch - 1) / cdEvery)) }
    }

    public enum Visible: String, Codable, Sendable, CaseIterable {
        case softmax, binary
    }

    public enum Variant: String, Codable, Sendable, CaseIterable {
        case user, item
    }

    public let config: Config
    /// `weight` `[items·K, hidden]` (unit i·K + k is item i at level k), `visible.bias`, `hidden.bias`.
    public let parameters: [String: Tensor]
    /// The rating values of the K levels, ascending (`[1]` for binary units).
    public let levels: [Float]
    /// The training cases' ratings (their rating values; 1 for binary units): users' rows, or items'
    /// for `variant=item`.
    let rows: InteractionMatrix
    let globalMean: Float
    /// p̂ of every row's training ratings, `[rows, hidden]`.
    let hiddenProbabilities: Tensor
    /// Whether each visible column (item, or user for `variant=item`) has training ratings.
    let columnRated: [Bool]
    /// Per item, the mean training rating (binary units: the count): `variant=item`'s new-user ranking.
    let itemPrior: [Float]
    let units: RBMUnits
    public let userCount: Int
    public let itemCount: Int

    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        let levels = try Self.levels(train, config)
        self = try EpochChoice(
            fraction: config.validation, patience: config.patience,
            target: config.visible == .softmax ? .ratings : .ranking
        ).fit(config, epochs: \.epochCount, data: train, seed: config.seed, model: Self.name) {
            try Self.train($0, $1, levels: levels, context: context, validation: $2)
        }.result
    }

    /// The rating levels: the distinct training ratings (softmax units), or one level (binary units).
    static func levels(_ train: Interactions, _ config: Config) throws(ConfigError) -> [Float] {
        guard config.visible == .softmax else { return [1] }
        guard let ratings = train.ratings, !ratings.isEmpty else {
            throw ConfigError(
                model: name, key: "visible", "softmax units need explicit ratings; use visible=binary for implicit data"
            )
        }
        let levels = Set(ratings).sorted()
        guard levels.count <= 20, levels.allSatisfy(\.isFinite) else {
            throw ConfigError(
                model: name, key: "visible",
                "softmax units need discrete rating levels (at most 20); the data has \(levels.count) distinct "
                    + "ratings; use visible=binary")
        }
        return levels
    }

    /// One training run of `config.epochCount` epochs, with early stopping on `validation` if given.
    static func train(
        _ train: Interactions, _ config: Config, levels: [Float], context: TrainingContext,
        validation: ValidationHoldout?
    ) throws -> (model: RBM, bestEpoch: Int?) {
        let binary = config.visible == .binary
        let rows = try Self.ratingRows(train, binary: binary, variant: config.variant)
        let network = RBMNetwork(rows, levels: levels, binary: binary, hiddenSize: config.hiddenSize, seed: config.seed)
        let optimizer = SGD(
            network.parameters.map(\.variable), learningRate: config.learningRate, momentum: config.momentum,
            weightDecay: config.regularization)
        let active = (0..<rows.rowCount).filter { rows.count(inRow: $0) > 0 }
        let schedule = BatchSchedule(exampleCount: active.count, batchSize: config.batchSize, seed: config.seed)
        var generator = SplitMix64(seed: config.seed ^ 0xB01D)
        let globalMean = Self.globalMean(train)
        let model = { (parameters: [String: Tensor]) in
            RBM(
                config: config, parameters: parameters, levels: levels, rows: rows, globalMean: globalMean,
                userCount: train.userCount, itemCount: train.itemCount)
        }
        var loop = TrainingLoop(epochCount: config.epochCount)
        loop.earlyStopping = validation?.earlyStopping(patience: config.patience)
        var steps = config.cdSteps
        let summary = try loop.run(
            network, optimizer: optimizer, context: context,
            epoch: { epoch in
                steps = config.gibbsSteps(epoch: epoch)
                return EpochBatches(inputs: schedule.batches(epoch: epoch)) { [units = network.units] batch in
                    units.visible(batch.map { active[$0] }, of: rows)
                }
            },
            loss: { data, _ in
                let sample = network.gibbsChain(from: data, steps: steps, using: &generator)
                return (network.freeEnergy(data) - network.freeEnergy(sample)).mean()
            },
            validate: validation.map { validation in
                { _ in
                    let trained = model(network.namedValues)
                    return binary ? validation.ndcg(trained.scores(forUsers:)) : validation.rmse(trained.predict)
                }
            })
        return (model(network.namedValues), summary.bestEpoch)
    }

    /// The training cases' rows (users', or items' for `variant=item`) of ratings (the values the softmax
    /// units read, whatever weights the data has too), or of ones for binary units; a repeated pair
    /// counts once (the latest rating).
    static func ratingRows(_ train: Interactions, binary: Bool, variant: Variant) throws -> InteractionMatrix {
        let unique = train.deduplicated(binary ? .max : .keepLast)
        let values = try Interactions(
            users: unique.users, items: unique.items,
            ratings: binary ? [Float](repeating: 1, count: unique.count) : unique.ratings,
            userCount: unique.userCount, itemCount: unique.itemCount)
        return variant == .user ? InteractionMatrix.byUser(values) : InteractionMatrix.byItem(values)
    }

    static func globalMean(_ train: Interactions) -> Float {
        guard let ratings = train.ratings, !ratings.isEmpty else { return 1 }
        return ratings.reduce(0, +) / Float(ratings.count)
    }

    init(
        config: Config, parameters: [String: Tensor], levels: [Float], rows: InteractionMatrix, globalMean: Float,
        userCount: Int, itemCount: Int
    ) {
        self.config = config
        self.parameters = parameters
        self.levels = levels
        self.rows = rows
        self.globalMean = globalMean
        self.userCount = userCount
        self.itemCount = itemCount
        var columnRated = [Bool](repeating: false, count: rows.columnCount)
        var itemTotals = [Float](repeating: 0, count: itemCount)
        var itemCounts = [Float](repeating: 0, count: itemCount)
        for row in 0..<rows.rowCount {
            for (column, value) in zip(rows.columns(inRow: row), rows.values(inRow: row)) {
                columnRated[Int(column)] = true
                let item = config.variant == .user ? Int(column) : row
                itemTotals[item] += value
                itemCounts[item] += 1
            }
        }
        self.columnRated = columnRated
        let binary = config.visible == .binary
        self.units = RBMUnits(levels: levels, binary: binary, columnCount: rows.columnCount)
        self.itemPrior = (0..<itemCount).map { binary ? itemCounts[$0] : itemTotals[$0] / max(1, itemCounts[$0]) }
        let network = RBMNetwork(
            columnCount: rows.columnCount, levels: levels, binary: binary, hiddenSize: config.hiddenSize,
            restoring: parameters)
        var scalars: [Float] = []
        scalars.reserveCapacity(rows.rowCount * config.hiddenSize)
        var start = 0
        while start < rows.rowCount {
            let batch = Array(start..<min(rows.rowCount, start + 256))
            scalars += network.hiddenProbabilities(network.units.visible(batch, of: rows)).scalars
            start += batch.count
        }
        hiddenProbabilities = Tensor(shape: [rows.rowCount, config.hiddenSize], scalars: scalars)
    }

    public func save(into weights: inout ModelWeights) {
        weights.store(parameters: parameters)
        weights.store(levels, as: "levels")
        weights.store([globalMean], as: "global_mean")
        weights.store(rows, as: "ratings")
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        guard case .float32(let stored)? = weights.entries["levels"], stored.scalarCount > 0 else {
            throw RestoreError("missing float tensor 'levels'")
        }
        let levels = try weights.vector("levels", count: stored.scalarCount)
        let (rowCount, columnCount) = config.variant == .user ? (userCount, itemCount) : (itemCount, userCount)
        let shapes = [
            "weight": [columnCount * levels.count, config.hiddenSize], "visible.bias": [columnCount * levels.count],
            "hidden.bias": [config.hiddenSize],
        ]
        self.init(
            config: config, parameters: try weights.parameters(shapes: shapes), levels: levels,
            rows: try weights.matrix("ratings", rows: rowCount, columns: columnCount),
            globalMean: try weights.vector("global_mean", count: 1)[0], userCount: userCount, itemCount: itemCount)
    }

    var network: RBMNetwork {
        RBMNetwork(
            columnCount: rows.columnCount, levels: levels, binary: config.visible == .binary,
            hiddenSize: config.hiddenSize, restoring: parameters)
    }

    /// The visible units' scores from the trained parameters (no network is built: `predict` runs per pair).
    func visibleScores(_ hidden: Tensor, columns: [Int32]? = nil) -> Tensor {
        units.scores(hidden, weight: parameters["weight"]!, bias: parameters["visible.bias"]!, columns: columns)
    }

    func rowRated(_ row: Int) -> Bool { row >= 0 && row < rows.rowCount && rows.count(inRow: row) > 0 }

    /// p̂ of training cases' rows (σ(c) for rows without training ratings).
    func hidden(rows selected: [Int]) -> Tensor {
        let width = config.hiddenSize
        let prior = parameters["hidden.bias"]!.scalars.map(Activation.sigmoid)
        var scalars: [Float] = []
        scalars.reserveCapacity(selected.count * width)
        for row in selected {
            scalars += rowRated(row) ? hiddenProbabilities.scalars[(row * width)..<((row + 1) * width)] : prior[...]
        }
        return Tensor(shape: [selected.count, width], scalars: scalars)
    }

    /// Scores `[users, items]`: expected ratings (softmax units; the global mean where the user or the item
    /// has no training ratings) or logits of p(v = 1) (binary units).
    public func scores(forUsers users: [Int32]) -> Tensor {
        let softmax = config.visible == .softmax
        switch config.variant {
        case .user:
            var scores = visibleScores(hidden(rows: users.map { Int($0) }))
            guard softmax else { return scores }
            for (slot, user) in users.enumerated() {
                for item in 0..<itemCount where !rowRated(Int(user)) || !columnRated[item] {
                    scores.scalars[slot * itemCount + item] = globalMean
                }
            }
            return scores
        case .item:
            let known = users.map { $0 >= 0 && Int($0) < userCount ? $0 : 0 }
            let byItem = visibleScores(hiddenProbabilities, columns: known) // [items, users]
            var scalars = [Float](repeating: 0, count: users.count * itemCount)
            for (slot, user) in users.enumerated() {
                let userKnown = Int(user) < userCount && user >= 0 && columnRated[Int(user)]
                for item in 0..<itemCount {
                    let value = byItem.scalars[item * users.count + slot]
                    scalars[slot * itemCount + item] =
                        softmax && !(userKnown && rowRated(item)) ? globalMean : value
                }
            }
            return Tensor(shape: [users.count, itemCount], scalars: scalars)
        }
    }

    /// Someone known only by a history: the user-based machine reads it (softmax units: rated at the level
    /// nearest the global mean), exactly like a training user for binary units. The item-based machine has
    /// no visible unit for a new user; it ranks by the items' mean training rating (binary: their counts).
    public func scores(forHistory history: [Int32]) -> [Float] {
        guard config.variant == .user else { return itemPrior }
        let items = CDAENetwork.distinctKnown(history, itemCount: itemCount)
        let level = levels.indices.min { abs(levels[$0] - globalMean) < abs(levels[$1] - globalMean) } ?? 0
        let visible = SparseMatrix(
            rowCount: 1, columnCount: itemCount * levels.count, rowStarts: [0, items.count],
            columns: items.map { $0 * Int32(levels.count) + Int32(level) },
            values: [Float](repeating: 1, count: items.count))
        return visibleScores(network.hiddenProbabilities(visible)).scalars
    }

    /// The expected rating (softmax units; the global mean where the user or the item has no training
    /// ratings), or p(v = 1) (binary units).
    public func predict(user: Int32, item: Int32) -> Float {
        guard user >= 0, Int(user) < userCount, item >= 0, Int(item) < itemCount else { return globalMean }
        let (row, column) = config.variant == .user ? (Int(user), item) : (Int(item), user)
        let softmax = config.visible == .softmax
        if softmax && !(rowRated(row) && columnRated[Int(column)]) { return globalMean }
        let score = visibleScores(hidden(rows: [row]), columns: [column]).scalars[0]
        return softmax ? score : Activation.sigmoid(score)
    }
}

/// RBM-CF's parameters and its computations: visible vectors as sparse rows over the units (item i at
/// level k is unit i·K + k), free energy, Gibbs sampling, and the visible units' scores.
final class RBMNetwork: Module {
    let weight: Variable
    let visibleBias: Variable
    let hiddenBias: Variable
    let units: RBMUnits
    var levels: [Float] { units.levels }
    var binary: Bool { units.binary }
    var columnCount: Int { units.columnCount }
    var unitCount: Int { units.count }

    /// A fresh network for `ratings`: small random weights, visible biases at the log frequencies of the
    /// items' levels (binary: the log-odds of each item), as Hinton's practical guide recommends.
    convenience init(_ ratings: InteractionMatrix, levels: [Float], binary: Bool, hiddenSize: Int, seed: UInt64) {
        self.init(columnCount: ratings.columnCount, levels: levels, binary: binary, hiddenSize: hiddenSize)
        var generator = Xoshiro256(seed: seed &+ 1)
        weight.value = Initializer.normal(0.01).tensor(
            [unitCount, hiddenSize], fanIn: unitCount, fanOut: hiddenSize, using: &generator)
        var counts = [Float](repeating: 0, count: unitCount)
        var perColumn = [Float](repeating: 0, count: columnCount)
        for row in 0..<ratings.rowCount {
            for (item, value) in zip(ratings.columns(inRow: row), ratings.values(inRow: row)) {
                counts[Int(units.unit(item: item, rating: value))] += 1
                perColumn[Int(item)] += 1
            }
        }
        let users = Float(max(1, ratings.rowCount))
        let k = Float(levels.count)
        visibleBias.value = Tensor(
            shape: [unitCount],
            scalars: (0..<unitCount).map { unit in
                let column = unit / levels.count
                if binary {
                    let p = (counts[unit] + 1) / (users + 2)
                    return Foundation.log(p / (1 - p))
                }
                return Foundation.log((counts[unit] + 1) / (perColumn[column] + k))
            })
    }

    init(
        columnCount: Int, levels: [Float], binary: Bool, hiddenSize: Int, restoring trained: [String: Tensor]? = nil
    ) {
        let unitCount = columnCount * levels.count
        weight = Variable(Tensor.zeros([unitCount, hiddenSize]), requiresGradient: true)
        visibleBias = Variable(Tensor.zeros([unitCount]), requiresGradient: true)
        hiddenBias = Variable(Tensor.zeros([hiddenSize]), requiresGradient: true)
        units = RBMUnits(levels: levels, binary: binary, columnCount: columnCount)
        if let trained { load(trained) }
    }

    var ownParameters: [NamedParameter] {
        [
            NamedParameter("weight", weight), NamedParameter("visible.bias", visibleBias),
            NamedParameter("hidden.bias", hiddenBias),
        ]
    }

    /// c + v·W, `[rows, hidden]`.
    func hiddenInput(_ visible: SparseMatrix) -> Variable { Variable.sparseProduct(visible, weight) + hiddenBias }

    /// p(h = 1 | v), without a graph.
    func hiddenProbabilities(_ visible: SparseMatrix) -> Tensor {
        GradientRecording.disabled { hiddenInput(visible).sigmoid().value }
    }

    /// F(v) = −b·v − Σ_j softplus(c_j + (v·W)_j), `[rows]`.
    func freeEnergy(_ visible: SparseMatrix) -> Variable {
        let rows = visible.rowCount
        let bias = Variable.sparseProduct(visible, visibleBias.reshaped([unitCount, 1])).reshaped([rows])
        return -bias - hiddenInput(visible).softplus().sum(alongAxis: -1)
    }

    /// v_T of CD-T from `data`: hidden states sampled from p(h | v), visible units from p(v | h) (the
    /// softmax units of the rated items only), T times; the last softmax step keeps its probabilities.
    func gibbsChain(from data: SparseMatrix, steps: Int, using generator: inout SplitMix64) -> SparseMatrix {
        var visible = data
        var hidden = Self.sampled(hiddenProbabilities(data), using: &generator)
        for step in 1...steps {
            visible = reconstruction(hidden, like: data, sample: binary || step < steps, using: &generator)
            if step < steps { hidden = Self.sampled(hiddenProbabilities(visible), using: &generator) }
        }
        return visible
    }

    static func sampled(_ probabilities: Tensor, using generator: inout SplitMix64) -> Tensor {
        var states = probabilities.scalars
        for index in states.indices { states[index] = generator.nextUnitFloat() < states[index] ? 1 : 0 }
        return Tensor(shape: probabilities.shape, scalars: states)
    }

    /// Visible units given hidden states: for softmax units, the rated items of `data`'s rows, each a
    /// level sampled from (or, without `sample`, the probabilities of) its softmax; for binary units,
    /// every item sampled from σ(b + W·h).
    func reconstruction(_ hidden: Tensor, like data: SparseMatrix, sample: Bool, using generator: inout SplitMix64)
        -> SparseMatrix
    {
        let k = levels.count
        var starts = [0]
        var columns: [Int32] = []
        var values: [Float] = []
        if binary {
            let logits = visibleScores(hidden)
            for row in 0..<data.rowCount {
                for column in 0..<columnCount {
                    let p = Activation.sigmoid(logits.scalars[row * columnCount + column])
                    if generator.nextUnitFloat() < p { columns.append(Int32(column)) }
                }
                starts.append(columns.count)
            }
            return SparseMatrix(
                rowCount: data.rowCount, columnCount: unitCount, rowStarts: starts, columns: columns,
                values: [Float](repeating: 1, count: columns.count))
        }
        // Every level of each rated item, in one sampled product h·Wᵀ.
        var patternStarts = [0]
        var pattern: [Int32] = []
        for row in 0..<data.rowCount {
            for position in data.rowStarts[row]..<data.rowStarts[row + 1] {
                let first = data.columns[position] / Int32(k) * Int32(k)
                pattern += (0..<Int32(k)).map { first + $0 }
            }
            patternStarts.append(pattern.count)
        }
        let entries = SparseMatrix(
            rowCount: data.rowCount, columnCount: unitCount, rowStarts: patternStarts, columns: pattern,
            values: [Float](repeating: 1, count: pattern.count))
        let logits = GradientRecording.disabled {
            Variable.sampledProduct(Variable(hidden), weight, at: entries).value.scalars
        }
        let bias = visibleBias.value.scalars
        for row in 0..<data.rowCount {
            var position = patternStarts[row]
            while position < patternStarts[row + 1] {
                let probabilities = RBMUnits.softmax(
                    (0..<k).map { logits[position + $0] + bias[Int(pattern[position + $0])] })
                if sample {
                    var u = generator.nextUnitFloat()
                    var level = k - 1
                    for (index, p) in probabilities.enumerated() {
                        if u < p {
                            level = index
                            break
                        }
                        u -= p
                    }
                    columns.append(pattern[position + level])
                    values.append(1)
                } else {
                    columns += pattern[position..<(position + k)]
                    values += probabilities
                }
                position += k
            }
            starts.append(columns.count)
        }
        return SparseMatrix(
            rowCount: data.rowCount, columnCount: unitCount, rowStarts: starts, columns: columns, values: values)
    }

    /// The visible units' scores given hidden probabilities (`RBMUnits.scores`) with the current weights.
    func visibleScores(_ hidden: Tensor, columns: [Int32]? = nil) -> Tensor {
        units.scores(hidden, weight: weight.value, bias: visibleBias.value, columns: columns)
    }
}

/// RBM-CF's visible units: item i at rating level k is unit i·K + k (binary units: unit i).
struct RBMUnits: Sendable {
    let levels: [Float]
    let binary: Bool
    /// Items (or users, for `variant=item`): what each training case's visible units are over.
    let columnCount: Int
    let levelIndex: [Float: Int32]

    init(levels: [Float], binary: Bool, columnCount: Int) {
        self.levels = levels
        self.binary = binary
        self.columnCount = columnCount
        levelIndex = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, Int32($0)) })
    }

    var count: Int { columnCount * levels.count }

    /// The unit of `item` rated `rating` (a rating between levels takes the lowest level; binary: the item).
    func unit(item: Int32, rating: Float) -> Int32 {
        item * Int32(levels.count) + (binary ? 0 : levelIndex[rating] ?? 0)
    }

    /// The one-hot visible vectors of `rows` of `ratings` (users' training ratings).
    func visible(_ rows: [Int], of ratings: InteractionMatrix) -> SparseMatrix {
        var starts = [0]
        var columns: [Int32] = []
        for row in rows {
            for (item, value) in zip(ratings.columns(inRow: row), ratings.values(inRow: row)) {
                columns.append(unit(item: item, rating: value))
            }
            starts.append(columns.count)
        }
        return SparseMatrix(
            rowCount: rows.count, columnCount: count, rowStarts: starts, columns: columns,
            values: [Float](repeating: 1, count: columns.count))
    }

    /// Per visible column (all, or `columns`): the expected rating of its softmax given hidden
    /// probabilities `hidden` `[rows, hidden]` (binary units: the logit of p(v = 1)), `[rows, columns]`;
    /// `weight` `[units, hidden]` and `bias` `[units]` are the machine's.
    func scores(_ hidden: Tensor, weight: Tensor, bias: Tensor, columns: [Int32]? = nil) -> Tensor {
        let k = levels.count
        let selected = columns ?? (0..<Int32(columnCount)).map { $0 }
        let units = selected.flatMap { column in (0..<Int32(k)).map { column * Int32(k) + $0 } }
        let biases = columns == nil ? bias : Tensor(shape: [units.count], scalars: units.map { bias.scalars[Int($0)] })
        let weights = columns == nil ? weight : weight.gathering(rows: units)
        let logits = hidden.matmul(weights, transposingOther: true) + biases
        guard !binary else { return logits }
        let rows = hidden.shape[0]
        let width = selected.count
        var scalars = [Float](repeating: 0, count: rows * width)
        for row in 0..<rows {
            for column in 0..<width {
                let offset = (row * width + column) * k
                let probabilities = Self.softmax(Array(logits.scalars[offset..<(offset + k)]))
                scalars[row * width + column] = zip(probabilities, levels).reduce(0) { $0 + $1.0 * $1.1 }
            }
        }
        return Tensor(shape: [rows, width], scalars: scalars)
    }

    static func softmax(_ logits: [Float]) -> [Float] {
        let top = logits.max() ?? 0
        let exps = logits.map { Foundation.exp($0 - top) }
        let total = exps.reduce(0, +)
        return exps.map { $0 / total }
    }
}
