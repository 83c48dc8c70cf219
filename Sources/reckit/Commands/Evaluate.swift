import ArgumentParser
import Foundation
import RecKit

/// `--model NAME[,NAME…]` and `--set key=value`, decoded once into checked configurations.
struct ModelOptions: ParsableArguments {
    @Option(
        help:
            "Model(s), comma-separated: \(ModelRegistry.names.joined(separator: ", ")). `reckit models` describes them."
    )
    var model: String?

    @Option(
        name: .customLong("set"),
        help: "A model setting, key=value (repeatable; e.g. factors=64). `reckit models NAME` lists a model's settings."
    )
    var settings: [String] = []

    @Option(
        help: ArgumentHelp(
            "Feature columns for feature models (fm, deepfm, widedeep, mfdnn, mfside, mixture, vmf): a YAML file with "
                + "user:, item:, context: and crossed: lists (default: the data's own set; see the README)."))
    var features: String?

    var names: [String] {
        get throws {
            guard let model else { throw ValidationError("give --model NAME") }
            return model.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    var settingValues: [String: String] { get throws { try Self.parse(settings) } }

    /// `key=value` texts of `--set` → settings.
    static func parse(_ settings: [String]) throws -> [String: String] {
        var values: [String: String] = [:]
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ValidationError("--set expects key=value, not '\(setting)'")
            }
            values[parts[0]] = parts[1]
        }
        return values
    }

    /// Each `--model` with the `--set` settings (plus `extra`, which `--set` overrides), checked.
    func configured(adding extra: [String: String] = [:]) throws -> [ConfiguredModel] {
        let values = extra.merging(try settingValues) { _, new in new }
        return try names.map { name in
            do { return try ConfiguredModel(name, settings: values) } catch { throw ValidationError("\(error)") }
        }
    }

    func validate() throws {
        _ = try settingValues
        if let features { _ = try FeatureFile.read(features) }
        guard model != nil else { return } // commands that need a model check for it
        _ = try configured()
    }
}

struct Evaluate: AsyncParsableCommand, TrainsModels {
    static let configuration = CommandConfiguration(
        abstract:
            "Train and evaluate models on a split: full ranking by default, the NCF sampled protocol when the split "
            + "has negatives.",
        discussion: """
            Examples:
              reckit evaluate --data ratings.csv --split holdout:0.2 --model popularity --metrics ndcg@10,recall@20
              reckit evaluate --split-dir ../shared/peers/splits/ml-100k/topn_user_holdout20_all_ratings_seed42 \
            --model popularity --json
            Splits: random:F, holdout:F[:MIN_PER_USER] (default minimum 5), leave-last-out[:N], temporal:F,
            users:F[:T] (strong generalisation: a fraction F of the users held out of training and scored from
            their histories; T, default 0.2, of each one's interactions tested), cold-users:F (a fraction F of
            the users held out entirely, scored from their features by feature models), cold-items:F (a fraction F
            of the items held out entirely; each user's ranking is among them alone, scored from their features);
            u1–u5, ua, ub with --data pointing at the MovieLens 100K folder. Rating models (svd) report rmse, mae.
            """)

    @Option(help: "A data-set folder or interaction file to split (or synthetic:PRESET[:SEED], generated in memory).")
    var data: String?
    @Option(help: "How to split --data: random:0.1, holdout:0.2, leave-last-out, temporal:0.1, users:0.1.") var split =
        "holdout:0.2"
    @Option(help: "A folder with train.tsv and test.tsv (and negatives.tsv for the sampled protocol).") var splitDir:
        String?
    @Option(help: "A training file (with --test): a session click file or any interaction file.") var train: String?
    @Option(help: "The test file for --train; its items and users are matched to the training file's by ID.")
    var test: String?
    @Option(
        help: ArgumentHelp(
            "With --train/--test, next-item: validation sessions (later ones cut from the training file); models "
                + "that choose their epochs train on the training file without these sessions and measure them."))
    var validation: String?
    @OptionGroup var model: ModelOptions
    @Option(help: "Evaluate a saved model directory (from `reckit train`) instead of training --model.") var saved:
        String?
    @Option(help: "Metrics, comma-separated, e.g. ndcg@10,recall@20,coverage@10,auc (default: the @10 set).")
    var metrics: String?
    @Option(
        help: ArgumentHelp(
            "Protocol: auto (sampled when the split has negatives; next-item for --train session files), full, "
                + "sampled or next-item."))
    var `protocol` = "auto"
    @Option(
        help: ArgumentHelp(
            "With --data: rank each user's test item against N sampled items the user never had (SASRec's and "
                + "NCF's sampled protocol; needs one test item per user, e.g. leave-last-out)."))
    var sampledNegatives: Int?
    @Option(help: "Keep only ratings ≥ this value as positives (--data only).") var positiveThreshold: Float?
    @Option(help: "Seed for the split.") var seed: UInt64 = 42
    @Option(help: "Train seeded models with seeds 0..<N and report each metric's mean ± sample standard deviation.")
    var seeds: Int?
    @Option(help: "Users per scoring batch.") var batchSize = 256
    @Flag(help: "Print one JSON object on stdout (several models: {\"results\": [...]}).") var json = false
    @Option(help: "Write an HTML report here.") var report: String?
    @Option(help: "Write a Markdown leaderboard here.") var markdown: String?
    @Flag(help: "No progress on stderr.") var quiet = false
    @OptionGroup var load: LoadOptions

    var source: Experiment.SplitSource {
        Experiment.SplitSource(
            data: data, method: split, splitDirectory: splitDir, positiveThreshold: positiveThreshold, seed: seed,
            featuresFile: model.features)
    }

    func validate() throws {
        if train != nil || test != nil {
            guard train != nil, test != nil else { throw ValidationError("--train and --test go together") }
            guard data == nil, splitDir == nil else {
                throw ValidationError("give --train/--test, or --data, or --split-dir")
            }
            if saved != nil { throw ValidationError("--train/--test train models; give --model, not --saved") }
            if self.protocol == "sampled" { throw ValidationError("--train/--test take --protocol next-item or full") }
        } else {
            try source.validate()
            if validation != nil { throw ValidationError("--validation goes with --train/--test") }
            if self.protocol == "next-item" { throw ValidationError("--protocol next-item needs --train and --test") }
        }
        if (model.model == nil) == (saved == nil) { throw ValidationError("give exactly one of --model and --saved") }
        if let metrics { _ = try Experiment.metrics(metrics) }
        if !["auto", "full", "sampled", "next-item"].contains(self.protocol) {
            throw ValidationError("--protocol must be auto, full, sampled or next-item")
        }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let sampledNegatives {
            guard sampledNegatives >= 1 else { throw ValidationError("--sampled-negatives must be at least 1") }
            guard data != nil else { throw ValidationError("--sampled-negatives goes with --data") }
        }
        if let seeds, !(1...1000).contains(seeds) { throw ValidationError("--seeds must be in 1...1000") }
        if seeds != nil && saved != nil { throw ValidationError("--seeds trains models; it does not apply to --saved") }
    }

    func run() async throws {
        let quiet = self.quiet || json
        if let train, let test {
            try publish(try evaluateFiles(train: train, test: test, quiet: quiet))
            return
        }
        var (split, context) = try source.load(load, quiet: quiet)
        if let sampledNegatives {
            split = split.withSampledNegatives(sampledNegatives, seed: seed)
            context["split"] = split.description
        }
        let sampled = try Experiment.isSampled(self.protocol, split)
        let chosenMetrics = try metrics.map(Experiment.metrics) ?? Experiment.defaultMetrics(sampled: sampled)
        if let saved {
            try evaluateSaved(
                saved, split: split, metrics: chosenMetrics, sampled: sampled, context: context, quiet: quiet)
            return
        }
        var results: [EvaluationResult] = []
        for configured in try model.configured() {
            var result = try Experiment.run(
                configured, seeds: seeds.map { (0..<UInt64($0)).map { $0 } }, split: split, metrics: chosenMetrics,
                sampled: sampled, batchSize: batchSize, threadCount: load.threads ?? Parallel.defaultThreadCount,
                quiet: quiet)
            result.context.merge(context) { own, _ in own }
            results.append(result)
        }
        try publish(results)
    }

    /// A saved model on a split: the test pairs are re-indexed into the model's IDs and the model's own
    /// training pairs are excluded. Pairs of users the model does not know are left out (with a message);
    /// for ranking, test items it never saw stay relevant but unreachable (see
    /// `TrainedModel.evaluationSetting`), for ratings they are left out too.
    func evaluateSaved(
        _ path: String, split: Split, metrics: [MetricSpec], sampled: Bool, context: [String: String], quiet: Bool
    ) throws {
        let saved = try TrainedModel.load(path)
        var result: EvaluationResult
        if metrics.contains(where: \.isRatingMetric) {
            guard let predictor = saved.model as? any RatingPredictor else {
                throw ValidationError("\(saved.kind) does not predict ratings")
            }
            let (test, dropped) = saved.reindex(split.test, users: split.users, items: split.items)
            if dropped > 0 && !quiet {
                Terminal.error(
                    "\(dropped) of \(split.test.count) test ratings name users or items the model does not know; "
                        + "they are left out")
            }
            result = try RatingEvaluator(metrics: metrics).evaluate(
                predictor, train: saved.seenInteractions, test: test)
        } else if sampled {
            throw ValidationError("the sampled protocol with --saved is not supported; use --protocol full")
        } else {
            let setting = saved.evaluationSetting(test: split.test, users: split.users, items: split.items)
            if setting.droppedPairs > 0 && !quiet {
                Terminal.error(
                    "\(setting.droppedPairs) of \(split.test.count) test pairs name users the model does not know; "
                        + "they are left out")
            }
            if setting.unreachablePairs > 0 && !quiet {
                Terminal.error(
                    "\(setting.unreachablePairs) test pairs name items the model never saw; they count as relevant "
                        + "items no list contains")
            }
            result = try FullRankingEvaluator(
                metrics: metrics, batchSize: batchSize, threadCount: load.threads ?? Parallel.defaultThreadCount
            )
            .evaluate(setting.model, train: setting.train, test: setting.test)
        }
        result.context = context.merging(["saved_model": path, "model_training_fingerprint": saved.fingerprint]) { $1 }
        try publish([result])
    }

    /// `--train`/`--test`: next-item evaluation of session (or any time-ordered) files, or full ranking
    /// of the test file's pairs matched to the training file's users and items by ID.
    func evaluateFiles(train trainPath: String, test testPath: String, quiet: Bool) throws -> [EvaluationResult] {
        let trainData = try load.load(trainPath, quiet: quiet)
        let testData = try load.load(testPath, quiet: quiet)
        let nextItem = self.protocol == "next-item" || (self.protocol == "auto" && trainData.format == .sessions)
        let threads = load.threads ?? Parallel.defaultThreadCount
        var context: [String: String] = [
            "reckit": RecKitVersion.current, "train": trainPath, "test": testPath,
            "train_fingerprint": trainData.interactions.fingerprint(),
            "test_fingerprint": testData.interactions.fingerprint(),
        ]
        let chosen =
            try metrics.map(Experiment.metrics) ?? (nextItem ? NextItemEvaluator.defaultMetrics : MetricSpec.defaults)
        guard nextItem else {
            if validation != nil { throw ValidationError("--validation applies to --protocol next-item") }
            return try model.configured().map { configured in
                try Experiment.runPaired(
                    configured, train: trainData, test: testData, metrics: chosen, batchSize: batchSize,
                    threadCount: threads, quiet: quiet, context: context)
            }
        }
        let cases = testData.nextItemCases(items: trainData.items)
        if !quiet && (cases.removedClicks > 0 || cases.droppedSequences > 0) {
            Terminal.error(
                "\(testPath): \(cases.removedClicks) clicks on items not in training removed, "
                    + "\(cases.droppedSequences) sequences then shorter than 2 dropped")
        }
        var sequenceValidation: SequenceValidation?
        if let validation {
            let validationData = try load.load(validation, quiet: quiet)
            sequenceValidation = Experiment.validation(train: trainData, validation: validationData)
            context["validation"] = validation
        }
        return try model.configured().map { configured in
            try Experiment.runNextItem(
                configured, seeds: seeds.map { (0..<UInt64($0)).map { $0 } }, train: trainData.interactions,
                cases: cases, validation: sequenceValidation, side: trainData.side, metrics: chosen,
                batchSize: batchSize,
                threadCount: threads, quiet: quiet, context: context)
        }
    }

    func publish(_ results: [EvaluationResult]) throws {
        if let report { try AtomicFile.write(Report.html(results), to: report) }
        if let markdown { try AtomicFile.write(Report.markdown(results), to: markdown) }
        if json {
            let objects = results.map(EvaluationJSON.object)
            let output: Any
            if objects.count == 1 { output = objects[0] } else { output = ["results": objects] }
            try Terminal.printJSON(output)
        } else {
            print(Report.markdown(results, title: "Evaluation"), terminator: "")
        }
    }
}

/// The `--json` shape: metrics at the top level (`"ndcg@10": 0.21`) and under `metrics`, with the
/// protocol, counts and reproduction context.
enum EvaluationJSON {
    static func object(_ result: EvaluationResult) -> [String: Any] {
        var object: [String: Any] = [
            "model": result.model, "protocol": result.protocolKind.rawValue,
            "protocol_description": result.protocolDescription,
            "evaluated_users": result.evaluatedUserCount, "users": result.userCount, "items": result.itemCount,
            "train_interactions": result.trainInteractionCount, "test_interactions": result.testInteractionCount,
            "context": result.context,
            "metrics": Dictionary(uniqueKeysWithValues: result.metrics.map { ($0.name, $0.value) }),
            "definitions": Dictionary(uniqueKeysWithValues: result.metrics.map { ($0.name, $0.definition) }),
        ]
        if let fit = result.fitSeconds { object["fit_seconds"] = fit }
        if let seconds = result.evaluateSeconds { object["evaluate_seconds"] = seconds }
        if let runs = result.runCount { object["runs"] = runs }
        if let deviations = result.standardDeviations { object["standard_deviations"] = deviations }
        for metric in result.metrics { object[metric.name] = metric.value }
        return object
    }
}
