import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// AutoRec (Sedhain, Menon, Sanner and Xie, WWW 2015): an autoencoder that reconstructs each item's
/// vector of ratings over users (`variant=item`, I-AutoRec) or each user's vector over items
/// (`variant=user`, U-AutoRec). h = sigmoid(r·V + μ), r̂ = h·W + b; only observed ratings count:
/// minimise Σ_observed (r − r̂)² + λ/2·(‖V‖² + ‖W‖²).
///
/// `optimizer=rprop` (the default) trains as the paper does, full batch: each epoch is one Rprop
/// step on the gradient of the whole objective, summed over batches of `batch_size` rows so that
/// memory stays bounded. `optimizer=adam` takes a step per batch of rows, whose loss is its squared
/// error over its observed ratings divided by their number, plus the penalty divided by the number
/// of training ratings (λ keeps the paper's meaning). With `validation` > 0 the number of epochs is
/// chosen on that fraction of the training ratings (RMSE, early stopping), then the model is trained
/// on all of them for that many.
///
/// The rating of user u for item i is read from the reconstruction of i's row (I-AutoRec) or u's row
/// (U-AutoRec), clipped to the training ratings' range. A row with no training ratings (an item nobody
/// rated in I-AutoRec, a user with no ratings in U-AutoRec) gets the global mean; a column with none
/// gets the decoder's value for it (its bias, mostly). Inputs are one batch of rows at a time, dense
/// over the other side; the whole matrix is never made dense. Seeded: a run is repeatable.
public struct AutoRec: TrainableRecommender, RatingPredictor {
    public static let name = "autorec"
    public static let summary = "AutoRec (Sedhain et al. 2015): item- or user-based autoencoder of observed ratings"
    public static let details =
        "rows of ratings encoded by a sigmoid layer and decoded linearly, observed entries only; L2; "
        + "full-batch Rprop or Adam; epochs chosen on validation"

    public struct Config: ModelConfig {
        public var variant = Variant.item
        public var hiddenSize = 500
        public var optimizer = OptimizerChoice.rprop
        // Defaults chosen on a validation split (a seeded random 10 % of ml-100k's u1.base), never on u1.test.
        /// The most epochs (full-batch Rprop steps, or passes over the rows with Adam).
        public var epochCount = 500
        /// Rows per batch: Rprop sums the batches' gradients into one step, so this only bounds memory.
        public var batchSize = 4096
        /// Rprop's initial step size, or Adam's step.
        public var learningRate: Float = 0.01
        /// λ of λ/2·(‖V‖² + ‖W‖²).
        public var regularization: Float = 200
        public var validation = 0.1
        public var patience = 20
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case variant, hiddenSize = "hidden", optimizer, epochCount = "epochs", batchSize = "batch_size"
            case learningRate = "learning_rate", regularization, validation, patience, seed
        }

        public static let settings: [ModelSetting] = [
            .choice("variant", Variant.self, "item (I-AutoRec: rows are items) or user (U-AutoRec)"),
            .integer("hidden", .atLeast(1), "hidden units"),
            .choice("optimizer", OptimizerChoice.self, "rprop (full batch, the paper's) or adam (a step per batch)"),
            .epochs("the most full-batch steps (rprop) or passes over the rows (adam)"),
            .batchSize("rows per batch: 4096 under rprop (which sums them into one step), 256 under adam"),
            .learningRate("Rprop's initial step size (0.01), or Adam's step (0.001)"),
            .regularization("λ of λ/2·(‖V‖² + ‖W‖²), the paper's scale"),
            .validation, .patience,
            .seed,
        ]

        public mutating func resolveDefaults(given: Set<String>) {
            if optimizer == .adam && !given.contains("learning_rate") { learningRate = 0.001 }
            if optimizer == .adam && !given.contains("batch_size") { batchSize = 256 }
        }
    }

    public enum Variant: String, Codable, Sendable, CaseIterable {
        case item
        case user
    }

    public enum OptimizerChoice: String, Codable, Sendable, CaseIterable {
        case rprop
        case adam
    }

    public let config: Config
    /// The trained parameters by name (`encoder.weight`, `decoder.bias`, …).
    public let parameters: [String: Tensor]
    /// Training ratings by row (items for I-AutoRec, users for U-AutoRec).
    let rows: InteractionMatrix
    /// Each row's hidden code, `[rows, hidden]`, computed once from `rows`.
    let codes: Tensor
    /// The decoder, `[hidden, columns]` and `[columns]`.
    let decoderWeight: Tensor, decoderBias: [Float]
    public let userCount: Int
    public let itemCount: Int
    public let globalMean: Float
    public let ratingRange: ClosedRange<Float>

    /// Trains (after choosing the epoch count on a validation part when `validation` > 0); the saved
    /// configuration's `epochs` is the count trained on all of `train`.
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        guard let ratings = train.ratings, !ratings.isEmpty else {
            throw ConfigError(model: Self.name, key: "data", "needs explicit ratings; the training data has none")
        }
        self = try EpochChoice(fraction: config.validation, patience: config.patience, target: .ratings).fit(
            config, epochs: \.epochCount, data: train, seed: config.seed, model: Self.name
        ) { data, config, validation in
            try Self.train(data, config: config, context: context, validation: validation)
        }.result
    }

    /// One training run of `config.epochCount` epochs, with early stopping on `validation` if given.
    static func train(_ train: Interactions, config: Config, context: TrainingContext, validation: ValidationHoldout?)
        throws -> (model: AutoRec, bestEpoch: Int?)
    {
        let ratings = train.ratings ?? []
        let (globalMean, range) = (ratings.reduce(0, +) / Float(max(1, ratings.count)), ratings.min()!...ratings.max()!)
        let rows = config.variant == .item ? InteractionMatrix.byItem(train) : InteractionMatrix.byUser(train)
        let network = AutoRecNetwork(columns: rows.columnCount, hidden: config.hiddenSize, seed: config.seed)
        let variables = network.parameters.map(\.variable)
        let fullBatch = config.optimizer == .rprop
        let optimizer: any Optimizer =
            fullBatch
            ? Rprop(variables, learningRate: config.learningRate) : Adam(variables, learningRate: config.learningRate)
        let active = (0..<rows.rowCount).filter { rows.count(inRow: $0) > 0 }
        let schedule = BatchSchedule(
            exampleCount: active.count, batchSize: config.batchSize, shuffle: !fullBatch, seed: config.seed)
        let observed = Float(rows.nonzeroCount)
        let penalty = config.regularization / 2 / observed
        var loop = TrainingLoop(epochCount: config.epochCount)
        loop.update = fullBatch ? .everyEpoch : .everyBatch
        loop.earlyStopping = validation?.earlyStopping(patience: config.patience)
        let model = { (parameters: [String: Tensor]) in
            AutoRec(
                config: config, parameters: parameters, rows: rows, userCount: train.userCount,
                itemCount: train.itemCount, globalMean: globalMean, ratingRange: range)
        }
        let summary = try loop.run(
            network, optimizer: optimizer, context: context,
            epoch: { epoch in
                EpochBatches(inputs: schedule.batches(epoch: epoch)) { batch in
                    AutoRec.sparseRows(batch.map { active[$0] }, of: rows)
                }
            },
            loss: { batch, _ in
                let error =
                    network.reconstruction(batch) - Variable(Tensor(shape: [batch.entryCount], scalars: batch.values))
                let weights = network.encoder.weight.squared().sum() + network.decoder.weight.squared().sum()
                // Full batch: each batch carries its share of the one objective (scaled by 1/observed).
                let share = fullBatch ? Float(batch.rowCount) / Float(active.count) : 1
                let scale = fullBatch ? 1 / observed : 1 / Float(max(1, batch.entryCount))
                return error.squared().sum() * scale + weights * (penalty * share)
            },
            validate: validation.map { validation in
                { _ in validation.rmse(model(network.namedValues).predict) }
            })
        return (model(network.namedValues), summary.bestEpoch)
    }

    init(
        config: Config, parameters: [String: Tensor], rows: InteractionMatrix, userCount: Int, itemCount: Int,
        globalMean: Float, ratingRange: ClosedRange<Float>
    ) {
        self.config = config
        self.parameters = parameters
        self.rows = rows
        self.userCount = userCount
        self.itemCount = itemCount
        self.globalMean = globalMean
        self.ratingRange = ratingRange
        // Every row's code, in batches (the decoder then needs one dot product per prediction).
        let network = AutoRecNetwork(
            columns: rows.columnCount, hidden: config.hiddenSize, seed: config.seed, restoring: parameters)
        var codes: [Float] = []
        codes.reserveCapacity(rows.rowCount * config.hiddenSize)
        var start = 0
        while start < rows.rowCount {
            let batch = Array(start..<min(rows.rowCount, start + 256))
            codes += GradientRecording.disabled { network.encode(AutoRec.sparseRows(batch, of: rows)).value.scalars }
            start += batch.count
        }
        self.codes = Tensor(shape: [rows.rowCount, config.hiddenSize], scalars: codes)
        decoderWeight = parameters["decoder.weight"]!
        decoderBias = parameters["decoder.bias"]!.scalars
    }

    public func save(into weights: inout ModelWeights) {
        weights.store(parameters: parameters)
        weights.store(rows, as: "ratings")
        weights.store([globalMean, ratingRange.lowerBound, ratingRange.upperBound], as: "rating_statistics")
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        let (rowCount, columnCount) = config.variant == .item ? (itemCount, userCount) : (userCount, itemCount)
        let network = AutoRecNetwork(columns: columnCount, hidden: config.hiddenSize, seed: config.seed)
        let shapes = network.namedShapes
        let statistics = try weights.vector("rating_statistics", count: 3)
        self.init(
            config: config, parameters: try weights.parameters(shapes: shapes),
            rows: try weights.matrix("ratings", rows: rowCount, columns: columnCount), userCount: userCount,
            itemCount: itemCount, globalMean: statistics[0], ratingRange: statistics[1]...statistics[2])
    }

    /// Rows of the matrix as a sparse batch (their observed ratings).
    static func sparseRows(_ indices: [Int], of matrix: InteractionMatrix) -> SparseMatrix {
        var starts = [0]
        var columns: [Int32] = []
        var values: [Float] = []
        for row in indices {
            columns += matrix.columns(inRow: row)
            values += matrix.values(inRow: row)
            starts.append(columns.count)
        }
        return SparseMatrix(
            rowCount: indices.count, columnCount: matrix.columnCount, rowStarts: starts, columns: columns,
            values: values)
    }

    public func predict(user: Int32, item: Int32) -> Float {
        let (row, column) = config.variant == .item ? (Int(item), Int(user)) : (Int(user), Int(item))
        guard known(row: row, column: column) else { return globalMean }
        let hidden = config.hiddenSize
        var estimate = decoderBias[column]
        codes.scalars.withUnsafeBufferPointer { code in
            decoderWeight.scalars.withUnsafeBufferPointer { weight in
                for h in 0..<hidden { estimate += code[row * hidden + h] * weight[h * rows.columnCount + column] }
            }
        }
        return clipped(estimate)
    }

    /// Whether the pair is inside the model and its row had training ratings.
    func known(row: Int, column: Int) -> Bool {
        row >= 0 && row < rows.rowCount && column >= 0 && column < rows.columnCount && rows.count(inRow: row) > 0
    }

    func clipped(_ value: Float) -> Float { min(max(value, ratingRange.lowerBound), ratingRange.upperBound) }

    /// Predicted ratings of every item (top-N ranks by predicted rating): one product of the codes and
    /// the decoder for the batch, the same values `predict` gives.
    public func scores(forUsers users: [Int32]) -> Tensor {
        let hidden = config.hiddenSize
        let columns = rows.columnCount
        let raw: Tensor // [users, items]
        switch config.variant {
        case .user:
            // The users' codes against every item's decoder column.
            var userCodes = [Float](repeating: 0, count: users.count * hidden)
            for (slot, user) in users.enumerated() where Int(user) < rows.rowCount {
                for h in 0..<hidden { userCodes[slot * hidden + h] = codes.scalars[Int(user) * hidden + h] }
            }
            raw = Tensor(shape: [users.count, hidden], scalars: userCodes).matmul(decoderWeight)
        case .item:
            // Every item's code against the users' decoder columns.
            var userColumns = [Float](repeating: 0, count: users.count * hidden)
            for (slot, user) in users.enumerated() where Int(user) < columns {
                for h in 0..<hidden { userColumns[slot * hidden + h] = decoderWeight.scalars[h * columns + Int(user)] }
            }
            raw = Tensor(shape: [users.count, hidden], scalars: userColumns).matmul(codes, transposingOther: true)
        }
        var scalars = raw.scalars
        for (slot, user) in users.enumerated() {
            for item in 0..<itemCount {
                let (row, column) = config.variant == .item ? (item, Int(user)) : (Int(user), item)
                let index = slot * itemCount + item
                scalars[index] =
                    known(row: row, column: column) ? clipped(scalars[index] + decoderBias[column]) : globalMean
            }
        }
        return Tensor(shape: [users.count, itemCount], scalars: scalars)
    }

    /// For someone known only by a history: U-AutoRec encodes the history (rated at the global mean);
    /// I-AutoRec, whose rows are items, ranks by each item's mean reconstruction.
    public func scores(forHistory history: [Int32]) -> [Float] {
        let network = AutoRecNetwork(
            columns: rows.columnCount, hidden: config.hiddenSize, seed: config.seed, restoring: parameters)
        switch config.variant {
        case .user:
            var values = [Float](repeating: 0, count: itemCount)
            for item in history where item >= 0 && Int(item) < itemCount { values[Int(item)] = globalMean }
            return GradientRecording.disabled {
                network(Variable(Tensor(shape: [1, itemCount], scalars: values))).value.scalars
            }
        case .item:
            let weight = decoderWeight.scalars
            let bias = decoderBias
            let columns = rows.columnCount
            let meanWeight = (0..<config.hiddenSize).map { h in
                (0..<columns).reduce(Float(0)) { $0 + weight[h * columns + $1] } / Float(max(1, columns))
            }
            let meanBias = bias.reduce(0, +) / Float(max(1, columns))
            return (0..<itemCount).map { item in
                guard rows.count(inRow: item) > 0 else { return globalMean }
                return (0..<config.hiddenSize).reduce(meanBias) {
                    $0 + codes.scalars[item * config.hiddenSize + $1] * meanWeight[$1]
                }
            }
        }
    }
}

/// columns → hidden (sigmoid) → columns (identity).
final class AutoRecNetwork: Module {
    let encoder: Linear
    let decoder: Linear

    init(columns: Int, hidden: Int, seed: UInt64, restoring trained: [String: Tensor]? = nil) {
        let start: Initializer = trained == nil ? .lecunUniform : .zeros
        encoder = Linear(columns, hidden, initializer: start, seed: seed &+ 1)
        decoder = Linear(hidden, columns, initializer: start, seed: seed &+ 2)
        if let trained { load(trained) }
    }

    var children: [(name: String, module: any Module)] { [("encoder", encoder), ("decoder", decoder)] }

    func encode(_ x: Variable) -> Variable { encoder(x).sigmoid() }

    /// The code of sparse rows: sigmoid(x·V + μ) over their observed entries only.
    func encode(_ x: SparseMatrix) -> Variable { (Variable.sparseProduct(x, encoder.weight) + encoder.bias!).sigmoid() }

    /// The reconstruction of sparse rows at their observed entries only, `[entries]` in their order:
    /// O(entries · hidden), where the dense product is O(rows · columns · hidden).
    func reconstruction(_ x: SparseMatrix) -> Variable {
        let columns = x.columnCount
        let bias = decoder.bias!.reshaped([columns, 1]).gathering(rows: x.columns).reshaped([x.entryCount])
        return Variable.sampledProduct(encode(x), decoder.weight.permuted([1, 0]), at: x) + bias
    }

    func callAsFunction(_ x: Variable) -> Variable { decoder(encode(x)) }
}
