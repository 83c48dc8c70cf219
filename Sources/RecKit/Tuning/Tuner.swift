import Foundation

/// One tried setting and what validation made of it: a line of a tuning run's results file.
public struct TrialRecord: Codable, Sendable, Equatable {
    public var trial: Int
    /// The trial's settings (drawn ones and the fixed `--set` ones), as `--set` text.
    public var settings: [String: String]
    /// The validation metric (the mean over seeds when several), nil when the trial failed.
    public var value: Double?
    /// Why the trial failed (a setting the data cannot take, a diverging fit).
    public var error: String?
    /// Seconds since the search began, when this trial ended (the report's progress axis).
    public var elapsed: Double
    /// Training and evaluation seconds of this trial.
    public var seconds: Double
    /// With successive halving: the rung (0 = the smallest epoch budget) this measurement belongs to.
    public var rung: Int?
}

/// Successive halving (Jamieson and Talwalkar 2016; the synchronous form of Li et al.'s Hyperband
/// bracket): every drawn setting trains for a few epochs, the best 1/eta go on to eta times as many,
/// and so on up to the full count, so poor settings of an epoch-based model stop early. A setting
/// promoted to a larger budget trains again from the start (models keep no checkpoints between
/// trials), which costs at most 1/(eta − 1) more than training only the survivors.
public struct SuccessiveHalving: Sendable, Equatable, CustomStringConvertible {
    /// The setting that measures a trial's budget (`epochs`).
    public let resource: String
    /// The budget of each rung, increasing; the last is the full count.
    public let budgets: [Int]
    /// Each rung keeps the best 1/eta of the one before.
    public let eta: Int
    /// Settings drawn for the first rung.
    public let settingCount: Int

    /// Rungs from `maximum` down by factors of `eta` while at least `minimum`.
    /// - Throws: `ConfigError` (key `resource`) for a budget range or eta that cannot make two rungs.
    public init(resource: String, minimum: Int, maximum: Int, eta: Int = 3, settingCount: Int) throws(ConfigError) {
        guard eta >= 2 else { throw ConfigError(model: "tune", key: resource, "halving's eta must be at least 2") }
        guard minimum >= 1, maximum >= minimum else {
            throw ConfigError(
                model: "tune", key: resource, "halving needs 1 ≤ minimum (\(minimum)) ≤ maximum (\(maximum))")
        }
        guard settingCount >= 1 else {
            throw ConfigError(model: "tune", key: resource, "halving needs at least one setting to start")
        }
        var budgets = [maximum]
        while true {
            let next = Int((Double(budgets[0]) / Double(eta)).rounded())
            guard next >= minimum, next < budgets[0] else { break }
            budgets.insert(next, at: 0)
        }
        self.resource = resource
        self.budgets = budgets
        self.eta = eta
        self.settingCount = settingCount
    }

    /// Halving over `model`'s `epochs`, up to the count `fixed` gives or else the model's default,
    /// down to `minimum` (default: the full count / eta², i.e. three rungs).
    /// - Throws: `ConfigError` when the model has no `epochs` setting or the range cannot make rungs.
    public static func epochs(
        of model: String, fixed: [String: String], minimum: Int? = nil, eta: Int = 3, settingCount: Int
    ) throws(ConfigError) -> SuccessiveHalving {
        let type = try ModelRegistry.model(named: model)
        guard let doc = ModelRegistry.settingDocs(type).first(where: { $0.key == "epochs" }) else {
            throw ConfigError(
                model: model, key: "epochs",
                "successive halving needs a model trained in epochs; \(model) has no epochs setting "
                    + "(use random search)")
        }
        let given = fixed["epochs"] ?? doc.defaultValue
        guard let maximum = Int(given), maximum >= 1 else {
            throw ConfigError(model: model, key: "epochs", "'\(given)' is not a whole number of epochs")
        }
        return try SuccessiveHalving(
            resource: "epochs", minimum: minimum ?? max(1, maximum / (eta * eta)), maximum: maximum, eta: eta,
            settingCount: settingCount)
    }

    /// How many settings rung `rung` trains: settingCount / etaʳ, at least one.
    public func kept(rung: Int) -> Int {
        var count = settingCount
        for _ in 0..<rung { count /= eta }
        return max(1, count)
    }

    public var description: String {
        "successive halving on \(resource) "
            + budgets.indices.map { "\(budgets[$0]) (\(kept(rung: $0)))" }.joined(separator: ", ")
            + ", keeping 1/\(eta)"
    }
}

/// Random search over a model's settings, measured on a validation split cut from the training part
/// (never the test split), kept trial by trial in a results file that an interrupted or crashed run
/// resumes from without repeating a finished trial.
///
/// Trial i's settings depend only on the search seed and i, so a resumed search draws what an
/// uninterrupted one would have. The file's first line records what was searched (model, space,
/// metric, seed, the validation split's fingerprint); a file of another search is refused rather
/// than mixed in.
public struct Tuner: Sendable {
    public struct Header: Codable, Sendable, Equatable {
        public var model: String
        public var space: String
        public var fixed: [String: String]
        public var metric: String
        public var seed: UInt64
        public var seeds: Int
        public var validation: String
        /// Successive halving's rungs; nil for random search (files written before halving existed).
        public var strategy: String?
    }

    public let model: String
    public let space: SearchSpace
    /// Settings every trial takes (`--set`), over the space's.
    public let fixed: [String: String]
    public let metric: MetricSpec
    public let seed: UInt64
    /// Seeds per trial for a seeded model: its value is the mean over seeds 0..<seeds.
    public let seeds: Int
    public let resultsFile: URL
    /// Successive halving instead of plain random search (its draws are the same).
    public let halving: SuccessiveHalving?

    /// - Throws: `ConfigError` for an unknown model, a space key the model does not take, or fixed
    ///   settings it rejects.
    public init(
        model: String, space: SearchSpace, fixed: [String: String] = [:], metric: MetricSpec, seed: UInt64 = 0,
        seeds: Int = 1, resultsFile: URL, halving: SuccessiveHalving? = nil
    ) throws(ConfigError) {
        let type = try ModelRegistry.model(named: model)
        let keys = Set(type.settings.flatMap { [$0.key] + $0.aliases }).union(["threads"])
        for key in space.dimensions.keys.sorted() where !keys.contains(key) {
            throw ConfigError(
                model: model, key: key,
                "is not a setting of \(model); it takes \(type.settings.map(\.key).sorted().joined(separator: ", "))")
        }
        _ = try ConfiguredModel(model, settings: fixed)
        if let halving {
            guard keys.contains(halving.resource) else {
                throw ConfigError(
                    model: model, key: halving.resource,
                    "successive halving needs a model trained in \(halving.resource); \(model) has no such setting")
            }
            guard space.dimensions[halving.resource] == nil else {
                throw ConfigError(
                    model: model, key: halving.resource,
                    "successive halving chooses \(halving.resource) itself; take it out of the search space")
            }
        }
        self.model = model
        self.halving = halving
        self.space = space
        self.fixed = fixed
        self.metric = metric
        self.seed = seed
        self.seeds = max(1, seeds)
        self.resultsFile = resultsFile
    }

    /// Whether higher values of the metric are better (rmse and mae: lower).
    public var higherIsBetter: Bool { metric.higherIsBetter }

    /// The header of this search on `validation`.
    public func header(validation: Split) -> Header {
        Header(
            model: model, space: space.description, fixed: fixed, metric: metric.description, seed: seed,
            seeds: seeds,
            validation: "\(validation.description); train \(validation.train.fingerprint()); "
                + "test \(validation.test.fingerprint())", strategy: halving?.description)
    }

    /// The trials already in the results file (none when it does not exist). A last line cut short by
    /// a crash is ignored: that trial runs again.
    /// - Throws: `TuningError` when the file belongs to another search or a complete line is unreadable.
    public func finishedTrials(validation: Split) throws -> [TrialRecord] {
        try finishedTrials(header: header(validation: validation))
    }

    /// The trials of the search `expected` describes (its fingerprints are computed once per search).
    func finishedTrials(header expected: Header) throws -> [TrialRecord] {
        guard let data = FileManager.default.contents(atPath: resultsFile.path), !data.isEmpty else { return [] }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast() // "" after the final newline, or a line a crash cut short
        guard let first = lines.first else { return [] }
        let decoder = JSONDecoder()
        guard let header = try? decoder.decode(Header.self, from: Data(first.utf8)) else {
            throw TuningError("\(resultsFile.path):1: not a RecKit tuning results file")
        }
        guard header == expected else {
            let strategy = header.strategy ?? "random search"
            throw TuningError(
                "\(resultsFile.path) holds another search (\(header.model), \(header.metric), seed \(header.seed), "
                    + "\(strategy)); give another --out or remove it")
        }
        return try lines.dropFirst().enumerated().map { offset, line in
            do { return try decoder.decode(TrialRecord.self, from: Data(line.utf8)) } catch {
                throw TuningError("\(resultsFile.path):\(offset + 2): not a trial record: \(error)")
            }
        }
    }

    /// Runs trials until `budget` trials exist in the results file or `timeLimit` seconds have passed
    /// (at least one of them set), each trained on `validation.train` and measured on
    /// `validation.test`; `progress` hears of every trial as it ends. Returns every trial, the resumed
    /// ones first. With `halving`, its rungs run in order instead (its setting count replaces
    /// `budget`) until the last rung is done or the time is up.
    /// - Throws: `TuningError` for a results file of another search or one that cannot be written.
    public func search(
        validation: Split, budget: Int?, timeLimit: TimeInterval?, threadCount: Int? = nil,
        progress: (TrialRecord, _ resumed: Bool) -> Void = { _, _ in }
    ) throws -> [TrialRecord] {
        precondition(
            halving != nil || budget != nil || timeLimit != nil, "a search needs a budget or a time limit")
        let header = self.header(validation: validation)
        var trials = try finishedTrials(header: header)
        for trial in trials { progress(trial, true) }
        let handle = try openResults(header: header, existing: trials)
        defer { try? handle.close() }
        let start = Date()
        let offset = trials.last?.elapsed ?? 0
        var timeLeft: Bool { timeLimit.map { Date().timeIntervalSince(start) < $0 } ?? true }
        func run(_ index: Int, rung: Int?) throws {
            var settings = space.draw(trial: index, seed: seed).merging(fixed) { _, given in given }
            if let halving, let rung { settings[halving.resource] = String(halving.budgets[rung]) }
            let began = Date()
            var record = TrialRecord(
                trial: index, settings: settings, value: nil, error: nil, elapsed: 0, seconds: 0, rung: rung)
            do {
                record.value = try measure(settings: settings, on: validation, threadCount: threadCount)
            } catch {
                record.error = "\(error)"
            }
            record.seconds = Date().timeIntervalSince(began)
            record.elapsed = offset + Date().timeIntervalSince(start)
            try append(record, to: handle)
            trials.append(record)
            progress(record, false)
        }
        if let halving {
            for rung in halving.budgets.indices {
                let candidates =
                    rung == 0
                    ? Array(0..<halving.settingCount)
                    : ranked(trials.filter { $0.rung == rung - 1 }).prefix(halving.kept(rung: rung)).map(\.trial)
                let done = Set(trials.filter { $0.rung == rung }.map(\.trial))
                for index in candidates where !done.contains(index) {
                    guard timeLeft else { return trials }
                    try run(index, rung: rung)
                }
            }
            return trials
        }
        var index = (trials.map(\.trial).max() ?? -1) + 1
        while budget.map({ trials.count < $0 }) ?? true {
            guard timeLeft else { break }
            try run(index, rung: nil)
            index += 1
        }
        return trials
    }

    /// `trials` best first (failed ones last, the earlier trial first on a tie).
    func ranked(_ trials: [TrialRecord]) -> [TrialRecord] {
        trials.sorted { a, b in
            switch (a.value, b.value) {
            case (let x?, let y?) where x != y: return higherIsBetter ? x > y : x < y
            case (.some, nil): return true
            case (nil, .some): return false
            default: return a.trial < b.trial
            }
        }
    }

    /// The validation metric of `settings` (mean over `seeds` seeds for a seeded model).
    public func measure(settings: [String: String], on split: Split, threadCount: Int?) throws -> Double {
        let base = try ConfiguredModel(model, settings: settings)
        let runs = try base.isSeeded ? (0..<seeds).map { try base.seeded(UInt64($0)) } : [base]
        var values: [Double] = []
        for configured in runs {
            let result = try Self.evaluate(configured, on: split, metrics: [metric], threadCount: threadCount)
            guard let value = result[metric.description], value.isFinite else {
                throw TuningError("\(metric) is not finite")
            }
            values.append(value)
        }
        return values.reduce(0, +) / Double(values.count)
    }

    /// Trains `model` on `split.train` and measures `metrics` on `split.test` (full ranking, or
    /// rating error for rmse/mae).
    public static func evaluate(
        _ model: ConfiguredModel, on split: Split, metrics: [MetricSpec], threadCount: Int?
    ) throws -> EvaluationResult {
        let started = Date()
        let trained = try model.fit(
            split.train, validation: nil, side: split.side, context: TrainingContext(threadCount: threadCount))
        let seconds = Date().timeIntervalSince(started)
        var result: EvaluationResult
        if metrics.contains(where: \.isRatingMetric) {
            guard let predictor = trained as? any RatingPredictor else {
                throw TuningError("\(model.name) does not predict ratings; rmse and mae need a rating model")
            }
            result = try RatingEvaluator(metrics: metrics).evaluate(predictor, train: split.train, test: split.test)
        } else {
            result = try FullRankingEvaluator(metrics: metrics, threadCount: threadCount ?? Parallel.defaultThreadCount)
                .evaluate(
                    trained, train: split.train, test: split.test, foldIn: split.foldIn, candidates: split.candidates)
        }
        result.model = model.name
        result.fitSeconds = seconds
        result.context["settings"] = model.settingsDescription
        return result
    }

    /// The best trial: the highest value (lowest for rmse/mae), the earlier trial on a tie; with
    /// successive halving, among the measurements of the largest budget reached (values at different
    /// budgets do not compare).
    public func best(of trials: [TrialRecord]) -> TrialRecord? {
        let measured = trials.filter { $0.value != nil }
        let top = measured.compactMap(\.rung).max()
        return ranked(measured.filter { $0.rung == top }).first
    }

    private func openResults(header: Header, existing: [TrialRecord]) throws -> FileHandle {
        let manager = FileManager.default
        try manager.createDirectory(at: resultsFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Rewritten from what was read: drops a line a crash cut short.
        var text = String(decoding: try Self.encoder.encode(header), as: UTF8.self) + "\n"
        for record in existing { text += String(decoding: try Self.encoder.encode(record), as: UTF8.self) + "\n" }
        let temporary = resultsFile.appendingPathExtension("partial")
        try Data(text.utf8).write(to: temporary)
        if manager.fileExists(atPath: resultsFile.path) { try manager.removeItem(at: resultsFile) }
        try manager.moveItem(at: temporary, to: resultsFile)
        let handle = try FileHandle(forWritingTo: resultsFile)
        try handle.seekToEnd()
        return handle
    }

    private func append(_ record: TrialRecord, to handle: FileHandle) throws {
        try handle.write(
            contentsOf: Data((String(decoding: try Self.encoder.encode(record), as: UTF8.self) + "\n").utf8))
        try handle.synchronize() // a finished trial survives a crash
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// A tuning run that cannot go on: its results file belongs to another search or is damaged.
public struct TuningError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
