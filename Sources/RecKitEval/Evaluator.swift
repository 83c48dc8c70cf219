import Foundation
import RecKitData
import RecKitModels
import RecKitTensor

/// Evaluation errors: a metric the protocol cannot compute, or a split the model does not fit.
public struct EvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Full-ranking top-N evaluation: for every user with test items, all items are scored, the user's
/// training items are excluded, and the top k (ties to the lower item index) are compared with the
/// test items. Users run in batches of `batchSize` on all cores; memory stays at about
/// threads × batch × items scores. Results do not depend on the thread count or the batch size.
public struct FullRankingEvaluator: Sendable {
    public var metrics: [MetricSpec]
    public var batchSize: Int
    public var threadCount: Int
    /// Called after each batch with (users done, users in all), from worker threads.
    public var progress: (@Sendable (_ done: Int, _ total: Int) -> Void)?

    public init(
        metrics: [MetricSpec] = MetricSpec.defaults, batchSize: Int = 256,
        threadCount: Int = Parallel.defaultThreadCount,
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) {
        self.metrics = metrics
        self.batchSize = max(1, batchSize)
        self.threadCount = max(1, threadCount)
        self.progress = progress
    }

    /// Evaluates `model` on `test`, excluding each user's items in `train`. With `foldIn` (strong
    /// generalisation), the test users are not in training: each is scored from their `foldIn`
    /// interactions as a history (`scores(forHistory:)`, no retraining), which are excluded instead.
    /// With `candidates` (a cold-items split's `Split.candidates`), each list ranks those items alone.
    /// - Throws: `EvaluationError` when the split has more items or users than the model.
    public func evaluate(
        _ model: some Recommender, train: Interactions, test: Interactions, foldIn: Interactions? = nil,
        candidates: [Bool]? = nil
    ) throws(EvaluationError) -> EvaluationResult {
        if let metric = metrics.first(where: \.isRatingMetric) {
            throw EvaluationError("\(metric) is a rating metric; use RatingEvaluator")
        }
        guard train.itemCount == model.itemCount, test.itemCount == model.itemCount else {
            throw EvaluationError("the model knows \(model.itemCount) items but the split has \(test.itemCount)")
        }
        if let candidates, candidates.count != model.itemCount {
            throw EvaluationError("\(candidates.count) candidate flags for a model of \(model.itemCount) items")
        }
        if candidates != nil && foldIn != nil {
            throw EvaluationError("candidate items (cold items) and fold-in histories (users:F) do not combine")
        }
        let start = Date()
        let trainMatrix = InteractionMatrix.byUser(train)
        // Items outside the candidates are excluded from every list, as a user's own items are.
        let outside = candidates.map { flags in flags.indices.filter { !flags[$0] }.map(Int32.init) }
        let seenMatrix = foldIn.map(InteractionMatrix.byUser) ?? trainMatrix
        let testMatrix = InteractionMatrix.byUser(test)
        let users = (0..<min(test.userCount, model.userCount)).filter { testMatrix.count(inRow: $0) > 0 }.map {
            Int32($0)
        }
        let maxK = metrics.map(\.k).max() ?? 0
        let needsScores = metrics.contains(.auc)
        let listKs = Array(
            Set(
                metrics.compactMap { metric -> Int? in
                    switch metric {
                    case .coverage(let k), .novelty(let k), .averagePopularity(let k), .gini(let k): return k
                    default: return nil
                    }
                })
        ).sorted()
        // Item popularity in training: interactions and distinct users.
        let itemInteractions = train.countsPerItem()
        let itemMatrix = InteractionMatrix.byItem(train)
        let userShare = (0..<train.itemCount).map { item in
            Double(max(1, Set(itemMatrix.columns(inRow: item)).count)) / Double(max(1, train.userCount))
        }
        let batches = Parallel.chunks(count: users.count, chunkCount: max(1, (users.count + batchSize - 1) / batchSize))
        let metrics = self.metrics
        let progress = self.progress
        let done = ProgressCounter()
        let userTotal = users.count
        let partials = Parallel.map(chunkCount: batches.count, threadCount: threadCount) { batch -> BatchSums in
            defer { progress?(done.add(batches[batch].count), userTotal) }
            let batchUsers = Array(users[batches[batch]])
            let (scores, lists): (Tensor, [[ScoredIndex]])
            if let outside {
                scores = model.scores(forUsers: batchUsers)
                lists = scores.topKPerRow(
                    min(maxK, model.itemCount),
                    excluding: batchUsers.map { outside + trainMatrix.columns(inRow: Int($0)) })
            } else if foldIn == nil {
                (scores, lists) = model.ranking(users: batchUsers, k: maxK, excludingSeen: trainMatrix)
            } else {
                (scores, lists) = model.ranking(
                    histories: batchUsers.map { Array(seenMatrix.columns(inRow: Int($0))) }, k: maxK)
            }
            var sums = BatchSums(metricCount: metrics.count, listKs: listKs, itemCount: model.itemCount)
            for (row, user) in batchUsers.enumerated() {
                var userValues = [Double](repeating: 0, count: metrics.count)
                defer { sums.perUser.append(userValues) }
                let relevant = Set(testMatrix.columns(inRow: Int(user)))
                let ranked = lists[row].map(\.index)
                for (index, metric) in metrics.enumerated() {
                    switch metric {
                    case .precision(let k):
                        userValues[index] += Metrics.precision(ranked: ranked, relevant: relevant, k: k)
                    case .recall(let k): userValues[index] += Metrics.recall(ranked: ranked, relevant: relevant, k: k)
                    case .recallCapped(let k):
                        userValues[index] += Metrics.cappedRecall(ranked: ranked, relevant: relevant, k: k)
                    case .ndcg(let k): userValues[index] += Metrics.ndcg(ranked: ranked, relevant: relevant, k: k)
                    case .hitRate(let k): userValues[index] += Metrics.hitRate(ranked: ranked, relevant: relevant, k: k)
                    case .map(let k):
                        userValues[index] += Metrics.averagePrecision(ranked: ranked, relevant: relevant, k: k)
                    case .mrr(let k):
                        userValues[index] += Metrics.reciprocalRank(ranked: ranked, relevant: relevant, k: k)
                    case .novelty(let k):
                        let list = ranked.prefix(k)
                        if !list.isEmpty {
                            userValues[index] += list.reduce(0.0) { $0 - log2(userShare[Int($1)]) } / Double(list.count)
                        }
                    case .averagePopularity(let k):
                        let list = ranked.prefix(k)
                        if !list.isEmpty {
                            userValues[index] +=
                                list.reduce(0.0) { $0 + Double(itemInteractions[Int($1)]) } / Double(list.count)
                        }
                    case .auc:
                        if needsScores {
                            let trainItems = Set(seenMatrix.columns(inRow: Int(user))).union(outside ?? [])
                            let value = Metrics.auc(
                                scores: Array(scores.row(row)), relevant: relevant, excluded: trainItems)
                            userValues[index] += value ?? 0
                            sums.aucUsers += value == nil ? 0 : 1
                        }
                    case .coverage, .gini, .rmse, .mae, .rocAUC, .logLoss, .ndcgWithin, .precisionWithin: break
                    }
                }
                for (slot, k) in listKs.enumerated() {
                    for item in ranked.prefix(k) { sums.recommendedCounts[slot][Int(item)] += 1 }
                }
            }
            return sums
        }
        // Sum user by user in user order, so neither threads nor batch size change a bit of the result.
        var total = BatchSums(metricCount: metrics.count, listKs: listKs, itemCount: model.itemCount)
        for partial in partials { total.add(partial) }
        for partial in partials {
            for userValues in partial.perUser {
                for index in userValues.indices { total.values[index] += userValues[index] }
            }
        }
        let userCountDouble = Double(max(1, users.count))
        let values = metrics.enumerated().map { index, metric -> EvaluationResult.MetricValue in
            let value: Double
            switch metric {
            case .coverage(let k):
                let counts = total.recommendedCounts[listKs.firstIndex(of: k)!]
                value = Double(counts.filter { $0 > 0 }.count) / Double(max(1, model.itemCount))
            case .gini(let k):
                value = Metrics.gini(total.recommendedCounts[listKs.firstIndex(of: k)!])
            case .auc:
                value = total.aucUsers > 0 ? total.values[index] / Double(total.aucUsers) : 0
            default:
                value = total.values[index] / userCountDouble
            }
            return .init(name: metric.description, value: value, definition: metric.definition)
        }
        let description =
            if let candidates {
                "cold items: each user ranks the \(candidates.filter { $0 }.count) candidate items alone (those "
                    + "without training interactions), ties to the lower item index"
            } else if foldIn == nil {
                "full ranking: every item scored, each user's training items excluded, ties to the lower item index"
            } else {
                "strong generalisation: users held out of training, each scored from their fold-in history "
                    + "(no retraining); every item ranked, the history's items excluded, ties to the lower item index"
            }
        return EvaluationResult(
            model: model.name, protocolKind: .fullRanking, protocolDescription: description,
            metrics: values, evaluatedUserCount: users.count, userCount: train.userCount, itemCount: model.itemCount,
            trainInteractionCount: train.count, testInteractionCount: test.count, fitSeconds: nil,
            evaluateSeconds: Date().timeIntervalSince(start), context: [:])
    }
}

/// Counts finished users across worker threads.
final class ProgressCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func add(_ count: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += count
        return value
    }
}

/// Per-batch sums, combined in batch order.
struct BatchSums: Sendable {
    var values: [Double]
    /// Each user's metric values, in user order.
    var perUser: [[Double]] = []
    var aucUsers = 0
    var recommendedCounts: [[Int]]

    init(metricCount: Int, listKs: [Int], itemCount: Int) {
        values = [Double](repeating: 0, count: metricCount)
        recommendedCounts = listKs.map { _ in [Int](repeating: 0, count: itemCount) }
    }

    mutating func add(_ other: BatchSums) {
        for index in values.indices { values[index] += other.values[index] }
        aucUsers += other.aucUsers
        for slot in recommendedCounts.indices {
            for item in recommendedCounts[slot].indices {
                recommendedCounts[slot][item] += other.recommendedCounts[slot][item]
            }
        }
    }
}

/// The NCF sampled protocol (He et al. 2017): each user's held-out item is ranked against that
/// user's sampled negatives only; rank = number of negatives scoring at least as high (ties count
/// against the held-out item). Reported as `sampled`; not comparable with full ranking.
public struct SampledEvaluator: Sendable {
    public var metrics: [MetricSpec]

    public init(metrics: [MetricSpec] = [.hitRate(10), .ndcg(10)]) { self.metrics = metrics }

    /// - Throws: `EvaluationError` for metrics other than hr@k, ndcg@k and mrr@k, or users without
    ///   exactly one test item.
    public func evaluate(_ model: some Recommender, train: Interactions, test: Interactions, negatives: [[Int32]])
        throws(EvaluationError) -> EvaluationResult
    {
        for metric in metrics {
            switch metric {
            case .hitRate, .ndcg, .mrr: continue
            default:
                throw EvaluationError("\(metric) is not defined for the sampled protocol (use hr@k, ndcg@k or mrr@k)")
            }
        }
        let start = Date()
        let testMatrix = InteractionMatrix.byUser(test)
        let users = (0..<min(test.userCount, model.userCount)).filter { testMatrix.count(inRow: $0) > 0 }
        var sums = [Double](repeating: 0, count: metrics.count)
        var negativeCount = 0
        for user in users {
            guard testMatrix.count(inRow: user) == 1 else {
                throw EvaluationError(
                    "the sampled protocol needs exactly one test item per user; "
                        + "user index \(user) has \(testMatrix.count(inRow: user))"
                )
            }
            let target = testMatrix.columns(inRow: user).first!
            let candidates = negatives[safe: user] ?? []
            guard !candidates.isEmpty else {
                throw EvaluationError("user index \(user) has a test item but no negatives")
            }
            negativeCount = candidates.count
            let scores = model.scores(forUsers: [Int32(user)]).scalars
            let targetScore = scores[Int(target)]
            let rank = candidates.filter { scores[Int($0)] >= targetScore }.count
            for (index, metric) in metrics.enumerated() where rank < metric.k {
                switch metric {
                case .hitRate: sums[index] += 1
                case .ndcg: sums[index] += 1 / log2(Double(rank) + 2)
                case .mrr: sums[index] += 1 / Double(rank + 1)
                default: break
                }
            }
        }
        let values = metrics.enumerated().map { index, metric in
            EvaluationResult.MetricValue(
                name: metric.description, value: sums[index] / Double(max(1, users.count)),
                definition: "sampled protocol: " + metric.definition)
        }
        return EvaluationResult(
            model: model.name, protocolKind: .sampled,
            protocolDescription:
                "sampled: 1 held-out item ranked against \(negativeCount) sampled negatives per user "
                + "(NCF protocol; not comparable with full ranking)",
            metrics: values, evaluatedUserCount: users.count, userCount: train.userCount, itemCount: model.itemCount,
            trainInteractionCount: train.count, testInteractionCount: test.count, fitSeconds: nil,
            evaluateSeconds: Date().timeIntervalSince(start), context: [:])
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

/// Metrics of the test pairs' predictions: RMSE and MAE of predicted ratings (users or items
/// unseen in training get the model's fallback, e.g. the global mean); ROC AUC and log loss against
/// the label rating ≥ 4; and each user's own test items ranked by prediction (ties to the lower item
/// index), NDCG and precision@k with relevance rating ≥ 4 (strict) or ≥ 3 (normal), as the
/// TensorFlow recommender talk reports them.
public struct RatingEvaluator: Sendable {
    public var metrics: [MetricSpec]

    public init(metrics: [MetricSpec] = [.rmse, .mae]) { self.metrics = metrics }

    /// - Throws: `EvaluationError` for ranking metrics, a test set without ratings, or only metrics
    ///   the model cannot have (RMSE/MAE of a classifier, the log loss of a rating model).
    public func evaluate(_ model: some RatingPredictor, train: Interactions, test: Interactions) throws(EvaluationError)
        -> EvaluationResult
    {
        if let metric = metrics.first(where: { !$0.isRatingMetric }) {
            throw EvaluationError(
                "\(metric) is a ranking metric; test-pair evaluation reports rmse, mae, roc_auc, logloss, ndcg_strict, "
                    + "ndcg_normal, precision_strict@k and precision_normal@k")
        }
        guard let targets = test.ratings, !targets.isEmpty else { throw EvaluationError("the test set has no ratings") }
        // A classifier has no rating errors and a rating model no log loss: those are left out of its
        // result (a table shows them as missing), unless nothing else was asked.
        let applicable = metrics.filter { metric in
            model.predictsProbabilities ? metric != .rmse && metric != .mae : metric != .logLoss
        }
        guard !applicable.isEmpty else {
            throw EvaluationError(
                model.predictsProbabilities
                    ? "\(model.name) predicts probabilities (objective=classification), not ratings: no rmse or mae"
                    : "\(model.name) predicts ratings, not probabilities: logloss needs a classifier")
        }
        let start = Date()
        let predictions = model.predict(users: test.users, items: test.items, times: test.timestamps)
        let values = applicable.map { metric in
            EvaluationResult.MetricValue(
                name: metric.description,
                value: Self.value(metric, predictions: predictions, test: test, targets: targets),
                definition: metric.definition)
        }
        return EvaluationResult(
            model: model.name, protocolKind: .ratingPrediction,
            protocolDescription: "test pairs: every test pair's prediction against its rating",
            metrics: values, evaluatedUserCount: Set(test.users).count, userCount: train.userCount,
            itemCount: train.itemCount,
            trainInteractionCount: train.count, testInteractionCount: test.count, fitSeconds: nil,
            evaluateSeconds: Date().timeIntervalSince(start), context: [:])
    }

    static func value(_ metric: MetricSpec, predictions: [Float], test: Interactions, targets: [Float]) -> Double {
        let threshold = metric.labelThreshold ?? 4
        switch metric {
        case .rmse: return Metrics.rmse(predictions: predictions, targets: targets)
        case .mae: return Metrics.mae(predictions: predictions, targets: targets)
        case .rocAUC:
            let positives = predictions.indices.filter { targets[$0] >= threshold }.map { predictions[$0] }
            let negatives = predictions.indices.filter { targets[$0] < threshold }.map { predictions[$0] }
            return Metrics.auc(positiveScores: positives, negativeScores: negatives) ?? 0
        case .logLoss:
            return Metrics.logLoss(probabilities: predictions, labels: targets.map { $0 >= threshold })
        case .ndcgWithin, .precisionWithin:
            var rows: [Int32: [Int]] = [:]
            for row in 0..<test.count { rows[test.users[row], default: []].append(row) }
            var sum = 0.0
            var users = 0
            for user in rows.keys.sorted() {
                let ranked = rows[user]!.sorted {
                    predictions[$0] != predictions[$1]
                        ? predictions[$0] > predictions[$1] : test.items[$0] < test.items[$1]
                }.map { targets[$0] >= threshold }
                if case .precisionWithin(let k, _) = metric {
                    sum += Double(ranked.prefix(k).filter { $0 }.count) / Double(k)
                    users += 1
                } else if let value = Metrics.ndcg(relevanceInRankOrder: ranked) {
                    sum += value
                    users += 1
                }
            }
            return users > 0 ? sum / Double(users) : 0
        default: preconditionFailure("\(metric) is not a test-pair metric")
        }
    }
}
