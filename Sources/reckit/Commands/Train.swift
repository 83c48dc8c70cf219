import ArgumentParser
import Foundation
import RecKit
import RecKitServe
import Yams

struct Train: AsyncParsableCommand, TrainsModels {
    static let configuration = CommandConfiguration(
        abstract: "Train a model on all of a data set (or a split's training part) and save it as a model directory.",
        discussion: """
            Example: reckit train --data ../shared/data/ml-latest-small-2016 --model ials --set factors=64 \
            --out models/ials
            --config FILE.yaml holds settings as a flat `key: value` mapping (the same keys as --set, which wins).
            --evaluate holdout:0.2 first trains the same settings on a split of the data and tests them on the
            rest; the numbers are saved with the model (GET /v1/models and the server's page show them).
            """)

    @Option(help: "A data-set folder or interaction file (or synthetic:PRESET[:SEED], generated in memory).")
    var data: String?
    @Option(help: "A split folder; its train.tsv is used.") var splitDir: String?
    @Option(help: "A server's event store to train on: sqlite:PATH or postgres://USER@HOST/DB (serve --events).")
    var events: String?
    @OptionGroup var model: ModelOptions
    @Option(help: "Settings file: a flat YAML mapping, key: value per line.") var config: String?
    @Option(help: "Keep only ratings ≥ this value as positives.") var positiveThreshold: Float?
    @Option(help: "The model directory to write.") var out: String
    @Option(
        help: ArgumentHelp(
            "Measure the settings on a split of the data first (holdout:0.2, leave-last-out, temporal:0.1, …) "
                + "and save the numbers with the model."))
    var evaluate: String?
    @Option(help: "Metrics for --evaluate (default: ndcg@10,recall@10,precision@10,coverage@10).") var metrics: String?
    @Option(help: "Seed for --evaluate's split.") var seed: UInt64 = 42
    @Flag(help: "No progress on stderr.") var quiet = false
    @OptionGroup var load: LoadOptions

    func validate() throws {
        if [splitDir ?? data, events].compactMap({ $0 }).count != 1 {
            throw ValidationError("give --data, --split-dir (with --data for its side data) or --events")
        }
        if try model.names.count != 1 { throw ValidationError("train takes one --model") } // names also demands --model
        if let evaluate, SplitMethod(argument: evaluate) == nil {
            throw ValidationError("--evaluate takes a split such as holdout:0.2, leave-last-out or temporal:0.1")
        }
        if let metrics { _ = try Experiment.metrics(metrics) }
        if metrics != nil && evaluate == nil { throw ValidationError("--metrics goes with --evaluate") }
    }

    func run() async throws {
        let fileSettings = try config.map { try SettingsFile.read($0, model: try model.names[0]) } ?? [:]
        let configured = try model.configured(adding: fileSettings)[0]
        var train: Interactions
        var users: IDMap
        var items: IDMap
        var titles: [String?]?
        var side = SideData()
        if let splitDir {
            let split = try SplitDirectory.load(splitDir)
            (train, users, items) = (split.train, split.users, split.items)
            if let data {
                side = try load.load(data, quiet: quiet).side(alignedTo: users, items: items)
                titles = side.items?.titles
            }
        } else if let events {
            let dataset: Dataset
            do { dataset = try Dataset(events: try await EventStores.open(events).allEvents(), name: events) } catch {
                throw RuntimeError("\(error)")
            }
            (train, users, items) = (dataset.interactions, dataset.users, dataset.items)
        } else {
            let dataset = try load.load(data!, quiet: quiet)
            (train, users, items) = (dataset.interactions, dataset.users, dataset.items)
            titles = dataset.itemCatalog?.titles
            side = dataset.side
        }
        side.features = try model.features.map(FeatureFile.read)
        if let threshold = positiveThreshold { train = train.keepingRatings(atLeast: threshold) }
        let trainingData = train
        var evaluation: [String: JSONValue]?
        if let evaluate, let method = SplitMethod(argument: evaluate) {
            let metrics = try Experiment.metrics(metrics ?? "ndcg@10,recall@10,precision@10,coverage@10")
            let dataset = Dataset(
                name: out, format: .delimited, interactions: trainingData, users: users, items: items,
                itemCatalog: side.items, userAttributes: side.users)
            var split = try dataset.split(method, seed: seed)
            split.side.features = side.features
            let curves = Self.curveMetrics(for: metrics, itemCount: items.count)
            let measured = metrics + curves.filter { curve in !metrics.contains(curve) }
            let results: [EvaluationResult] = try Terminal.withTicker(
                "evaluating \(configured.name) on \(split.description)", quiet: quiet
            ) {
                let result = try Tuner.evaluate(configured, on: split, metrics: measured, threadCount: nil)
                guard configured.name != "popularity", !curves.isEmpty else { return [result] }
                let popularity = try ConfiguredModel("popularity", settings: [:])
                return [result, try Tuner.evaluate(popularity, on: split, metrics: curves, threadCount: nil)]
            }
            let result = results[0]
            evaluation = Self.evaluation(result, split: split, metrics: metrics)
            if !curves.isEmpty {
                evaluation?["curves"] = Self.curves(curves, of: results)
            }
            if !quiet {
                Terminal.error(
                    metrics.map { "\($0) \(String(format: "%.4f", result[$0.description] ?? .nan))" }
                        .joined(separator: "  "))
            }
        }
        var trained = try Terminal.withProgress("training \(configured.name)", quiet: quiet) { report in
            try TrainedModel(
                training: configured, on: trainingData, users: users, items: items, itemTitles: titles, side: side,
                context: TrainingContext(progress: report))
        }
        trained.evaluation = evaluation
        try trained.save(to: out)
        if !quiet { Terminal.error("saved \(configured.name) (\(users.count) users, \(items.count) items) to \(out)") }
    }
}

extension Train {
    /// What `--evaluate` saves with the model: the split, each metric, the sizes and the time.
    static func evaluation(_ result: EvaluationResult, split: Split, metrics: [MetricSpec]) -> [String: JSONValue] {
        var values: [String: JSONValue] = [:]
        for metric in metrics {
            if let value = result[metric.description], value.isFinite { values[metric.description] = .number(value) }
        }
        return [
            "split": .string(split.description), "metrics": .object(values),
            "train_interactions": .integer(Int64(split.train.count)),
            "test_interactions": .integer(Int64(split.test.count)),
            "fit_seconds": .number(((result.fitSeconds ?? 0) * 1000).rounded() / 1000),
            "evaluated_at": .string(ISO8601DateFormatter().string(from: Date())),
        ]
    }
}

extension Train {
    /// The cut-offs of the recall@k and NDCG@k curves saved with `--evaluate` (the web page plots
    /// them beside popularity's on the same split); none for rating metrics.
    static let curveCutoffs = [1, 2, 5, 10, 20, 50, 100]

    static func curveMetrics(for metrics: [MetricSpec], itemCount: Int) -> [MetricSpec] {
        if metrics.contains(where: \.isRatingMetric) { return [] }
        return curveCutoffs.filter { $0 <= itemCount }.flatMap { k in
            ["recall@\(k)", "ndcg@\(k)"].compactMap { MetricSpec($0) }
        }
    }

    /// `{"k": [1, 2, ...], "series": [{"model", "metric", "values"}, ...]}`: one series per model
    /// and metric name, a value per cut-off.
    static func curves(_ metrics: [MetricSpec], of results: [EvaluationResult]) -> JSONValue {
        let cutoffs = curveCutoffs.filter { k in metrics.contains { $0.description == "recall@\(k)" } }
        var series: [JSONValue] = []
        for result in results {
            for name in ["recall", "ndcg"] {
                series.append(
                    .object([
                        "model": .string(result.model), "metric": .string(name),
                        "values": .array(
                            cutoffs.map { k in
                                (result["\(name)@\(k)"]).map { $0.isFinite ? .number($0) : .null } ?? .null
                            }),
                    ]))
            }
        }
        return .object(["k": .array(cutoffs.map { .integer(Int64($0)) }), "series": .array(series)])
    }
}

/// Settings files: one YAML mapping of scalars (`factors: 64`), the keys of `--set`.
enum SettingsFile {
    /// The settings of `path`; with `model`, also checked for that model, so that a bad value is
    /// reported at its line in the file (`ials.yaml:3: ials: factors: must be in 1…4096, not 0`).
    static func read(_ path: String, model: String? = nil) throws -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RuntimeError("\(path): cannot be read")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw RuntimeError("\(path): not valid YAML: \(error)") }
        guard let root else { return [:] }
        guard let mapping = root.mapping else {
            throw RuntimeError("\(path)\(root.mark.map { ":\($0.line)" } ?? ""): expected `key: value` lines")
        }
        var settings: [String: String] = [:]
        var lines: [String: Int] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string, let scalar = value.scalar?.string else {
                throw RuntimeError(
                    "\(path)\(key.mark.map { ":\($0.line)" } ?? ""): expected `key: value` with a single value")
            }
            settings[name] = scalar
            lines[name] = key.mark?.line
        }
        if let model {
            do { _ = try ConfiguredModel(model, settings: settings) } catch {
                throw RuntimeError("\(path)\(lines[error.key].map { ":\($0)" } ?? ""): \(error)")
            }
        }
        return settings
    }
}

struct Recommend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Recommendations from a saved model: for a user, an ad-hoc history, a session so far, or every user "
            + "(batch export)."
    )

    @Option(help: "The model directory.") var model: String
    @Option(help: "A user ID from the training data.") var user: String?
    @Option(
        help: "Item IDs the person interacted with, comma-separated (a newcomer: fold-in; fewer than 3: similar items)."
    )
    var history: String?
    @Option(
        help: ArgumentHelp(
            "Item IDs clicked so far in an anonymous session, in order, comma-separated: the next items "
                + "(a session model such as gru4rec or sessionknn reads the order; clicked items may return)."))
    var session: String?
    @Flag(help: "With --session: leave out the items the session already clicked.") var excludeClicked = false
    @Option(
        help: ArgumentHelp(
            "A newcomer known by features only, key=value,... (age=25,gender=F,occupation=writer; several values "
                + "a|b): scored by a feature model (fm, deepfm, mfside, …), else the most popular items."
        )
    )
    var userFeatures: String?
    @Option(help: "'all' for every training user, or a file with one user ID per line.") var users: String?
    @Option(name: .short, help: "How many items.") var k = 10
    @Flag(help: "JSON on stdout.") var json = false
    @Flag(help: "Tab-separated `user<TAB>item<TAB>rank` lines on stdout.") var tsv = false
    @Flag(help: "With --user on an ials model: the history items that drove each recommendation.") var explain = false

    func validate() throws {
        if [user != nil, history != nil, session != nil, users != nil, userFeatures != nil].filter({ $0 }).count != 1 {
            throw ValidationError("give exactly one of --user, --history, --session, --users and --user-features")
        }
        if let userFeatures { _ = try Self.features(userFeatures) }
        if excludeClicked && session == nil { throw ValidationError("--exclude-clicked goes with --session") }
        if !(1...100_000).contains(k) { throw ValidationError("-k must be in 1...100000") }
        if json && tsv { throw ValidationError("choose --json or --tsv") }
    }

    /// `age=25,gender=F` → values by name.
    static func features(_ text: String) throws -> [String: String] {
        var values: [String: String] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ValidationError("--user-features expects key=value pairs separated by commas, not '\(pair)'")
            }
            values[parts[0]] = parts[1]
        }
        return values
    }

    func run() async throws {
        let saved = try TrainedModel.load(model)
        if let userFeatures {
            let values = try Self.features(userFeatures)
            if let featureModel = saved.model as? any FeatureAwareRecommender {
                let known = Set(featureModel.features.transform.requestSources(.user))
                let unused = values.keys.filter { !known.contains($0) }.sorted()
                if !unused.isEmpty {
                    Terminal.error(
                        "the model reads no user feature \(unused.joined(separator: ", ")) (it reads "
                            + "\(known.sorted().joined(separator: ", ")))")
                }
            } else {
                Terminal.error("\(saved.kind) reads no features: the most popular items instead")
            }
            let answer = RecommendationPolicy().recommend(
                RecommendationPolicy.Request(k: k, userFeatures: values), with: saved)
            output(rows: [("features", answer.recommendations)], kind: "\(saved.kind), \(answer.path.rawValue)")
        } else if let user {
            let items: [Recommendation]
            do { items = try saved.recommend(user: user, k: k) } catch { throw RuntimeError(error.description) }
            output(rows: [(user, items)], kind: saved.kind)
            if explain {
                guard let als = saved.model as? ImplicitALS else {
                    throw RuntimeError("--explain needs an ials model; this one is \(saved.kind)")
                }
                let index = saved.users.index(of: user)!
                let history = zip(saved.seen.columns(inRow: Int(index)), saved.seen.values(inRow: Int(index))).map {
                    (item: $0.0, value: $0.1)
                }
                for item in items {
                    let reasons = als.explain(item: saved.items.index(of: item.item)!, history: history, k: 3)
                        .contributions
                    let text = reasons.map { reason in
                        let name = saved.title(of: reason.index).map { " \($0)" } ?? ""
                        return "\(saved.items.id(at: reason.index))\(name) (\(String(format: "%.3f", reason.score)))"
                    }.joined(separator: ", ")
                    Terminal.error("\(item.item) because of: \(text)")
                }
            }
        } else if let history = history ?? session {
            let ids = history.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let answer =
                session == nil
                ? saved.recommend(history: ids, k: k)
                : saved.recommend(session: ids, k: k, excludingClicked: excludeClicked)
            if !answer.unknown.isEmpty {
                Terminal.error(
                    "ignoring \(answer.unknown.count) unknown item ID(s): "
                        + answer.unknown.prefix(5).joined(separator: ", ")
                )
            }
            if answer.popular {
                Terminal.error("no item of the history is known to the model: the most popular items instead")
            }
            output(
                rows: [(session == nil ? "history" : "session", answer.recommendations)],
                kind: answer.popular ? "most popular" : "\(saved.kind), \(answer.path.rawValue)")
        } else if let users {
            let ids: [String]
            if users == "all" {
                ids = saved.users.ids
            } else {
                guard let text = try? String(contentsOfFile: users, encoding: .utf8) else {
                    throw RuntimeError("\(users): cannot be read")
                }
                ids = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                    !$0.isEmpty
                }
            }
            let unknown = ids.filter { saved.users.index(of: $0) == nil }
            if !unknown.isEmpty {
                throw RuntimeError("\(unknown.count) user(s) not in the model, e.g. '\(unknown[0])'")
            }
            output(rows: Array(zip(ids, try saved.recommend(users: ids, k: k))), kind: saved.kind, batch: true)
        }
    }

    func output(rows: [(String, [Recommendation])], kind: String, batch: Bool = false) {
        if tsv || (batch && !json) {
            var text = ""
            for (user, items) in rows {
                for (rank, item) in items.enumerated() { text += "\(user)\t\(item.item)\t\(rank + 1)\n" }
            }
            Terminal.output(text)
        } else if json {
            let objects = rows.map { user, items -> [String: Any] in
                [
                    "user": user,
                    "items": items.enumerated().map { rank, item -> [String: Any] in
                        var object: [String: Any] = ["item": item.item, "score": Double(item.score), "rank": rank + 1]
                        if let name = item.title { object["title"] = name }
                        return object
                    },
                ]
            }
            let value: Any
            if objects.count == 1 { value = objects[0] } else { value = ["results": objects] }
            try? Terminal.printJSON(value)
        } else {
            for (user, items) in rows {
                print("recommendations for \(user) (\(kind)):")
                for (rank, item) in items.enumerated() {
                    let name = item.title.map { "  \($0)" } ?? ""
                    print(String(format: "%3d. %@  %.4f", rank + 1, item.item, item.score) + name)
                }
            }
        }
    }
}

struct Similar: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Items most similar to an item, by ID or title, from a saved model.")

    @Option(help: "The model directory.") var model: String
    @Option(help: "An item ID, or a title (exact, else a substring) when the training data had titles.") var item:
        String
    @Option(name: .short, help: "How many items.") var k = 10
    @Flag(help: "JSON on stdout.") var json = false

    func run() async throws {
        let saved = try TrainedModel.load(model)
        if saved.items.index(of: item) == nil, let titles = saved.itemTitles {
            let matches = ItemCatalog(titles: titles).search(title: item)
            if matches.count > 1 && titles.compactMap({ $0 }).filter({ $0.lowercased() == item.lowercased() }).isEmpty {
                Terminal.error("'\(item)' matches \(matches.count) titles; using \"\(titles[Int(matches[0])] ?? "")\"")
            }
        }
        let found: (item: Recommendation, similar: [Recommendation])
        do { found = try saved.similar(to: item, k: k) } catch { throw RuntimeError(error.description) }
        let (target, results) = found
        if json {
            let object: [String: Any] = [
                "item": target.item, "title": target.title as Any,
                "similar": results.map { ["item": $0.item, "score": Double($0.score), "title": $0.title as Any] },
            ]
            try? Terminal.printJSON(object)
        } else {
            print("items like \(target.item)\(target.title.map { " (\($0))" } ?? ""):")
            for (rank, result) in results.enumerated() {
                print(
                    String(format: "%3d. %@  %.4f", rank + 1, result.item, result.score)
                        + (result.title.map { "  \($0)" } ?? ""))
            }
        }
    }
}
