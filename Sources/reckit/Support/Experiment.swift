import ArgumentParser
import Foundation
import RecKit

/// What `evaluate` and `benchmark` share: a split (of a data set, or read from a split folder) and
/// one model trained on its training part and measured on its test part.
enum Experiment {
    /// Where the split comes from: `data` split by `method`, or the files of `splitDirectory`.
    struct SplitSource {
        var data: String?
        var method = "holdout:0.2"
        var splitDirectory: String?
        var positiveThreshold: Float?
        var seed: UInt64 = 42
        /// A feature file (`--features`) for feature models, else the data's default set.
        var featuresFile: String?
        /// Feature columns given inline (a suite's `features:` mapping).
        var features: FeatureSpec?

        /// - Throws: `ValidationError` naming the problem.
        func validate() throws {
            if data == nil && splitDirectory == nil {
                throw ValidationError("give --data (with --split) or --split-dir")
            }
            if splitDirectory != nil && positiveThreshold != nil {
                throw ValidationError("--positive-threshold applies to --data alone, not to a split folder")
            }
            if data != nil && SplitMethod(argument: method) == nil && !MovieLens.predefinedSplitNames.contains(method) {
                throw ValidationError(
                    "split '\(method)' is not one of random:F, holdout:F[:MIN], leave-last-out[:N], temporal:F, "
                        + "users:F[:T], cold-users:F, cold-items:F, or u1–u5/ua/ub (MovieLens 100K)"
                )
            }
        }

        /// The split and the context that reproduces it (source, split, seed, fingerprints).
        func load(_ options: LoadOptions, quiet: Bool) throws -> (Split, [String: String]) {
            var context: [String: String] = ["reckit": RecKitVersion.current]
            var split: Split
            if let splitDirectory {
                split = try Terminal.withTicker("reading \(splitDirectory)", quiet: quiet) {
                    try SplitDirectory.load(splitDirectory)
                }
                context["split"] = splitDirectory
                if let data {
                    // The data set gives the split folder its side data (titles, genres, user attributes).
                    let dataset = try options.load(data, quiet: quiet)
                    split.side = dataset.side(alignedTo: split.users, items: split.items)
                    context["side_data"] = data
                }
            } else {
                let data = self.data!
                var dataset = try options.load(data, quiet: quiet)
                if let positiveThreshold {
                    dataset.interactions = dataset.interactions.keepingRatings(atLeast: positiveThreshold)
                    context["positives"] = "rating >= \(positiveThreshold)"
                }
                if let splitMethod = SplitMethod(argument: method) {
                    split = try dataset.split(splitMethod, seed: seed)
                } else {
                    guard dataset.format == .movieLens100K else {
                        throw ValidationError(
                            "split \(method) is one of MovieLens 100K's own splits; the data must be that folder")
                    }
                    let folder = Dataset.folderOf(data, file: "u.data")
                    let (train, test) = try MovieLens.predefinedSplit(method, folder: folder, dataset: dataset)
                    split = Split(
                        train: train, test: test, users: dataset.users, items: dataset.items,
                        description: "MovieLens 100K \(method)")
                    split.side = dataset.side
                }
                context["data"] = data
                context["split"] = split.description
                context["seed"] = String(seed)
            }
            if let features { split.side.features = features }
            if let featuresFile {
                split.side.features = try FeatureFile.read(featuresFile)
                context["features"] = featuresFile
            }
            context["train_fingerprint"] = split.train.fingerprint()
            context["test_fingerprint"] = split.test.fingerprint()
            return (split, context)
        }
    }

    /// `ndcg@10,recall@20` → metrics.
    static func metrics(_ text: String) throws -> [MetricSpec] {
        try text.split(separator: ",").map { name in
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let metric = MetricSpec(trimmed) else {
                throw ValidationError("unknown metric '\(trimmed)' (e.g. ndcg@10, recall@20, auc)")
            }
            return metric
        }
    }

    /// Whether a split is evaluated by the sampled protocol: `auto` when it has negatives.
    /// - Throws: `ValidationError` when `sampled` is asked of a split without negatives.
    static func isSampled(_ protocolName: String, _ split: Split) throws -> Bool {
        let sampled = protocolName == "sampled" || (protocolName == "auto" && split.negatives != nil)
        if sampled && split.negatives == nil {
            throw ValidationError("the sampled protocol needs a split folder with negatives.tsv")
        }
        return sampled
    }

    /// The metrics reported when none are asked for.
    static func defaultMetrics(sampled: Bool) -> [MetricSpec] {
        sampled ? [.hitRate(10), .ndcg(10)] : MetricSpec.defaults
    }

    /// `run` once per seed for a seeded model (its settings not fixing `seed`), averaged into mean ±
    /// sample standard deviation; once for anything else.
    static func run(
        _ model: ConfiguredModel, label: String? = nil, seeds: [UInt64]?, split: Split, metrics: [MetricSpec],
        sampled: Bool, batchSize: Int, threadCount: Int, quiet: Bool
    ) throws -> EvaluationResult {
        guard model.isSeeded, let seeds, seeds.count > 1 else {
            let fixed = try model.isSeeded ? (seeds?.first).map(model.seeded) ?? model : model
            return try run(
                fixed, label: label, split: split, metrics: metrics, sampled: sampled,
                batchSize: batchSize, threadCount: threadCount, quiet: quiet)
        }
        let runs = try seeds.map { seed in
            try run(
                try model.seeded(seed), label: label, split: split, metrics: metrics,
                sampled: sampled, batchSize: batchSize, threadCount: threadCount, quiet: quiet)
        }
        var result = EvaluationResult.averaged(over: runs)
        result.context["seeds"] = seeds.map(String.init).joined(separator: ",")
        result.context["settings"] = model.settingsDescription
        return result
    }

    /// Trains `model` on the split's training part and evaluates it: rating metrics through the
    /// rating evaluator, the sampled protocol when asked, else full ranking.
    static func run(
        _ model: ConfiguredModel, label: String? = nil, split: Split, metrics: [MetricSpec], sampled: Bool,
        batchSize: Int, threadCount: Int, quiet: Bool
    ) throws -> EvaluationResult {
        let name = label ?? model.name
        let start = Date()
        let trained = try Terminal.withProgress("training \(name)", quiet: quiet) { report in
            try model.fit(split.train, validation: nil, side: split.side, context: TrainingContext(progress: report))
        }
        let fitSeconds = Date().timeIntervalSince(start)
        var result = try Terminal.withTicker("evaluating \(name)", quiet: quiet) {
            let ratingMetrics = metrics.filter(\.isRatingMetric)
            if split.foldIn != nil && (sampled || !ratingMetrics.isEmpty) {
                throw ValidationError(
                    "a users:F split (strong generalisation) is evaluated by full ranking; test-pair metrics (rmse, "
                        + "roc_auc, …) and the sampled protocol do not apply")
            }
            if !ratingMetrics.isEmpty {
                guard let predictor = trained as? any RatingPredictor else {
                    throw ValidationError(
                        "\(model.name) does not predict ratings; test-pair metrics (rmse, roc_auc, …) need a rating "
                            + "model such as svd, or a feature model such as fm")
                }
                guard ratingMetrics.count == metrics.count else {
                    throw ValidationError(
                        "evaluate test-pair metrics (rmse, roc_auc, …) and ranking metrics in separate runs")
                }
                return try RatingEvaluator(metrics: ratingMetrics).evaluate(
                    predictor, train: split.train, test: split.test)
            }
            if sampled {
                return try SampledEvaluator(metrics: metrics).evaluate(
                    trained, train: split.train, test: split.test, negatives: split.negatives!)
            }
            let bar = ProgressBar("evaluating \(name)", quiet: quiet)
            return try FullRankingEvaluator(
                metrics: metrics, batchSize: batchSize, threadCount: threadCount, progress: { bar.update($0, $1) }
            )
            .evaluate(trained, train: split.train, test: split.test, foldIn: split.foldIn, candidates: split.candidates)
        }
        result.model = name
        result.fitSeconds = fitSeconds
        result.context["settings"] = model.settingsDescription
        return result
    }

    /// The next-item validation part of `--validation`: the training data without the validation
    /// file's sequences (matched by ID) to fit on, and the validation sequences' cases over the items
    /// that part has.
    static func validation(train: Dataset, validation: Dataset) -> SequenceValidation {
        let heldOut = Set(validation.users.ids)
        let fit = train.interactions.filteringRows {
            !heldOut.contains(train.users.id(at: train.interactions.users[$0]))
        }
        var known = Set<String>()
        for item in Set(fit.items) { known.insert(train.items.id(at: item)) }
        let fitItems = IDMap(sorting: known)
        // Cases over the fit part's items, re-indexed into the training data's map.
        let cases = validation.nextItemCases(items: fitItems).cases.map { nextCase in
            NextItemCase(
                sessionID: nextCase.sessionID,
                prefix: nextCase.prefix.map { train.items.index(of: fitItems.id(at: $0))! },
                target: train.items.index(of: fitItems.id(at: nextCase.target))!, contexts: nextCase.contexts)
        }
        return SequenceValidation(fit: fit, cases: cases)
    }

    /// Trains `model` on `train` (epochs chosen on `validation` when given) and runs the next-item
    /// protocol on `cases`; over seeds, mean ± sd.
    static func runNextItem(
        _ model: ConfiguredModel, seeds: [UInt64]?, train: Interactions, cases: NextItemCases,
        validation: SequenceValidation?, side: SideData = SideData(), metrics: [MetricSpec], batchSize: Int,
        threadCount: Int, quiet: Bool, context: [String: String]
    ) throws -> EvaluationResult {
        func once(_ model: ConfiguredModel) throws -> EvaluationResult {
            let start = Date()
            let trained = try Terminal.withProgress("training \(model.name)", quiet: quiet) { report in
                try model.fit(train, validation: validation, side: side, context: TrainingContext(progress: report))
            }
            let fitSeconds = Date().timeIntervalSince(start)
            let bar = ProgressBar("evaluating \(model.name)", quiet: quiet)
            var result = try NextItemEvaluator(
                metrics: metrics, batchSize: batchSize, threadCount: threadCount, progress: { bar.update($0, $1) }
            ).evaluate(trained, cases: cases, trainInteractionCount: train.count)
            result.fitSeconds = fitSeconds
            result.context = context.merging(["settings": model.settingsDescription].compactMapValues { $0 }) { $1 }
            return result
        }
        guard model.isSeeded, let seeds, seeds.count > 1 else {
            return try once(try model.isSeeded ? (seeds?.first).map(model.seeded) ?? model : model)
        }
        var result = EvaluationResult.averaged(over: try seeds.map { try once(try model.seeded($0)) })
        result.context["seeds"] = seeds.map(String.init).joined(separator: ",")
        return result
    }

    /// Trains `model` on all of `train` and ranks the pairs of `test` (matched by user and item ID;
    /// pairs of unknown users left out, items the model never saw kept as relevant but unreachable).
    static func runPaired(
        _ model: ConfiguredModel, train: Dataset, test: Dataset, metrics: [MetricSpec], batchSize: Int,
        threadCount: Int, quiet: Bool, context: [String: String]
    ) throws -> EvaluationResult {
        let start = Date()
        let trained = try Terminal.withProgress("training \(model.name)", quiet: quiet) { report in
            try TrainedModel(training: model, on: train, context: TrainingContext(progress: report))
        }
        let fitSeconds = Date().timeIntervalSince(start)
        let setting = trained.evaluationSetting(test: test.interactions, users: test.users, items: test.items)
        if setting.droppedPairs > 0 && !quiet {
            Terminal.error("\(setting.droppedPairs) test pairs name users not in training; they are left out")
        }
        var result = try FullRankingEvaluator(metrics: metrics, batchSize: batchSize, threadCount: threadCount)
            .evaluate(setting.model, train: setting.train, test: setting.test)
        result.model = model.name
        result.fitSeconds = fitSeconds
        result.context = context.merging(["settings": model.settingsDescription].compactMapValues { $0 }) { $1 }
        return result
    }
}
