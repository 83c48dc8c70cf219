import ArgumentParser
import Foundation
import RecKit
import Yams

struct Tune: AsyncParsableCommand, TrainsModels {
    static let configuration = CommandConfiguration(
        abstract:
            "Choose a model's settings on a validation split cut from the training part, then test them once.",
        discussion: """
            Examples:
              reckit tune --split-dir ../shared/peers/splits/ml-100k/topn_user_holdout20_all_ratings_seed42 \
            --model ials --budget 50
              reckit tune --data ratings.csv --split leave-last-out --model ease --time 5m --metric ndcg@10
            The validation split is cut from the training part with the same code as the test split (--split;
            for --split-dir, holdout:0.2 unless --validation-split says otherwise). Every trial is appended to
            OUT/trials.jsonl as it ends; running the same command again resumes without repeating a finished
            trial (a larger --budget adds trials). The best settings are then trained on the whole training part
            and tested once; OUT/best.yaml holds them (`reckit train --config OUT/best.yaml`), OUT/report.html
            the trials, the value against each setting and the search's progress.
            Search spaces: --space FILE.yaml, one line per setting: `regularization: {log: [1, 10000]}`,
            `alpha: {uniform: [0, 2]}`, `neighbors: {int: [10, 1000]}`, `factors: {logint: [16, 256]}`,
            `weighting: [cosine, bm25]`, or a fixed `iterations: 15`. Without it, the model's default space
            (README "Tuning").
            """)

    @Option(help: "A data-set folder or interaction file to split (or synthetic:PRESET[:SEED], generated in memory).")
    var data: String?
    @Option(help: "How to split --data (as evaluate): holdout:0.2, leave-last-out, temporal:0.1, random:0.1.")
    var split = "holdout:0.2"
    @Option(help: "A folder with train.tsv and test.tsv.") var splitDir: String?
    @Option(help: "How to cut the validation split from the training part (default: --split's method; holdout:0.2).")
    var validationSplit: String?
    @Option(help: "The model to tune.") var model: String
    @Option(name: .customLong("set"), help: "A setting every trial takes, key=value (repeatable).")
    var settings: [String] = []
    @Option(help: "A YAML search space (default: the model's own).") var space: String?
    @Option(help: "Feature columns for feature models: a YAML file (as evaluate --features).") var features: String?
    @Option(help: "Trials in all (finished ones in OUT count); with --strategy halving, the settings drawn.")
    var budget: Int?
    @Option(help: "random, or halving: successive halving over the epochs of an epoch-based model.")
    var strategy = "random"
    @Option(help: "Halving: each rung keeps the best 1/eta for eta times the epochs.") var eta = 3
    @Option(help: "Halving: the first rung's epochs (default: the full count / eta²).") var minEpochs: Int?
    @Option(help: "Stop starting trials after this long: 90s, 10m, 1h.") var time: String?
    @Option(help: "The validation metric to optimise (rmse and mae are minimised).") var metric = "ndcg@10"
    @Option(help: "Test metrics, comma-separated (default: the @10 set and --metric).") var metrics: String?
    @Option(help: "Seeds per trial for a seeded model (mean), and for the test run (mean ± sd).") var seeds = 1
    @Option(help: "Seed of the search's draws.") var searchSeed: UInt64 = 0
    @Option(help: "Seed of the split (and, plus one, of the validation cut).") var seed: UInt64 = 42
    @Option(help: "Keep only ratings ≥ this value as positives (--data only).") var positiveThreshold: Float?
    @Option(help: "Output folder (default: tune-MODEL).") var out: String?
    @Flag(help: "Print the result as one JSON object on stdout.") var json = false
    @Flag(help: "No progress on stderr.") var quiet = false
    @OptionGroup var load: LoadOptions

    var source: Experiment.SplitSource {
        Experiment.SplitSource(
            data: data, method: split, splitDirectory: splitDir, positiveThreshold: positiveThreshold, seed: seed,
            featuresFile: features)
    }

    func validate() throws {
        try source.validate()
        if budget == nil && time == nil { throw ValidationError("give --budget N or --time DURATION (or both)") }
        guard ["random", "halving"].contains(strategy) else {
            throw ValidationError("--strategy must be random or halving")
        }
        if strategy == "halving" && budget == nil {
            throw ValidationError("--strategy halving needs --budget: how many settings to start")
        }
        if eta < 2 { throw ValidationError("--eta must be at least 2") }
        if let budget, budget < 1 { throw ValidationError("--budget must be at least 1") }
        if let time, Self.seconds(time) == nil { throw ValidationError("--time must look like 90s, 10m or 1h") }
        guard MetricSpec(metric) != nil else { throw ValidationError("unknown metric '\(metric)'") }
        if let metrics { _ = try Experiment.metrics(metrics) }
        if !(1...100).contains(seeds) { throw ValidationError("--seeds must be in 1...100") }
        if let validationSplit, SplitMethod(argument: validationSplit) == nil {
            throw ValidationError("--validation-split must be a split method such as holdout:0.2 or leave-last-out")
        }
    }

    /// "90s", "10m", "1h", "2h30m" → seconds.
    static func seconds(_ text: String) -> TimeInterval? {
        var total = 0.0
        var number = ""
        for character in text {
            if character.isNumber || character == "." {
                number.append(character)
                continue
            }
            guard let value = Double(number) else { return nil }
            switch character {
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            default: return nil
            }
            number = ""
        }
        if !number.isEmpty { return nil }
        return total > 0 ? total : nil
    }

    func run() async throws {
        let quietProgress = quiet || json
        let (split, context) = try source.load(load, quiet: quietProgress)
        let method =
            validationSplit ?? (data != nil && SplitMethod(argument: self.split) != nil ? self.split : "holdout:0.2")
        let metric = MetricSpec(self.metric)!
        let searchSpace: SearchSpace
        if let space {
            searchSpace = try SpaceFile.read(space)
        } else if let defaults = SearchSpace.defaults(for: model) {
            searchSpace = defaults
        } else {
            throw ValidationError("\(model) has no default search space; give --space FILE.yaml")
        }
        let folder = URL(fileURLWithPath: out ?? "tune-\(model)")
        let fixed = try ModelOptions.parse(settings)
        let halving: SuccessiveHalving?
        do {
            halving =
                strategy == "halving"
                ? try SuccessiveHalving.epochs(
                    of: model, fixed: fixed, minimum: minEpochs, eta: eta, settingCount: budget ?? 1) : nil
        } catch { throw ValidationError("\(error)") }
        let (tuner, validation, trials) = try Self.search(
            model: model, fixed: fixed, space: searchSpace, split: split, validationMethod: method, seed: seed &+ 1,
            metric: metric, seeds: seeds, searchSeed: searchSeed, budget: budget, time: time.flatMap(Self.seconds),
            halving: halving, folder: folder, quiet: quietProgress)
        guard let best = tuner.best(of: trials) else {
            throw RuntimeError("no trial succeeded; see \(folder.path)/trials.jsonl for their errors")
        }
        // The best settings on the whole training part, tested once.
        let configured = try ConfiguredModel(model, settings: best.settings)
        var testMetrics = try metrics.map(Experiment.metrics) ?? MetricSpec.defaults
        if metric.isRatingMetric {
            testMetrics = testMetrics.filter(\.isRatingMetric)
            if testMetrics.isEmpty { testMetrics = [.rmse, .mae] }
        }
        if !testMetrics.contains(metric) { testMetrics.append(metric) }
        var test = try Experiment.run(
            configured, seeds: configured.isSeeded ? (0..<UInt64(seeds)).map { $0 } : nil, split: split,
            metrics: testMetrics, sampled: false, batchSize: 256, threadCount: Parallel.defaultThreadCount,
            quiet: quietProgress)
        test.context.merge(context) { current, _ in current }
        test.context["tuned"] =
            "\(trials.count) trials on \(validation.description), best validation \(metric) "
            + String(format: "%.4f", best.value!)
        try AtomicFile.write(
            bestYAML(best, test: test, trials: trials.count, validation: validation.description),
            to: folder.appendingPathComponent("best.yaml").path)
        try AtomicFile.write(
            TuningReport.html(
                tuner: tuner, trials: trials, best: best, test: test, validation: validation.description),
            to: folder.appendingPathComponent("report.html").path)
        if json {
            var object = EvaluationJSON.object(test)
            object["settings"] = best.settings
            object["validation"] = [
                "metric": metric.description, "value": best.value!, "trial": best.trial, "trials": trials.count,
                "split": validation.description,
            ]
            object["out"] = folder.path
            try Terminal.printJSON(object)
        } else {
            print(Report.markdown([test], title: "Tuned \(model)"), terminator: "")
            print(
                "\nBest of \(trials.count) trials (validation \(metric) \(String(format: "%.4f", best.value!))): "
                    + best.settings.keys.sorted().map { "\($0)=\(best.settings[$0]!)" }.joined(separator: " "))
            print("Settings: \(folder.path)/best.yaml (reckit train --config); report: \(folder.path)/report.html")
        }
    }

    /// The search `tune` and tuning suite entries run: a validation split cut from `split`'s training part
    /// by `validationMethod` (seeded by `seed`), then trials until the budget or time is spent, kept in
    /// `folder/trials.jsonl`; progress on stderr unless `quiet`.
    static func search(
        model: String, fixed: [String: String], space: SearchSpace, split: Split, validationMethod: String,
        seed: UInt64, metric: MetricSpec, seeds: Int, searchSeed: UInt64, budget: Int?, time: TimeInterval?,
        halving: SuccessiveHalving? = nil, folder: URL, quiet: Bool
    ) throws -> (Tuner, Split, [TrialRecord]) {
        guard split.negatives == nil, split.foldIn == nil else {
            throw ValidationError("tune measures full-ranking (or rating) splits, not the sampled or users:F protocols")
        }
        guard let method = SplitMethod(argument: validationMethod) else {
            throw ValidationError("'\(validationMethod)' is not a split method such as holdout:0.2")
        }
        let (fit, heldOut) = try split.train.split(method, seed: seed)
        var validation = Split(
            train: fit, test: heldOut, users: split.users, items: split.items,
            description: "\(validationMethod) of the training part, seed \(seed)")
        validation.side = split.side
        validation.candidates = method.candidates(train: fit)
        let tuner: Tuner
        do {
            tuner = try Tuner(
                model: model, space: space, fixed: fixed, metric: metric, seed: searchSeed, seeds: seeds,
                resultsFile: folder.appendingPathComponent("trials.jsonl"), halving: halving)
        } catch { throw ValidationError("\(error)") }
        var bestSoFar: Double?
        var rungSoFar: Int?
        let trials = try tuner.search(validation: validation, budget: budget, timeLimit: time) { record, resumed in
            if record.rung != rungSoFar { (bestSoFar, rungSoFar) = (nil, record.rung) } // values of a rung compare
            if let value = record.value {
                bestSoFar = bestSoFar.map { tuner.higherIsBetter ? max($0, value) : min($0, value) } ?? value
            }
            guard !quiet else { return }
            let settings = record.settings.keys.sorted().map { "\($0)=\(record.settings[$0]!)" }.joined(separator: " ")
            let value = record.value.map { String(format: "%.4f", $0) } ?? "failed (\(record.error ?? ""))"
            Terminal.error(
                "\(resumed ? "resumed" : "trial") \(record.trial)\(record.rung.map { " (rung \($0))" } ?? ""): "
                    + "\(metric) \(value)  best "
                    + "\(bestSoFar.map { String(format: "%.4f", $0) } ?? "-")  \(settings)  "
                    + String(format: "%.1f s", record.seconds))
        }
        return (tuner, validation, trials)
    }

    /// The best settings as a flat mapping `reckit train --config` reads, with where they came from.
    func bestYAML(_ best: TrialRecord, test: EvaluationResult, trials: Int, validation: String) -> String {
        var text = "# reckit tune --model \(model): chosen on validation (\(validation)), \(trials) trials;\n"
        text += "# validation \(metric) \(String(format: "%.6f", best.value!)) (trial \(best.trial)); tested once: "
        text += test.metrics.map { "\($0.name) \(String(format: "%.4f", $0.value))" }.joined(separator: ", ") + "\n"
        for key in best.settings.keys.sorted() { text += "\(key): \(yamlScalar(best.settings[key]!))\n" }
        return text
    }

    func yamlScalar(_ text: String) -> String {
        Double(text) != nil || ["true", "false"].contains(text) ? text : "\"\(text)\""
    }
}

/// Search-space files: one YAML mapping of setting → range, list or fixed value.
enum SpaceFile {
    static func read(_ path: String) throws -> SearchSpace {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RuntimeError("\(path): cannot be read")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw RuntimeError("\(path): not valid YAML: \(error)") }
        guard let mapping = root?.mapping else {
            throw RuntimeError("\(path): expected one `setting: range` line per setting")
        }
        var dimensions: [String: SearchSpace.Dimension] = [:]
        for (key, value) in mapping {
            let place = "\(path)\(value.mark.map { ":\($0.line):\($0.column)" } ?? "")"
            guard let name = key.scalar?.string else { throw RuntimeError("\(place): a setting name must be text") }
            if let scalar = value.scalar?.string {
                dimensions[name] = .fixed(scalar)
            } else if let list = value.sequence {
                let values = list.compactMap { $0.scalar?.string }
                guard !values.isEmpty, values.count == list.count else {
                    throw RuntimeError("\(place): \(name): a list of values to choose from, e.g. [cosine, bm25]")
                }
                dimensions[name] = .choice(values)
            } else if let range = value.mapping, range.count == 1, let kind = range.keys.first?.scalar?.string,
                let bounds = range.values.first?.sequence, bounds.count == 2,
                let low = bounds[0].scalar.flatMap({ Double($0.string) }),
                let high = bounds[1].scalar.flatMap({ Double($0.string) })
            {
                guard low <= high else { throw RuntimeError("\(place): \(name): the low bound is above the high one") }
                switch kind {
                case "uniform": dimensions[name] = .uniform(low, high)
                case "log":
                    guard low > 0 else { throw RuntimeError("\(place): \(name): a log range needs bounds above 0") }
                    dimensions[name] = .logUniform(low, high)
                case "int", "logint":
                    guard low == low.rounded(), high == high.rounded() else {
                        throw RuntimeError("\(place): \(name): \(kind) bounds must be whole numbers")
                    }
                    guard kind == "int" || low >= 1 else {
                        throw RuntimeError("\(place): \(name): a logint range needs bounds of at least 1")
                    }
                    dimensions[name] = .integer(Int(low), Int(high), log: kind == "logint")
                default:
                    throw RuntimeError("\(place): \(name): '\(kind)' is not uniform, log, int or logint")
                }
            } else {
                throw RuntimeError(
                    "\(place): \(name): expected {uniform|log|int|logint: [low, high]}, a list, or a value")
            }
        }
        return SearchSpace(dimensions)
    }
}
