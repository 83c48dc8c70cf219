import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// What a feature model learns from: a classifier of `label = rating ≥ positive_threshold` (or of
/// observed pairs against sampled unobserved ones when the data has no ratings), or a regression
/// of the rating.
public enum FeatureObjective: String, Codable, Sendable, CaseIterable {
    case classification
    case regression
}

/// The settings every feature model (`fm`, `deepfm`, `widedeep`) shares, read by the one trainer.
public protocol FeatureModelConfig: ModelConfig {
    var objective: FeatureObjective { get }
    var positiveThreshold: Float { get }
    var negativeCount: Int { get }
    var epochCount: Int { get }
    var batchSize: Int { get }
    var learningRate: Float { get }
    /// L2 weight decay (Adam's).
    var regularization: Float { get }
    /// The probability that a training example shows its user (and, drawn apart, its item) as a new
    /// one: ID, history and rating aggregates hidden, so the model learns to score from attributes
    /// alone (DropoutNet, Volkovs et al. 2017) — what cold start from features needs.
    var coldDropout: Float { get }
    var seed: UInt64 { get }
}

extension FeatureModelConfig {
    /// Adam at this configuration's step and weight decay, over every parameter of `network`.
    func adam(for network: some Module) -> Adam {
        Adam(network.parameters.map(\.variable), learningRate: learningRate, weightDecay: regularization)
    }
}

extension ModelSetting {
    /// The settings of `FeatureModelConfig`, in the order models list them.
    static let featureObjective = ModelSetting.choice(
        "objective", FeatureObjective.self,
        "classification: BCE on rating ≥ positive_threshold (or observed vs sampled pairs); "
            + "regression: MSE on ratings")
    static let positiveThreshold = ModelSetting.number(
        "positive_threshold", .any, "classification on ratings: the lowest rating labelled positive")
    static let coldDropout = ModelSetting.number(
        "cold_dropout", .from(0, below: 1),
        "probability that a training example's user, and apart its item, is shown as new (ID, history and "
            + "rating aggregates hidden): learns cold start from features (DropoutNet)")
    static let featureNegatives = ModelSetting.integer(
        "negatives", .atLeast(0),
        "sampled unobserved items per observed pair, labelled 0 (default: 0 with ratings, 4 without)")
}

/// A model that scores (user, item) pairs from feature columns and can score a user known only by
/// features (cold start).
public protocol FeatureAwareRecommender: Recommender {
    /// The fitted feature columns (what a request's `key=value` features go through).
    var features: FeatureState { get }
    /// Scores of every item for a user known only by raw feature values (`age=25`, …).
    func scores(forUserValues values: [String: RawFeatureValue]) -> [Float]
}

extension FeatureAwareRecommender {
    /// Scores for `key=value` text (`--user-features age=25,gender=F`).
    public func scores(forUserFeatures text: [String: String]) -> [Float] {
        scores(forUserValues: RawFeatureTable.values(fromText: text))
    }
}

/// A feature model's fitted columns and its users and items encoded through them; saved with the
/// model (`features.json` and the encoded tables), so a restored model needs no side data.
public struct FeatureState: Sendable {
    public let transform: FeatureTransform
    public let users: EncodedEntities
    public let items: EncodedEntities
    /// While training: every user and item followed by itself as a new one (`encode(asNew:)`), the
    /// tables `cold_dropout` draws from. Not saved.
    let trainingTables: (users: EncodedEntities, items: EncodedEntities)?

    /// Fits the side data's chosen feature set (or the data's default) on `train`, plus any
    /// `extraUserColumns` the model adds (MF + DNN's pooled history).
    /// - Throws: `ConfigError` (key `features`) for a spec the data cannot feed.
    public init(
        fitting train: Interactions, side: SideData, model: String, extraUserColumns: [FeatureColumnSpec] = []
    ) throws(ConfigError) {
        let userTable = RawFeatureTable.users(train, side: side)
        let itemTable = RawFeatureTable.items(train, side: side)
        var spec = side.features ?? FeatureSpec.default(users: userTable, items: itemTable)
        spec.user += extraUserColumns.filter { extra in !spec.user.contains { $0.name == extra.name } }
        do {
            transform = try FeatureTransform(fitting: spec, train: train, users: userTable, items: itemTable)
        } catch {
            throw ConfigError(model: model, key: "features", error.description)
        }
        users = transform.encode(userTable, side: .user)
        items = transform.encode(itemTable, side: .item)
        trainingTables = (
            users.appending(transform.encode(userTable, side: .user, asNew: true)),
            items.appending(transform.encode(itemTable, side: .item, asNew: true))
        )
    }

    public func save(into weights: inout ModelWeights) {
        weights.store(document: transform, as: "features.json")
        for (name, table) in [("feature_users", users), ("feature_items", items)] {
            weights.entries[name + ".offsets"] = .int64(table.offsets.map { Int64($0) }, shape: [table.offsets.count])
            weights.entries[name + ".indices"] = .int32(table.indices, shape: [table.indices.count])
            weights.entries[name + ".weights"] = .float32(
                Tensor(shape: [table.weights.count], scalars: table.weights))
        }
    }

    public init(restoring weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        let transform = try weights.document(FeatureTransform.self, "features.json")
        func table(_ name: String, side: FeatureSide, count: Int) throws(RestoreError) -> EncodedEntities {
            guard case .int64(let offsets, _)? = weights.entries[name + ".offsets"],
                case .int32(let indices, _)? = weights.entries[name + ".indices"],
                case .float32(let values)? = weights.entries[name + ".weights"],
                let table = EncodedEntities(
                    fields: transform.fields(of: side), count: count, offsets: offsets.map { Int($0) },
                    indices: indices, weights: values.scalars, featureCount: transform.featureCount)
            else { throw RestoreError("missing or malformed encoded \(side.rawValue) features '\(name)'") }
            return table
        }
        self.transform = transform
        users = try table("feature_users", side: .user, count: userCount)
        items = try table("feature_items", side: .item, count: itemCount)
        trainingTables = nil
    }

    /// The examples `(users[i], items[i], times[i])` as a feature batch.
    public func batch(users userRows: [Int32], items itemRows: [Int32], times: [Int64?]? = nil) -> FeatureBatch {
        transform.batch(users: users, userRows: userRows, items: items, itemRows: itemRows, times: times)
    }

    /// One user known only by raw values, against every item (context: now).
    public func batch(userValues: [String: RawFeatureValue]) -> FeatureBatch {
        let user = transform.encode(values: userValues, side: .user)
        return transform.batch(
            users: user, userRows: [Int32](repeating: 0, count: items.count), items: items,
            itemRows: (0..<items.count).map(Int32.init))
    }

    /// Raw values that describe someone known by a history: those items (`history`) and their count.
    static func values(ofHistory history: [Int32]) -> [String: RawFeatureValue] {
        [
            "history": .strings(history.map { String($0) }),
            "rating_count": .number(history.isEmpty ? nil : Float(history.count)),
        ]
    }
}

/// A network over feature batches: the logit (or centred rating) of each example, `[examples, 1]`.
protocol FeatureNetwork: Module {
    func callAsFunction(_ batch: FeatureBatch) -> Variable
    /// What the training forward passes since the last call add to the loss (a prior's KL term),
    /// handed over once; nil for networks without one.
    func takePenalty() -> Variable?
}

extension FeatureNetwork {
    func takePenalty() -> Variable? { nil }
}

extension Variable {
    /// `self` plus `penalty` when there is one.
    func adding(_ penalty: Variable?) -> Variable { penalty.map { self + $0 } ?? self }
}

/// Training examples of a feature model and the one way they are trained, on the RecKitNN loop. An
/// observed pair sees its user's and item's `rating_mean` out of fold, without its own rating.
struct FeatureTraining {
    var users: [Int32]
    var items: [Int32]
    var times: [Int64?]?
    var targets: [Float]
    /// Regression: the training ratings' mean, added to the network's output; classification: 0.
    var offset: Float
    var range: ClosedRange<Float>?
    /// Observed pairs per user (for drawing negatives), when negatives are drawn.
    var seen: InteractionMatrix?
    var negativeCount: Int
    /// Each observed pair's user and item mean rating out of fold (nil without ratings).
    var means: [RatingMeans]?

    /// The training part as examples for `config`'s objective.
    /// - Throws: `ConfigError` for regression without ratings.
    init(_ train: Interactions, config: some FeatureModelConfig, model: String) throws(ConfigError) {
        users = train.users
        items = train.items
        times = train.timestamps?.map { Optional($0) }
        negativeCount = config.negativeCount
        means = RawFeatureTable.outOfFoldMeans(train)
        switch config.objective {
        case .regression:
            guard let ratings = train.ratings, !ratings.isEmpty else {
                throw ConfigError(model: model, key: "objective", "regression needs ratings; these data have none")
            }
            let mean = ratings.reduce(0, +) / Float(ratings.count)
            offset = mean
            targets = ratings.map { $0 - mean }
            range = ratings.min()!...ratings.max()!
            if negativeCount > 0 {
                throw ConfigError(model: model, key: "negatives", "applies to classification, not regression")
            }
        case .classification:
            offset = 0
            range = nil
            if let ratings = train.ratings {
                let threshold = config.positiveThreshold
                targets = ratings.map { $0 >= threshold ? 1 : 0 }
            } else {
                targets = [Float](repeating: 1, count: train.count)
                if negativeCount == 0 { negativeCount = 4 }
            }
        }
        seen = negativeCount > 0 ? InteractionMatrix.byUser(train.deduplicated(.max)) : nil
    }

    /// Trains `network` with `optimizer` for the config's epochs: each epoch the observed examples
    /// and freshly drawn negatives, shuffled into batches (seeded).
    func run(
        _ network: some FeatureNetwork, optimizer: any Optimizer, state: FeatureState, config: some FeatureModelConfig,
        context: TrainingContext
    ) throws(FitError) {
        let schedule = BatchSchedule(
            exampleCount: users.count * (1 + negativeCount), batchSize: config.batchSize, seed: config.seed)
        var generator = SplitMix64(seed: config.seed &+ 0x5EED)
        let sampler = seen.map { NegativeSampler(itemCount: $0.columnCount) }
        let tables = state.trainingTables!
        let (userCount, itemCount) = (state.users.count, state.items.count)
        let dropout = config.coldDropout
        let classification = config.objective == .classification
        var loop = TrainingLoop(epochCount: config.epochCount)
        try loop.run(
            network, optimizer: optimizer, context: context,
            epoch: { epoch in
                var exampleUsers = users
                var exampleItems = items
                var exampleTimes = times
                var labels = targets
                var exampleMeans: [RatingMeans?]? = means
                if let seen, let sampler {
                    for pair in users.indices {
                        let user = users[pair]
                        for _ in 0..<negativeCount {
                            exampleUsers.append(user)
                            exampleItems.append(
                                sampler.sample(
                                    excluding: { seen.contains(row: Int(user), column: $0) }, maxRedraws: 50,
                                    using: &generator))
                            exampleTimes?.append(times?[pair] ?? nil)
                            exampleMeans?.append(nil)
                            labels.append(0)
                        }
                    }
                }
                if dropout > 0 {
                    // Row `count + r` of the training tables is entity r as a new one, without its means.
                    if exampleMeans == nil { exampleMeans = [RatingMeans?](repeating: nil, count: exampleUsers.count) }
                    for example in exampleUsers.indices {
                        if generator.nextUnitFloat() < dropout {
                            exampleUsers[example] += Int32(userCount)
                            exampleMeans![example] = exampleMeans![example].map {
                                RatingMeans(user: nil, item: $0.item)
                            }
                        }
                        if generator.nextUnitFloat() < dropout {
                            exampleItems[example] += Int32(itemCount)
                            exampleMeans![example] = exampleMeans![example].map {
                                RatingMeans(user: $0.user, item: nil)
                            }
                        }
                    }
                }
                let (batchUsers, batchItems, batchTimes, batchMeans, batchLabels) = (
                    exampleUsers, exampleItems, exampleTimes, exampleMeans, labels
                )
                return EpochBatches(inputs: schedule.batches(epoch: epoch)) { rows in
                    LabeledFeatures(
                        features: state.transform.batch(
                            users: tables.users, userRows: rows.map { batchUsers[$0] }, items: tables.items,
                            itemRows: rows.map { batchItems[$0] },
                            times: batchTimes.map { times in rows.map { times[$0] } },
                            means: batchMeans.map { means in rows.map { means[$0] } }),
                        labels: Tensor(shape: [rows.count, 1], scalars: rows.map { batchLabels[$0] }))
                }
            },
            loss: { batch, _ in
                let output = network(batch.features)
                let loss =
                    classification
                    ? Loss.binaryCrossEntropy(logits: output, targets: batch.labels)
                    : Loss.meanSquaredError(output, batch.labels)
                return loss.adding(network.takePenalty())
            })
    }
}

/// A ranking loss over positive scores `[n, 1]` and their sampled negatives' `[n, samples]`.
struct FeatureRanking {
    var samples: Int
    var loss: (_ positive: Variable, _ negative: Variable) -> Variable
}

extension FeatureTraining {
    /// Trains `network` on a ranking loss: each epoch every positive pair (rating ≥ the threshold,
    /// or every pair without ratings) against `ranking.samples` unobserved items of the same user,
    /// freshly drawn (seeded); cold dropout hides a user for the positive and its negatives alike.
    func runRanking(
        _ network: some FeatureNetwork, optimizer: any Optimizer, state: FeatureState, config: some FeatureModelConfig,
        ranking: FeatureRanking, context: TrainingContext
    ) throws(FitError) {
        let positives = users.indices.filter { targets[$0] == 1 }
        let samples = ranking.samples
        let schedule = BatchSchedule(exampleCount: positives.count, batchSize: config.batchSize, seed: config.seed)
        var generator = SplitMix64(seed: config.seed &+ 0x5EED)
        guard let seen else { preconditionFailure("runRanking: the training pairs were made without negatives") }
        let sampler = NegativeSampler(itemCount: state.items.count)
        let tables = state.trainingTables!
        let (userCount, itemCount) = (state.users.count, state.items.count)
        let dropout = config.coldDropout
        var loop = TrainingLoop(epochCount: config.epochCount)
        try loop.run(
            network, optimizer: optimizer, context: context,
            epoch: { epoch in
                var positiveUsers = positives.map { users[$0] }
                var positiveItems = positives.map { items[$0] }
                var positiveMeans: [RatingMeans?]? = means.map { means in positives.map { means[$0] } }
                var negativeUsers: [Int32] = []
                var negativeItems: [Int32] = []
                negativeUsers.reserveCapacity(positives.count * samples)
                negativeItems.reserveCapacity(positives.count * samples)
                for user in positiveUsers {
                    for _ in 0..<samples {
                        negativeUsers.append(user)
                        negativeItems.append(
                            sampler.sample(
                                excluding: { seen.contains(row: Int(user), column: $0) }, maxRedraws: 50,
                                using: &generator))
                    }
                }
                if dropout > 0 {
                    // Row `count + r` of the training tables is entity r as a new one, without its means.
                    for example in positiveUsers.indices {
                        if generator.nextUnitFloat() < dropout {
                            positiveUsers[example] += Int32(userCount)
                            for sample in 0..<samples { negativeUsers[example * samples + sample] += Int32(userCount) }
                            positiveMeans?[example]?.user = nil
                        }
                        if generator.nextUnitFloat() < dropout {
                            positiveItems[example] += Int32(itemCount)
                            positiveMeans?[example]?.item = nil
                        }
                    }
                    for sample in negativeItems.indices where generator.nextUnitFloat() < dropout {
                        negativeItems[sample] += Int32(itemCount)
                    }
                }
                let (batchUsers, batchItems, batchMeans) = (positiveUsers, positiveItems, positiveMeans)
                let (otherUsers, otherItems) = (negativeUsers, negativeItems)
                return EpochBatches(inputs: schedule.batches(epoch: epoch)) { rows in
                    let negativeRows = rows.flatMap { row in (0..<samples).map { row * samples + $0 } }
                    return RankedFeatures(
                        positive: state.transform.batch(
                            users: tables.users, userRows: rows.map { batchUsers[$0] }, items: tables.items,
                            itemRows: rows.map { batchItems[$0] },
                            means: batchMeans.map { means in rows.map { means[$0] } }),
                        negative: state.transform.batch(
                            users: tables.users, userRows: negativeRows.map { otherUsers[$0] }, items: tables.items,
                            itemRows: negativeRows.map { otherItems[$0] }),
                        count: rows.count)
                }
            },
            loss: { batch, _ in
                let positive = network(batch.positive)
                let negative = network(batch.negative).reshaped([batch.count, samples])
                return ranking.loss(positive, negative).adding(network.takePenalty())
            })
    }
}

/// Positive examples and, `samples` per positive in order, their negatives.
struct RankedFeatures: Sendable {
    var positive: FeatureBatch
    var negative: FeatureBatch
    var count: Int
}

/// A batch of feature examples with their targets `[count, 1]`.
struct LabeledFeatures: Sendable {
    var features: FeatureBatch
    var labels: Tensor
}

/// What every feature model keeps once trained: its fitted columns, its network's parameters and
/// its output scale; trained, saved and restored here once for all of them.
public struct FeatureModelState: Sendable {
    public let features: FeatureState
    public let parameters: [String: Tensor]
    /// Regression: the training mean added to the network's output, and the rating range.
    public let ratingOffset: Float
    public let ratingRange: ClosedRange<Float>?
    public let userCount: Int
    public let itemCount: Int

    /// Fits the feature columns on `train`, makes the network for them and trains it.
    init<Network: FeatureNetwork>(
        fitting train: Interactions, side: SideData, config: some FeatureModelConfig, model: String,
        context: TrainingContext, extraUserColumns: [FeatureColumnSpec] = [], ranking: FeatureRanking? = nil,
        check: (FeatureTransform) throws -> Void = { _ in },
        network makeNetwork: (FeatureTransform) -> Network, optimizer makeOptimizer: (Network) -> any Optimizer
    ) throws {
        features = try FeatureState(fitting: train, side: side, model: model, extraUserColumns: extraUserColumns)
        try check(features.transform)
        let training = try FeatureTraining(train, config: config, model: model)
        let network = makeNetwork(features.transform)
        if let ranking {
            try training.runRanking(
                network, optimizer: makeOptimizer(network), state: features, config: config, ranking: ranking,
                context: context)
        } else {
            try training.run(
                network, optimizer: makeOptimizer(network), state: features, config: config, context: context)
        }
        parameters = network.namedValues
        ratingOffset = training.offset
        ratingRange = training.range
        userCount = train.userCount
        itemCount = train.itemCount
    }

    /// For two-sided models (mfdnn, mfside): the columns must give both users and items something.
    static func requireBothSides(_ transform: FeatureTransform, model: String) throws(ConfigError) {
        for side in [FeatureSide.user, .item] where transform.fields(of: side).isEmpty {
            throw ConfigError(model: model, key: "features", "the \(side.rawValue) side has no columns")
        }
    }

    func save(into weights: inout ModelWeights) {
        weights.store(parameters: parameters)
        features.save(into: &weights)
        weights.storeRatingScale(offset: ratingOffset, range: ratingRange)
    }

    /// The state `save(into:)` wrote; `shapes` gives the network's parameter shapes for the columns.
    init(
        restoring weights: ModelWeights, userCount: Int, itemCount: Int,
        shapes: (FeatureTransform) -> [String: [Int]]
    ) throws(RestoreError) {
        features = try FeatureState(restoring: weights, userCount: userCount, itemCount: itemCount)
        parameters = try weights.parameters(shapes: shapes(features.transform))
        (ratingOffset, ratingRange) = try weights.ratingScale()
        self.userCount = userCount
        self.itemCount = itemCount
    }
}

/// Scoring and rating prediction shared by the feature models: a network's outputs for pairs, as
/// probabilities (classification) or ratings clipped to the training range (regression).
protocol FeatureScoringModel: FeatureAwareRecommender, RatingPredictor {
    associatedtype Network: FeatureNetwork
    var objective: FeatureObjective { get }
    var state: FeatureModelState { get }
    /// A network of this model's shape, its parameters not yet loaded.
    func emptyNetwork() -> Network
}

extension FeatureScoringModel {
    public var features: FeatureState { state.features }
    public var userCount: Int { state.userCount }
    public var itemCount: Int { state.itemCount }
    var ratingOffset: Float { state.ratingOffset }
    var ratingRange: ClosedRange<Float>? { state.ratingRange }

    public func save(into weights: inout ModelWeights) { state.save(into: &weights) }

    /// A network holding the trained parameters.
    func network() -> Network {
        let network = emptyNetwork()
        network.load(state.parameters)
        network.setTraining(false) // no dropout, no sampling
        return network
    }

    /// Outputs of `batch` in chunks (no graph).
    func outputs(_ network: Network, _ batch: (_ range: Range<Int>) -> FeatureBatch, count: Int) -> [Float] {
        var scores: [Float] = []
        scores.reserveCapacity(count)
        var start = 0
        while start < count {
            let end = min(count, start + 4096)
            scores += GradientRecording.disabled { network(batch(start..<end)).value.scalars }
            start = end
        }
        return scores
    }

    public func scores(forUsers users: [Int32]) -> Tensor {
        let network = network()
        var scalars: [Float] = []
        scalars.reserveCapacity(users.count * itemCount)
        let allItems = (0..<itemCount).map(Int32.init)
        for user in users {
            scalars += outputs(
                network,
                { range in
                    features.batch(
                        users: [Int32](repeating: user, count: range.count), items: Array(allItems[range]))
                }, count: itemCount)
        }
        return Tensor(shape: [users.count, itemCount], scalars: scalars)
    }

    public func scores(forHistory history: [Int32]) -> [Float] {
        scores(forUserValues: FeatureState.values(ofHistory: history.filter { $0 >= 0 && Int($0) < itemCount }))
    }

    public func scores(forUserValues values: [String: RawFeatureValue]) -> [Float] {
        let batch = features.batch(userValues: values)
        let network = network()
        return GradientRecording.disabled { network(batch).value.scalars }
    }

    public var predictsProbabilities: Bool { objective == .classification }

    public func predict(user: Int32, item: Int32) -> Float { predict(users: [user], items: [item])[0] }

    public func predict(users: [Int32], items: [Int32], times: [Int64]?) -> [Float] {
        let network = network()
        let known = users.indices.map {
            users[$0] >= 0 && Int(users[$0]) < userCount && items[$0] >= 0 && Int(items[$0]) < itemCount
        }
        let safeUsers = users.indices.map { known[$0] ? users[$0] : 0 }
        let safeItems = users.indices.map { known[$0] ? items[$0] : 0 }
        let raw = outputs(
            network,
            { range in
                features.batch(
                    users: Array(safeUsers[range]), items: Array(safeItems[range]),
                    times: times.map { times in range.map { Optional(times[$0]) } })
            }, count: users.count)
        return raw.indices.map { index in
            guard known[index] else { return objective == .classification ? 0.5 : ratingOffset }
            if objective == .classification { return Activation.sigmoid(raw[index]) }
            let rating = raw[index] + ratingOffset
            return ratingRange.map { min(max(rating, $0.lowerBound), $0.upperBound) } ?? rating
        }
    }
}
