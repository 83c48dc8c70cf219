import ArgumentParser
import Foundation
import RecKit
import Yams

struct Benchmark: AsyncParsableCommand, TrainsModels {
    static let configuration = CommandConfiguration(
        abstract: "Run a benchmark suite (YAML: data sets × models with their settings) and write the leaderboards.",
        discussion: """
            A suite names data sets (a data folder or file with a split, or a split folder) and models, each
            with its own settings and an optional label, so one run compares several settings of a model:

              title: ml-100k, all ratings as positives
              metrics: [ndcg@10, recall@20]          # default: the @10 set (hr@10, ndcg@10 on sampled splits)
              datasets:
                - split_dir: ../shared/peers/splits/ml-100k/topn_user_holdout20_all_ratings_seed42
                  name: ml-100k                      # default: the path
                - data: ../shared/data/ml-latest-small-2016
                  split: holdout:0.2                 # default holdout:0.2; seed (42), positive_threshold
              models:
                - popularity
                - model: ials
                  settings: {factors: 64, alpha: 1}
                - model: bpr
                  name: bpr-warp                     # default: the model name
                  settings: {sampling: warp, epochs: 40}
                - model: ease
                  datasets: [ml-100k]                # only these data sets (by name)
                  tune: {budget: 30}                 # settings chosen by `reckit tune` on each data set first
                                                     # (budget, time: 10m, space: FILE.yaml, metric: ndcg@10)

            Relative paths are read from the suite file's folder. Every entry is checked before anything
            is trained; an error names the file, line and field.
            """)

    @Argument(help: "The suite file (YAML).") var suite: String
    @Flag(help: "Print one JSON object on stdout: {\"title\", \"datasets\": [{\"name\", \"results\": [...]}]}.")
    var json = false
    @Option(help: "Write an HTML report (tables and SVG charts per data set) here.") var report: String?
    @Option(help: "Write the Markdown leaderboards here.") var markdown: String?
    @Option(help: "Users per scoring batch.") var batchSize = 256
    @Option(help: "Worker threads for evaluation (default: all cores).") var threads: Int?
    @Flag(help: "No progress on stderr.") var quiet = false
    @Option(help: "Where entries with `tune:` keep their trials (DIR/DATASET/ENTRY/trials.jsonl; resumable).")
    var tuneDir = "tune-runs"

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        let plan = try BenchmarkSuite.read(suite)
        let quiet = self.quiet || json
        var sections: [Report.Section] = []
        var datasets: [[String: Any]] = []
        for dataset in plan.datasets {
            if !quiet { Terminal.error("== \(dataset.name)") }
            let (split, context) = try dataset.source.load(try LoadOptions.parse([]), quiet: quiet) // formats detected
            let sampled: Bool
            do { sampled = try Experiment.isSampled(plan.protocolName, split) } catch {
                throw ValidationError("\(dataset.name): \(error)")
            }
            let metrics = plan.metrics ?? Experiment.defaultMetrics(sampled: sampled)
            var results: [EvaluationResult] = []
            for entry in plan.models where entry.datasets?.contains(dataset.name) ?? true {
                let model = try entry.tune.map { try tuned(entry, tune: $0, dataset: dataset, split: split) }
                var result = try Experiment.run(
                    model?.0 ?? entry.model, label: entry.label, seeds: entry.seeds ?? plan.seeds, split: split,
                    metrics: metrics,
                    sampled: sampled, batchSize: batchSize, threadCount: threads ?? Parallel.defaultThreadCount,
                    quiet: quiet)
                result.context.merge(context) { own, _ in own }
                result.context["model_kind"] = entry.model.name
                if let (_, note) = model { result.context["tuned"] = note }
                results.append(result)
            }
            sections.append(Report.Section(title: dataset.name, results: results))
            datasets.append(["name": dataset.name, "context": context, "results": results.map(EvaluationJSON.object)])
        }
        if let report { try AtomicFile.write(Report.html(sections: sections, title: plan.title), to: report) }
        if let markdown { try AtomicFile.write(Report.markdown(sections: sections, title: plan.title), to: markdown) }
        if json {
            let object: [String: Any] = ["title": plan.title, "suite": suite, "datasets": datasets]
            try Terminal.printJSON(object)
        } else {
            print(Report.markdown(sections: sections, title: plan.title), terminator: "")
        }
    }
}

extension Benchmark {
    /// `entry` with the settings `reckit tune`'s search picks on a validation split cut from `split`'s
    /// training part (as `tune` cuts it), and a note of what was searched.
    func tuned(
        _ entry: BenchmarkSuite.ModelEntry, tune: BenchmarkSuite.TuneSpec, dataset: BenchmarkSuite.DataSet, split: Split
    )
        throws -> (ConfiguredModel, String)
    {
        // As `reckit tune` cuts it: the data set's own split method, or (split folders, MovieLens's u1–u5)
        // a per-user holdout.
        let own = dataset.source.method
        let method = dataset.source.data != nil && SplitMethod(argument: own) != nil ? own : "holdout:0.2"
        let folder = URL(fileURLWithPath: tuneDir).appendingPathComponent(Self.slug(dataset.name))
            .appendingPathComponent(Self.slug(entry.label))
        let (tuner, validation, trials) = try Tune.search(
            model: entry.model.name, fixed: entry.model.given, space: tune.space, split: split,
            validationMethod: method, seed: dataset.source.seed &+ 1, metric: tune.metric, seeds: 1, searchSeed: 0,
            budget: tune.budget, time: tune.time, halving: tune.halving, folder: folder, quiet: quiet || json)
        guard let best = tuner.best(of: trials) else {
            throw RuntimeError("\(dataset.name) \(entry.label): no trial succeeded; see \(folder.path)/trials.jsonl")
        }
        let note =
            "\(trials.count) trials on \(validation.description), best validation \(tune.metric) "
            + String(format: "%.4f", best.value!)
        return (try ConfiguredModel(entry.model.name, settings: best.settings), note)
    }

    /// A folder name for a label: letters, digits, dots and dashes.
    static func slug(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
    }
}

/// A parsed and checked suite file.
struct BenchmarkSuite {
    struct DataSet {
        var name: String
        var source: Experiment.SplitSource
    }

    struct ModelEntry {
        var model: ConfiguredModel
        var label: String
        var seeds: [UInt64]?
        /// The data sets (by name) the entry runs on; nil: all.
        var datasets: Set<String>?
        /// Settings chosen by a tuning search on each data set first.
        var tune: TuneSpec?
    }

    struct TuneSpec {
        var budget: Int?
        var time: TimeInterval?
        var space: SearchSpace
        var metric = MetricSpec.ndcg(10)
        /// Successive halving over the model's epochs instead of random search.
        var halving: SuccessiveHalving?
    }

    var title: String
    var metrics: [MetricSpec]?
    /// Seeds for every seeded model (`seeds: 5` is 0…4), unless an entry gives its own.
    var seeds: [UInt64]?
    var protocolName = "auto"
    var datasets: [DataSet] = []
    var models: [ModelEntry] = []

    typealias Problem = YAMLProblem

    /// Reads and checks `path`: every field, model setting and path is validated before the caller
    /// trains anything.
    static func read(_ path: String) throws -> BenchmarkSuite {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RuntimeError("\(path): cannot be read")
        }
        let root = try YAMLProblem.compose(text, path: path, field: "suite")
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        func problem(_ node: Node?, _ field: String, _ message: String) -> Problem {
            Problem(path: path, mark: node?.mark, field: field, message: message)
        }
        func mapping(_ node: Node, _ field: String, keys: Set<String>) throws -> Node.Mapping {
            guard let mapping = node.mapping else {
                throw problem(node, field, "expected a mapping (key: value lines)")
            }
            for (key, _) in mapping {
                guard let name = key.string, keys.contains(name) else {
                    throw problem(
                        key, field,
                        "unknown key '\(key.string ?? "?")'; expected one of \(keys.sorted().joined(separator: ", "))")
                }
            }
            return mapping
        }
        func scalar(_ node: Node, _ field: String) throws -> String {
            guard let value = node.scalar?.string else { throw problem(node, field, "expected a single value") }
            return value
        }
        func resolved(_ value: String) -> String {
            value.hasPrefix("/") || value.hasPrefix("synthetic:") ? value : folder + "/" + value
        }

        func seeds(_ node: Node, _ field: String) throws -> [UInt64] {
            if let list = node.sequence {
                let values = try list.map { item -> UInt64 in
                    guard let value = UInt64(try scalar(item, field)) else {
                        throw problem(item, field, "seeds are whole numbers ≥ 0")
                    }
                    return value
                }
                guard !values.isEmpty, Set(values).count == values.count else {
                    throw problem(node, field, "give distinct seeds")
                }
                return values
            }
            guard let count = Int(try scalar(node, field)), count >= 1, count <= 1000 else {
                throw problem(node, field, "a count of seeds (1…1000) or a list of seeds")
            }
            return (0..<UInt64(count)).map { $0 }
        }

        let top = try mapping(root, "suite", keys: ["title", "metrics", "protocol", "seeds", "datasets", "models"])
        let suiteSeeds = try top["seeds"].map { try seeds($0, "seeds") }
        var suite = BenchmarkSuite(
            title: try top["title"].map { try scalar($0, "title") } ?? "RecKit benchmark", seeds: suiteSeeds)
        if let node = top["metrics"] {
            let names = try node.sequence.map { try $0.map { try scalar($0, "metrics") } } ?? [scalar(node, "metrics")]
            do { suite.metrics = try Experiment.metrics(names.joined(separator: ",")) } catch {
                throw problem(node, "metrics", "\(error)")
            }
        }
        if let node = top["protocol"] {
            suite.protocolName = try scalar(node, "protocol")
            guard ["auto", "full", "sampled"].contains(suite.protocolName) else {
                throw problem(node, "protocol", "must be auto, full or sampled")
            }
        }
        guard let datasetNodes = top["datasets"]?.sequence, !datasetNodes.isEmpty else {
            throw problem(top["datasets"] ?? root, "datasets", "a non-empty list of data sets is required")
        }
        for (index, node) in datasetNodes.enumerated() {
            let field = "datasets[\(index)]"
            let entry = try mapping(
                node, field, keys: ["name", "data", "split_dir", "split", "seed", "positive_threshold", "features"])
            var source = Experiment.SplitSource()
            source.data = try entry["data"].map { resolved(try scalar($0, field + ".data")) }
            source.splitDirectory = try entry["split_dir"].map { resolved(try scalar($0, field + ".split_dir")) }
            if let split = entry["split"] { source.method = try scalar(split, field + ".split") }
            if let seed = entry["seed"] {
                guard let value = UInt64(try scalar(seed, field + ".seed")) else {
                    throw problem(seed, field + ".seed", "must be a whole number ≥ 0")
                }
                source.seed = value
            }
            if let threshold = entry["positive_threshold"] {
                guard let value = Float(try scalar(threshold, field + ".positive_threshold")) else {
                    throw problem(threshold, field + ".positive_threshold", "must be a number")
                }
                source.positiveThreshold = value
            }
            do { try source.validate() } catch { throw problem(node, field, "\(error) (give data or split_dir)") }
            if source.splitDirectory != nil,
                let extra = ["split", "seed", "positive_threshold"].first(where: { entry[$0] != nil })
            {
                throw problem(
                    entry[extra], field + "." + extra, "applies to data, not to a split folder (its split is fixed)")
            }
            for (key, location) in [("split_dir", source.splitDirectory), ("data", source.data)] {
                guard let location else { continue }
                if key == "data" {
                    do { if try SyntheticData.location(location) != nil { continue } } catch {
                        throw problem(entry[key], field + "." + key, "\(error)")
                    }
                }
                guard !FileManager.default.fileExists(atPath: location) else { continue }
                throw problem(entry[key], field + "." + key, "\(location) does not exist")
            }
            if let node = entry["features"] {
                if node.mapping != nil {
                    source.features = try FeatureFile.spec(node, path: path, field: field + ".features")
                } else {
                    let file = resolved(try scalar(node, field + ".features"))
                    _ = try FeatureFile.read(file)
                    source.featuresFile = file
                }
            }
            let name =
                try entry["name"].map { try scalar($0, field + ".name") }
                ?? (entry["split_dir"] ?? entry["data"]).flatMap(\.string) ?? source.splitDirectory ?? source.data ?? ""
            suite.datasets.append(DataSet(name: name, source: source))
        }
        guard let modelNodes = top["models"]?.sequence, !modelNodes.isEmpty else {
            throw problem(top["models"] ?? root, "models", "a non-empty list of models is required")
        }
        var labels: [String: [Set<String>?]] = [:] // the data sets each label already runs on
        for (index, node) in modelNodes.enumerated() {
            let field = "models[\(index)]"
            let kindNode: Node
            let label: String?
            var settings: [String: String] = [:]
            var settingsNode = node
            var entrySeeds: [UInt64]?
            var entryDatasets: Set<String>?
            var tuneNode: Node?
            if node.scalar != nil {
                kindNode = node
                label = nil
            } else {
                let entry = try mapping(
                    node, field, keys: ["model", "name", "settings", "seeds", "datasets", "tune"])
                entrySeeds = try entry["seeds"].map { try seeds($0, field + ".seeds") }
                if let node = entry["datasets"] {
                    let names = try (node.sequence ?? [node]).map { try scalar($0, field + ".datasets") }
                    let known = Set(suite.datasets.map(\.name))
                    if let unknown = names.first(where: { !known.contains($0) }) {
                        throw problem(
                            node, field + ".datasets",
                            "'\(unknown)' is not a data set of this suite (\(known.sorted().joined(separator: ", ")))")
                    }
                    entryDatasets = Set(names)
                }
                tuneNode = entry["tune"]
                guard let model = entry["model"] else { throw problem(node, field + ".model", "is required") }
                kindNode = model
                label = try entry["name"].map { try scalar($0, field + ".name") }
                if let given = entry["settings"] {
                    settingsNode = given
                    guard let pairs = settingsNode.mapping else {
                        throw problem(settingsNode, field + ".settings", "expected key: value pairs")
                    }
                    for (key, value) in pairs {
                        settings[try scalar(key, field + ".settings")] = try scalar(
                            value, field + ".settings.\(key.string ?? "?")")
                    }
                }
            }
            let name = try scalar(kindNode, field + ".model")
            let configured: ConfiguredModel
            do { _ = try ModelRegistry.model(named: name) } catch {
                throw problem(kindNode, field + ".model", error.message)
            }
            do { configured = try ConfiguredModel(name, settings: settings) } catch {
                throw problem(settingsNode, field + ".settings", error.description)
            }
            let entryLabel = label ?? name
            let overlapping = (labels[entryLabel] ?? []).contains { other in
                guard let other, let entryDatasets else { return true }
                return !other.isDisjoint(with: entryDatasets)
            }
            guard !overlapping else {
                throw problem(node, field + ".name", "'\(entryLabel)' is used twice; give each entry of a model a name")
            }
            labels[entryLabel, default: []].append(entryDatasets)
            var tune: TuneSpec?
            if let tuneNode {
                let spec = try mapping(
                    tuneNode, field + ".tune", keys: ["budget", "time", "space", "metric", "strategy"])
                let budget = try spec["budget"].map { node -> Int in
                    guard let value = Int(try scalar(node, field + ".tune.budget")), value >= 1 else {
                        throw problem(node, field + ".tune.budget", "must be a whole number ≥ 1")
                    }
                    return value
                }
                let time = try spec["time"].map { node -> TimeInterval in
                    guard let value = Tune.seconds(try scalar(node, field + ".tune.time")) else {
                        throw problem(node, field + ".tune.time", "must look like 90s, 10m or 1h")
                    }
                    return value
                }
                guard budget != nil || time != nil else {
                    throw problem(tuneNode, field + ".tune", "give budget (trials) or time (e.g. 10m)")
                }
                let space: SearchSpace
                if let node = spec["space"] {
                    space = try SpaceFile.read(resolved(try scalar(node, field + ".tune.space")))
                } else if let defaults = SearchSpace.defaults(for: name) {
                    space = defaults
                } else {
                    throw problem(
                        tuneNode, field + ".tune", "\(name) has no default search space; give space: FILE.yaml")
                }
                var metric = MetricSpec.ndcg(10)
                if let node = spec["metric"] {
                    guard let value = MetricSpec(try scalar(node, field + ".tune.metric")) else {
                        throw problem(node, field + ".tune.metric", "unknown metric")
                    }
                    metric = value
                }
                var halving: SuccessiveHalving?
                if let node = spec["strategy"] {
                    switch try scalar(node, field + ".tune.strategy") {
                    case "random": break
                    case "halving":
                        guard let budget else {
                            throw problem(tuneNode, field + ".tune", "halving needs budget: the settings to start")
                        }
                        do {
                            halving = try SuccessiveHalving.epochs(
                                of: name, fixed: settings, settingCount: budget)
                        } catch { throw problem(node, field + ".tune.strategy", "\(error)") }
                    default: throw problem(node, field + ".tune.strategy", "must be random or halving")
                    }
                }
                tune = TuneSpec(budget: budget, time: time, space: space, metric: metric, halving: halving)
            }
            suite.models.append(
                ModelEntry(
                    model: configured, label: entryLabel, seeds: entrySeeds, datasets: entryDatasets, tune: tune))
        }
        return suite
    }
}
