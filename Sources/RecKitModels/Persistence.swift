import RecKitData
import RecKitTensor

/// A saved model that cannot be restored: a missing or malformed tensor, or sizes that disagree.
public struct RestoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Named weights of a model, with typed lookups that check shapes.
public struct ModelWeights: Sendable {
    public var entries: [String: SafeTensors.Entry]

    public init(_ entries: [String: SafeTensors.Entry] = [:]) { self.entries = entries }

    public func tensor(_ name: String, shape: [Int]) throws(RestoreError) -> Tensor {
        guard case .float32(let tensor)? = entries[name] else { throw RestoreError("missing float tensor '\(name)'") }
        guard tensor.shape == shape else { throw RestoreError("tensor '\(name)' has shape \(tensor.shape), expected \(shape)") }
        return tensor
    }

    public func matrix(_ name: String, rows: Int, columns: Int) throws(RestoreError) -> InteractionMatrix {
        guard case .int64(let offsets, _)? = entries[name + ".offsets"], case .int32(let indices, _)? = entries[name + ".columns"],
            case .float32(let values)? = entries[name + ".values"]
        else { throw RestoreError("missing sparse matrix '\(name)'") }
        guard values.scalars.allSatisfy(\.isFinite) else { throw RestoreError("sparse matrix '\(name)' holds non-finite values") }
        do {
            return try InteractionMatrix(
                rowCount: rows, columnCount: columns, rowOffsets: offsets.map { Int($0) }, columnIndices: indices, values: values.scalars)
        } catch {
            throw RestoreError("sparse matrix '\(name)': \(error.description)")
        }
    }

    /// A dot-product model's two factor tables.
    mutating func store(_ factors: FactorModel) {
        entries["user_factors"] = .float32(factors.userFactors)
        entries["item_factors"] = .float32(factors.itemFactors)
    }

    func factorModel(name: String, userCount: Int, itemCount: Int, width: Int) throws(RestoreError) -> FactorModel {
        FactorModel(
            name: name, userFactors: try tensor("user_factors", shape: [userCount, width]),
            itemFactors: try tensor("item_factors", shape: [itemCount, width]))
    }

    /// The parts every explicit-rating factor model shares: μ, the rating range, biases and factors.
    mutating func storeRatingModel(
        mean: Float, range: ClosedRange<Float>, userBiases: [Float], itemBiases: [Float], userFactors: Tensor, itemFactors: Tensor
    ) {
        entries["global"] = .float32(Tensor(shape: [3], scalars: [mean, range.lowerBound, range.upperBound]))
        entries["user_biases"] = .float32(Tensor(shape: [userBiases.count], scalars: userBiases))
        entries["item_biases"] = .float32(Tensor(shape: [itemBiases.count], scalars: itemBiases))
        store(FactorModel(userFactors: userFactors, itemFactors: itemFactors))
    }

    func ratingModel(userCount: Int, itemCount: Int, factorCount: Int) throws(RestoreError)
        -> (mean: Float, range: ClosedRange<Float>, userBiases: [Float], itemBiases: [Float], userFactors: Tensor, itemFactors: Tensor)
    {
        let global = try tensor("global", shape: [3]).scalars
        guard global[1] <= global[2] else { throw RestoreError("the stored rating range \(global[1])...\(global[2]) is empty") }
        return (
            global[0], global[1]...global[2], try tensor("user_biases", shape: [userCount]).scalars,
            try tensor("item_biases", shape: [itemCount]).scalars, try tensor("user_factors", shape: [userCount, factorCount]),
            try tensor("item_factors", shape: [itemCount, factorCount])
        )
    }

    /// A neural model's named parameter tensors.
    mutating func store(parameters: [String: Tensor]) {
        for (name, tensor) in parameters { entries[name] = .float32(tensor) }
    }

    /// The parameter tensors a network of these shapes needs, each checked.
    func parameters(shapes: [String: [Int]]) throws(RestoreError) -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (name, shape) in shapes { result[name] = try tensor(name, shape: shape) }
        return result
    }

    public mutating func store(_ matrix: InteractionMatrix, as name: String) {
        entries[name + ".offsets"] = .int64(matrix.rowOffsets.map { Int64($0) }, shape: [matrix.rowOffsets.count])
        entries[name + ".columns"] = .int32(matrix.columnIndices, shape: [matrix.nonzeroCount])
        entries[name + ".values"] = .float32(Tensor(shape: [matrix.nonzeroCount], scalars: matrix.values))
    }
}

extension ModelKind {
    /// The weights that restore `model` (trained as this kind) exactly.
    public func weights(of model: any Recommender) -> ModelWeights {
        var weights = ModelWeights()
        switch model {
        case let model as Popularity:
            weights.entries["item_scores"] = .float32(Tensor(shape: [model.itemCount], scalars: model.itemScores))
        case let model as ImplicitALS: weights.store(model.factors)
        case let model as BPR: weights.store(model.factors)
        case let model as LogisticMF: weights.store(model.factors)
        case let model as ItemKNN:
            weights.store(model.neighbours, as: "neighbours")
            weights.store(model.history, as: "history")
        case let model as UserKNN:
            weights.store(model.neighbours, as: "neighbours")
            weights.store(model.history, as: "history")
        case let model as EASE:
            weights.entries["weights"] = .float32(model.weights)
            weights.store(model.history, as: "history")
        case let model as BiasedMF:
            weights.storeRatingModel(
                mean: model.globalMean, range: model.ratingRange, userBiases: model.userBiases, itemBiases: model.itemBiases,
                userFactors: model.userFactors, itemFactors: model.itemFactors)
            weights.entries["known_users"] = .int32(model.knownUsers.map { $0 ? 1 : 0 }, shape: [model.userCount])
            weights.entries["known_items"] = .int32(model.knownItems.map { $0 ? 1 : 0 }, shape: [model.itemCount])
            if let temporal = model.temporal {
                weights.entries["temporal_time"] = .int64([temporal.start, temporal.binSeconds], shape: [2])
                weights.entries["temporal_item_bins"] = .float32(
                    Tensor(shape: [model.itemCount, temporal.binCount], scalars: temporal.itemBinBiases))
                weights.entries["temporal_user_drift"] = .float32(Tensor(shape: [model.userCount], scalars: temporal.userDrift))
                weights.entries["temporal_user_mean_day"] = .float32(Tensor(shape: [model.userCount], scalars: temporal.userMeanDay))
            }
        case let model as SVDPlusPlus:
            weights.storeRatingModel(
                mean: model.globalMean, range: model.ratingRange, userBiases: model.userBiases, itemBiases: model.itemBiases,
                userFactors: model.userFactors, itemFactors: model.itemFactors)
            weights.entries["history_factors"] = .float32(model.historyFactors)
            weights.store(model.history, as: "history")
        case let model as NeuralCF:
            weights.store(parameters: model.parameters)
        case let model as MultVAE:
            weights.store(parameters: model.parameters)
            weights.store(model.history, as: "history")
        default:
            break     // random: the settings (seed) are all there is
        }
        return weights
    }

    /// Rebuilds a model of this kind from its settings and weights.
    /// - Throws: `ConfigError` for bad settings, `RestoreError` for missing or mis-shaped weights.
    public func restore(settings: [String: String], weights: ModelWeights, userCount: Int, itemCount: Int) throws -> any Recommender {
        switch self {
        case .popularity:
            let scores = try weights.tensor("item_scores", shape: [itemCount]).scalars
            return Popularity(restoring: try popularityConfig(settings), itemScores: scores, userCount: userCount)
        case .random:
            return RandomRecommender(userCount: userCount, itemCount: itemCount, seed: try SettingReader(model: rawValue, settings: settings).seed() ?? 0)
        case .ials:
            let config = try alsConfig(settings)
            return ImplicitALS(restoring: config, factors: try weights.factorModel(
                name: rawValue, userCount: userCount, itemCount: itemCount, width: config.factorCount))
        case .bpr:      // + the item-bias column
            let config = try bprConfig(settings)
            return BPR(restoring: config, factors: try weights.factorModel(
                name: rawValue, userCount: userCount, itemCount: itemCount, width: config.factorCount + 1))
        case .ncf:
            let config = try ncfConfig(settings)
            let parameters = try weights.parameters(shapes: NeuralCF.parameterShapes(config, userCount: userCount, itemCount: itemCount))
            return NeuralCF(restoring: config, parameters: parameters, userCount: userCount, itemCount: itemCount)
        case .multvae:
            let config = try vaeConfig(settings)
            return MultVAE(
                restoring: config, parameters: try weights.parameters(shapes: MultVAE.parameterShapes(config, itemCount: itemCount)),
                history: try weights.matrix("history", rows: userCount, columns: itemCount))
        case .lmf:      // + the two bias columns
            let config = try lmfConfig(settings)
            return LogisticMF(restoring: config, factors: try weights.factorModel(
                name: rawValue, userCount: userCount, itemCount: itemCount, width: config.factorCount + 2))
        case .itemknn:
            return ItemKNN(
                restoring: try knnConfig(settings), neighbours: try weights.matrix("neighbours", rows: itemCount, columns: itemCount),
                history: try weights.matrix("history", rows: userCount, columns: itemCount))
        case .userknn:
            return UserKNN(
                restoring: try userKNNConfig(settings), neighbours: try weights.matrix("neighbours", rows: userCount, columns: userCount),
                history: try weights.matrix("history", rows: userCount, columns: itemCount))
        case .ease:
            return EASE(
                restoring: try easeConfig(settings), weights: try weights.tensor("weights", shape: [itemCount, itemCount]),
                history: try weights.matrix("history", rows: userCount, columns: itemCount))
        case .svdpp:
            let config = try svdppConfig(settings)
            let base = try weights.ratingModel(userCount: userCount, itemCount: itemCount, factorCount: config.factorCount)
            return SVDPlusPlus(
                restoring: config, globalMean: base.mean, ratingRange: base.range, userBiases: base.userBiases, itemBiases: base.itemBiases,
                userFactors: base.userFactors, itemFactors: base.itemFactors,
                historyFactors: try weights.tensor("history_factors", shape: [itemCount, config.factorCount]),
                history: try weights.matrix("history", rows: userCount, columns: itemCount))
        case .svd:
            let config = try mfConfig(settings)
            let base = try weights.ratingModel(userCount: userCount, itemCount: itemCount, factorCount: config.factorCount)
            guard case .int32(let knownUsers, let userShape)? = weights.entries["known_users"], userShape == [userCount],
                case .int32(let knownItems, let itemShape)? = weights.entries["known_items"], itemShape == [itemCount]
            else { throw RestoreError("svd: missing or mis-shaped known_users or known_items") }
            var temporal: TemporalBiases?
            if config.temporal {
                guard case .int64(let time, let timeShape)? = weights.entries["temporal_time"], timeShape == [2], time[1] > 0 else {
                    throw RestoreError("svd: missing or malformed temporal_time")
                }
                temporal = TemporalBiases(
                    restoring: time[0], binSeconds: time[1], exponent: config.driftExponent,
                    itemBinBiases: try weights.tensor("temporal_item_bins", shape: [itemCount, config.timeBinCount]).scalars,
                    userDrift: try weights.tensor("temporal_user_drift", shape: [userCount]).scalars,
                    userMeanDay: try weights.tensor("temporal_user_mean_day", shape: [userCount]).scalars, binCount: config.timeBinCount)
            }
            return BiasedMF(
                restoring: config, globalMean: base.mean, ratingRange: base.range, userBiases: base.userBiases, itemBiases: base.itemBiases,
                userFactors: base.userFactors, itemFactors: base.itemFactors, temporal: temporal,
                knownUsers: knownUsers.map { $0 != 0 }, knownItems: knownItems.map { $0 != 0 })
        }
    }
}

// Restoring initialisers: the trained state, already checked by `ModelKind.restore`.
extension Popularity {
    init(restoring config: Config, itemScores: [Float], userCount: Int) {
        self.config = config
        self.userCount = userCount
        self.itemCount = itemScores.count
        self.itemScores = itemScores
    }
}

extension RandomRecommender {
    init(userCount: Int, itemCount: Int, seed: UInt64) {
        self.seed = seed
        self.userCount = userCount
        self.itemCount = itemCount
    }
}

extension ImplicitALS {
    init(restoring config: Config, factors: FactorModel) {
        self.config = config
        self.factors = factors
    }
}

extension BPR {
    init(restoring config: Config, factors: FactorModel) {
        self.config = config
        self.factors = factors
    }
}

extension ItemKNN {
    init(restoring config: Config, neighbours: InteractionMatrix, history: InteractionMatrix) {
        self.config = config
        self.userCount = history.rowCount
        self.itemCount = neighbours.rowCount
        self.neighbours = neighbours
        self.history = history
    }
}

extension EASE {
    init(restoring config: Config, weights: Tensor, history: InteractionMatrix) {
        self.config = config
        self.userCount = history.rowCount
        self.itemCount = weights.shape[0]
        self.weights = weights
        self.history = history
    }
}

extension BiasedMF {
    init(
        restoring config: Config, globalMean: Float, ratingRange: ClosedRange<Float>, userBiases: [Float], itemBiases: [Float],
        userFactors: Tensor, itemFactors: Tensor, temporal: TemporalBiases?, knownUsers: [Bool], knownItems: [Bool]
    ) {
        self.config = config
        self.globalMean = globalMean
        self.ratingRange = ratingRange
        self.userBiases = userBiases
        self.itemBiases = itemBiases
        self.userFactors = userFactors
        self.itemFactors = itemFactors
        self.temporal = temporal
        self.knownUsers = knownUsers
        self.knownItems = knownItems
    }
}

extension SVDPlusPlus {
    init(
        restoring config: Config, globalMean: Float, ratingRange: ClosedRange<Float>, userBiases: [Float], itemBiases: [Float],
        userFactors: Tensor, itemFactors: Tensor, historyFactors: Tensor, history: InteractionMatrix
    ) {
        self.config = config
        self.globalMean = globalMean
        self.ratingRange = ratingRange
        self.userBiases = userBiases
        self.itemBiases = itemBiases
        self.userFactors = userFactors
        self.itemFactors = itemFactors
        self.historyFactors = historyFactors
        self.history = history
    }
}

extension LogisticMF {
    init(restoring config: Config, factors: FactorModel) {
        self.config = config
        self.factors = factors
    }
}
