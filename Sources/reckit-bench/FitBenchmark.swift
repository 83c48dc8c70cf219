import ArgumentParser
import Foundation
import RecKit

struct FitBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract:
            "Seconds per iteration (epoch) of a model on a synthetic preset; compare with "
            + "../shared/peers/synthetic.py (or a PyTorch peer in benchmarks/peers) on the same file."
    )

    @Option(help: "ials, bpr, itemknn, item2vec, svd, svdpp or youtubednn.") var model = "ials"
    @Option(help: "A synthetic preset (svd and svdpp: their explicit ratings, e.g. ml-1m-like).") var preset =
        "ml-20m-like"
    @Option(help: "Iterations (epochs) to time.") var iterations = 3
    @Option(help: "Extra --set style settings, comma-separated key=value.") var settings = ""
    @Option var threads = Parallel.defaultThreadCount
    @Option(help: "ratings (ratings.csv's pairs, as the peers' --implicit-file reads them) or events.") var source =
        "ratings"
    @Option(help: "svd/svdpp: train on this many random training ratings (0: all), as the peers' --svdpp-subset.")
    var subset = 0
    @Option(
        help: ArgumentHelp(
            "Implicit models: fit on this split's training part (e.g. leave-last-out, as the PyTorch peers do), "
                + "or none for all interactions."))
    var split = "none"

    func run() throws {
        guard let preset = SyntheticPreset.named(preset), let benchDefaults = Self.peerSettings[model] else {
            throw ValidationError(
                "fit times \(Self.peerSettings.keys.sorted().joined(separator: ", ")) on a synthetic preset")
        }
        let data = SyntheticData.generate(preset: preset, seed: 42)
        let explicit = (try? ModelRegistry.model(named: model)) is any RatingPredictor.Type
        // Rating models: a seeded random 90/10 split of the ratings, RMSE on the 10 % (the peers'
        // protocol; their split of the same file differs only by the random draw).
        let ratingSplit = explicit ? try data.ratings.split(.random(testFraction: 0.1), seed: 42) : nil
        let implicit = source == "ratings" ? data.ratings.interactions : data.events.deduplicated(.keepLast)
        var train = ratingSplit?.train ?? implicit
        if !explicit && split != "none" {
            guard let method = SplitMethod(argument: split) else {
                throw ValidationError("--split takes none or a split such as leave-last-out, not '\(split)'")
            }
            train = try train.split(method, seed: 42).train
        }
        if explicit && subset > 0 && subset < train.count {
            var rows = Array(0..<train.count)
            var generator = SplitMix64(seed: 44)
            generator.shuffle(&rows)
            var keep = [Bool](repeating: false, count: train.count)
            for row in rows.prefix(subset) { keep[row] = true }
            train = train.filteringRows { keep[$0] }
        }
        // The bench's defaults (the peers' settings), then --settings; every key goes through the
        // model's own reader, so a misspelt one is an error rather than silently ignored.
        var values = benchDefaults.settings
        if let passes = benchDefaults.passes { values[passes] = String(iterations) }
        values["threads"] = String(threads) // every model takes it (SVD++ trains on one thread regardless)
        for pair in settings.split(separator: ",") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--settings takes key=value pairs, not '\(pair)'") }
            values[parts[0]] = parts[1]
        }
        // Every key goes through the model's own reader: a misspelt one is an error, not ignored.
        let configured: ConfiguredModel
        do { configured = try ConfiguredModel(model, settings: values) } catch {
            throw ValidationError(error.description)
        }
        var perIteration: [Double] = []
        var last = DispatchTime.now().uptimeNanoseconds
        let tick: (TrainingUpdate) -> Void = { _ in
            let now = DispatchTime.now().uptimeNanoseconds
            perIteration.append(Double(now - last) / 1e9)
            last = now
        }
        var predictor: (any RatingPredictor)?
        var pairs: Int?
        let total = try time {
            let fitted = try configured.fit(train, context: TrainingContext(progress: tick))
            if benchDefaults.passes == nil { tick(TrainingUpdate(step: 1, total: 1)) }
            predictor = fitted as? any RatingPredictor
            pairs = (fitted as? Item2Vec)?.pairsTrained
        }
        var rmse: Double?
        if let predictor, let test = ratingSplit?.test, let targets = test.ratings {
            let predictions = predictor.predict(users: test.users, items: test.items)
            rmse =
                (zip(predictions, targets).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
                / Double(targets.count)).squareRoot()
        }
        emit([
            "benchmark": "fit", "model": model, "preset": preset.name, "interactions": train.count,
            "users": train.userCount,
            "items": train.itemCount, "iterations": iterations, "seconds": total, "seconds_per_iteration": perIteration,
            "median_seconds_per_iteration": median(perIteration), "threads": threads,
            "rmse": rmse.map { $0 as Any } ?? NSNull(),
            // item2vec: (item, context) pairs trained per second and per thread, the word2vec measure.
            "pairs": pairs.map { $0 as Any } ?? NSNull(),
            "pairs_per_second_per_thread": pairs.map { Double($0) / total / Double(threads) as Any } ?? NSNull(),
        ])
    }

    /// The peers' settings for each timed model (their `synthetic.py` and `peer_itemknn.py`) and the
    /// key that counts its passes (item-KNN has none).
    static let peerSettings: [String: (settings: [String: String], passes: String?)] = [
        "ials": (["alpha": "40"], "iterations"), "bpr": ([:], "epochs"), "svd": ([:], "epochs"),
        "svdpp": ([:], "epochs"),
        "itemknn": (["neighbors": "20"], nil), "item2vec": ([:], "epochs"),
        // benchmarks/peers/youtubednn_torch.py trains a fixed number of epochs, without validation.
        "youtubednn": (["validation": "0"], "epochs"),
    ]
}
