import RecKitData
import RecKitNN
import RecKitTensor

/// A next-item validation part given by the caller (`reckit evaluate --validation FILE`), for
/// sequence models that choose their epoch count on validation: they train on `fit` (the training
/// data without the validation sequences) while measuring `cases`, then train again on all of the
/// training data for the best count. Without one, such a model cuts its own.
public struct SequenceValidation: Sendable {
    public var fit: Interactions
    public var cases: [NextItemCase]

    public init(fit: Interactions, cases: [NextItemCase]) {
        self.fit = fit
        self.cases = cases
    }

    /// The most recent `fraction` of `train`'s sequences (by their last time; without times, the
    /// last users) as next-item cases, the rest as `fit`: GRU4Rec's own validation cut. Validation
    /// clicks on items `fit` lacks are removed; sequences then shorter than two are dropped.
    /// - Throws: `ConfigError` (key `validation`) when nothing is left to validate on.
    public init(cutting train: Interactions, fraction: Double, model: String) throws(ConfigError) {
        let sequences = train.sequences()
        var ends = [Int64](repeating: .min, count: train.userCount)
        if let times = train.timestamps {
            for row in 0..<train.count { ends[Int(train.users[row])] = max(ends[Int(train.users[row])], times[row]) }
        }
        let present = (0..<train.userCount).filter { !sequences[$0].isEmpty }
        let byEnd = present.sorted { (ends[$0], $0) < (ends[$1], $1) }
        let heldCount = Int((fraction * Double(byEnd.count)).rounded())
        var heldOut = [Bool](repeating: false, count: train.userCount)
        for user in byEnd.suffix(heldCount) { heldOut[user] = true }
        let fit = train.filteringRows { !heldOut[Int(train.users[$0])] }
        var known = [Bool](repeating: false, count: train.itemCount)
        for item in fit.items { known[Int(item)] = true }
        let contexts = train.sequenceContexts()
        var cases: [NextItemCase] = []
        for user in byEnd.suffix(heldCount) {
            let positions = sequences[user].indices.filter { known[Int(sequences[user][$0])] }
            let kept = positions.map { sequences[user][$0] }
            let keptContexts = contexts.map { all in positions.map { all[user][$0] } }
            guard kept.count >= 2 else { continue }
            for t in 1..<kept.count {
                cases.append(
                    NextItemCase(
                        sessionID: String(user), prefix: Array(kept[..<t]), target: kept[t],
                        contexts: keptContexts.map { Array($0[..<t]) }))
            }
        }
        guard !cases.isEmpty else {
            throw ConfigError(
                model: model, key: "validation",
                "the most recent \(fraction) of the sequences leaves no next-item case to validate on; raise it or "
                    + "set 0")
        }
        self.init(fit: fit, cases: cases)
    }

    /// The next-item metric a sequence model chooses its epochs on (at 20).
    public enum Metric: String, Codable, Sendable, CaseIterable {
        case recall
        case mrr
    }

    /// `metric`@20 of `scores` (of a batch of cases' prefixes), as the training loop's validation
    /// measurement.
    public func measurement(_ metric: Metric, _ scores: ([NextItemCase]) -> Tensor) -> ValidationMeasurement {
        let measured = measure(k: 20, scores)
        return ValidationMeasurement(
            name: "validation \(metric.rawValue)@20", value: metric == .recall ? measured.recall : measured.mrr)
    }

    /// How a sequence model cuts its own validation part.
    public enum Cut: String, Codable, Sendable, CaseIterable {
        /// The most recent sequences, every position predicted (sessions: new sessions are tested).
        case sequences
        /// Each sequence's last item predicted from the rest (users: each user's next item is tested).
        case last
    }

    /// The validation part `cut` makes of `train`.
    /// - Throws: `ConfigError` (key `validation`) when nothing is left to validate on.
    public init(_ cut: Cut, of train: Interactions, fraction: Double, model: String) throws(ConfigError) {
        switch cut {
        case .sequences: try self.init(cutting: train, fraction: fraction, model: model)
        case .last: try self.init(holdingOutLastOf: train, model: model)
        }
    }

    /// Each sequence of at least three items loses its last item (by time, then row) to a case
    /// predicting it from the rest; `fit` keeps everything else. Cases whose item `fit` lacks are
    /// dropped. SASRec's validation.
    /// - Throws: `ConfigError` (key `validation`) when no sequence is long enough.
    public init(holdingOutLastOf train: Interactions, model: String) throws(ConfigError) {
        var lastRow = [Int](repeating: -1, count: train.userCount)
        var counts = [Int](repeating: 0, count: train.userCount)
        for row in 0..<train.count {
            let user = Int(train.users[row])
            counts[user] += 1
            let previous = lastRow[user]
            if previous < 0 || (train.timestamps.map { ($0[row], row) >= ($0[previous], previous) } ?? true) {
                lastRow[user] = row
            }
        }
        let heldOut = Set((0..<train.userCount).filter { counts[$0] >= 3 }.map { lastRow[$0] })
        let fit = train.filteringRows { !heldOut.contains($0) }
        var known = [Bool](repeating: false, count: train.itemCount)
        for item in fit.items { known[Int(item)] = true }
        let sequences = fit.sequences()
        let contexts = fit.sequenceContexts()
        var cases: [NextItemCase] = []
        for row in heldOut.sorted() where known[Int(train.items[row])] {
            let user = Int(train.users[row])
            cases.append(
                NextItemCase(
                    sessionID: String(user), prefix: sequences[user], target: train.items[row],
                    contexts: contexts?[user]))
        }
        guard !cases.isEmpty else {
            throw ConfigError(
                model: model, key: "validation", "no sequence has the three items a last-item validation case needs")
        }
        self.init(fit: fit, cases: cases)
    }

    /// Mean recall@`k` (the next click in the top k, all items ranked, none excluded, ties against
    /// the target) and MRR@`k` over the cases, scoring their prefixes in batches with `scores`.
    public func measure(k: Int = 20, _ scores: ([NextItemCase]) -> Tensor) -> (recall: Double, mrr: Double) {
        var hits = 0.0
        var reciprocal = 0.0
        var start = 0
        while start < cases.count {
            let batch = cases[start..<min(cases.count, start + 512)]
            let matrix = scores(Array(batch))
            for (row, nextCase) in batch.enumerated() {
                let rank = Metrics.nextItemRank(of: Int(nextCase.target), in: matrix.row(row))
                if rank <= k {
                    hits += 1
                    reciprocal += 1 / Double(rank)
                }
            }
            start += batch.count
        }
        let count = Double(max(1, cases.count))
        return (hits / count, reciprocal / count)
    }
}

/// The settings of a sequence model that chooses its epoch count on next-item validation.
public protocol SequenceEpochSettings: ModelConfig {
    /// The most epochs; the count trained after the choice.
    var epochCount: Int { get set }
    /// 0 trains `epochCount` epochs; else the fraction cut (with `Cut.sequences`).
    var validation: Double { get }
    var validationCut: SequenceValidation.Cut { get }
    var validationMetric: SequenceValidation.Metric { get }
}

extension SequenceValidation {
    /// Chooses the epoch count and trains on all of `train` for it: `training(data, config,
    /// validation)` runs one training, returning its network and, with a validation part, its best
    /// epoch. The part is the caller's `validation`, else the one `config` cuts (none with
    /// `validation` 0). Returns the configuration with the count trained and the final network.
    public static func fit<Config: SequenceEpochSettings, Network>(
        _ train: Interactions, config: Config, validation: SequenceValidation?, model: String,
        training: (_ data: Interactions, _ config: Config, _ validation: SequenceValidation?) throws -> (Network, Int?)
    ) throws -> (config: Config, network: Network) {
        var config = config
        let own =
            config.validation > 0
            ? try SequenceValidation(config.validationCut, of: train, fraction: config.validation, model: model) : nil
        if let part = validation ?? own {
            config.epochCount = try training(part.fit, config, part).1 ?? config.epochCount
        }
        return (config, try training(train, config, nil).0)
    }
}

/// A model that reads side data (item metadata, user attributes) beside the interactions when the
/// caller has them (`ConfiguredModel.fit(_:validation:side:context:)`); without, it trains on the
/// interactions alone.
public protocol SideDataModel: TrainableRecommender {
    init(fitting train: Interactions, side: SideData, config: Config, context: TrainingContext) throws
}

extension SideDataModel {
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try self.init(fitting: train, side: SideData(), config: config, context: context)
    }
}

/// A sequence model that can take its validation part from the caller.
public protocol SequenceValidatedModel: SideDataModel {
    /// Trains on `train`, choosing epochs on `validation` when given (else on a part it cuts), with
    /// `side` data where the model reads any.
    init(
        fitting train: Interactions, side: SideData, config: Config, context: TrainingContext,
        validation: SequenceValidation?) throws
}

extension SequenceValidatedModel {
    public init(fitting train: Interactions, side: SideData, config: Config, context: TrainingContext) throws {
        try self.init(fitting: train, side: side, config: config, context: context, validation: nil)
    }

    public init(fitting train: Interactions, config: Config, context: TrainingContext, validation: SequenceValidation?)
        throws
    {
        try self.init(fitting: train, side: SideData(), config: config, context: context, validation: validation)
    }
}

extension SideDataModel {
    static func fit(
        _ train: Interactions, anyConfig: any ModelConfig, context: TrainingContext, validation: SequenceValidation?,
        side: SideData
    ) throws -> any TrainableRecommender {
        guard let config = anyConfig as? Config else { preconditionFailure("\(name) given a \(type(of: anyConfig))") }
        if let sequenceType = Self.self as? any SequenceValidatedModel.Type {
            return try sequenceType.fitSequence(
                train, anyConfig: config, context: context, validation: validation, side: side)
        }
        return try Self(fitting: train, side: side, config: config, context: context)
    }
}

extension SequenceValidatedModel {
    static func fitSequence(
        _ train: Interactions, anyConfig: any ModelConfig, context: TrainingContext, validation: SequenceValidation?,
        side: SideData
    ) throws -> any TrainableRecommender {
        guard let config = anyConfig as? Config else { preconditionFailure("\(name) given a \(type(of: anyConfig))") }
        return try Self(fitting: train, side: side, config: config, context: context, validation: validation)
    }
}

extension ConfiguredModel {
    /// Whether the model chooses its epochs on a next-item validation part a caller can give.
    public var takesSequenceValidation: Bool { type is any SequenceValidatedModel.Type }

    /// Trains on `train`: a sequence model choosing its epochs on `validation`, a model reading side
    /// data with `side` (other models ignore either).
    public func fit(
        _ train: Interactions, validation: SequenceValidation?, side: SideData = SideData(),
        context: TrainingContext = TrainingContext()
    ) throws -> any TrainableRecommender {
        guard let sideType = type as? any SideDataModel.Type else { return try fit(train, context: context) }
        var context = context
        if context.threadCount == nil { context.threadCount = threadCount ?? Parallel.defaultThreadCount }
        return try sideType.fit(train, anyConfig: config, context: context, validation: validation, side: side)
    }
}
