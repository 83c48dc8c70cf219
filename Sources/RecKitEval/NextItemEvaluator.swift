import Foundation
import RecKitData
import RecKitModels
import RecKitTensor

/// Next-item evaluation as in GRU4Rec's papers (Hidasi et al. 2016, 2018): for every position t of
/// every test sequence, the model scores all items from the clicks `x_0 … x_t` (its
/// `scores(forHistories:)`, the history in time order) and the rank of the actual next click
/// `x_{t+1}` is recorded. Nothing is excluded (a session may click an item again), and ties count
/// against the target: rank = 1 + #items scoring higher + #items scoring the same at a lower index.
///
/// Metrics per case, averaged over cases: `recall@k` (= `hr@k`: the target is in the top k),
/// `mrr@k` (1/rank when rank ≤ k, else 0), `ndcg@k` (1/log2(rank + 1) when rank ≤ k) and
/// `coverage@k` (distinct items in any top-k list / items). Cases run in batches on all cores; the
/// result does not depend on threads or batch size.
public struct NextItemEvaluator: Sendable {
    public var metrics: [MetricSpec]
    public var batchSize: Int
    public var threadCount: Int
    public var progress: (@Sendable (_ done: Int, _ total: Int) -> Void)?

    public static let defaultMetrics: [MetricSpec] = [.recall(20), .mrr(20)]

    public init(
        metrics: [MetricSpec] = NextItemEvaluator.defaultMetrics, batchSize: Int = 256,
        threadCount: Int = Parallel.defaultThreadCount,
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) {
        self.metrics = metrics
        self.batchSize = max(1, batchSize)
        self.threadCount = max(1, threadCount)
        self.progress = progress
    }

    /// - Throws: `EvaluationError` for a metric the protocol has no single-target meaning for, or a
    ///   case naming an item the model does not have.
    public func evaluate(_ model: some Recommender, cases: NextItemCases, trainInteractionCount: Int)
        throws(EvaluationError) -> EvaluationResult
    {
        for metric in metrics {
            switch metric {
            case .recall, .hitRate, .mrr, .ndcg, .coverage: continue
            default:
                throw EvaluationError(
                    "\(metric) is not a next-item metric; use recall@k (= hr@k), mrr@k, ndcg@k or coverage@k")
            }
        }
        let all = cases.cases
        if let bad = all.first(where: { nextCase in
            Int(nextCase.target) >= model.itemCount || nextCase.prefix.contains { Int($0) >= model.itemCount }
        }) {
            throw EvaluationError("session \(bad.sessionID) names an item the model does not have")
        }
        let start = Date()
        let metrics = self.metrics
        let coverageKs = Array(Set(metrics.compactMap { if case .coverage(let k) = $0 { k } else { nil } })).sorted()
        let batches = Parallel.chunks(count: all.count, chunkCount: max(1, (all.count + batchSize - 1) / batchSize))
        let done = ProgressCounter()
        let progress = self.progress
        let itemCount = model.itemCount
        let partials = Parallel.map(chunkCount: batches.count, threadCount: threadCount) {
            batch -> (values: [[Double]], covered: [[Bool]]) in
            defer { progress?(done.add(batches[batch].count), all.count) }
            let range = batches[batch]
            let scores = model.scores(forCases: range.map { all[$0] })
            var values: [[Double]] = []
            var covered = coverageKs.map { _ in [Bool](repeating: false, count: itemCount) }
            for (row, index) in range.enumerated() {
                let rowScores = scores.row(row)
                let rank = Metrics.nextItemRank(of: Int(all[index].target), in: rowScores)
                values.append(
                    metrics.map { metric in
                        switch metric {
                        case .recall(let k), .hitRate(let k): return rank <= k ? 1 : 0
                        case .mrr(let k): return rank <= k ? 1 / Double(rank) : 0
                        case .ndcg(let k): return rank <= k ? 1 / log2(Double(rank) + 1) : 0
                        default: return 0
                        }
                    })
                if !coverageKs.isEmpty {
                    let single = Tensor(shape: [1, itemCount], scalars: Array(rowScores))
                    let list = single.topKPerRow(min(coverageKs.last!, itemCount), excluding: [[]])[0]
                    for (slot, k) in coverageKs.enumerated() {
                        for entry in list.prefix(k) { covered[slot][Int(entry.index)] = true }
                    }
                }
            }
            return (values, covered)
        }
        // Sum case by case in case order: threads and batch size change nothing.
        var sums = [Double](repeating: 0, count: metrics.count)
        var covered = coverageKs.map { _ in [Bool](repeating: false, count: itemCount) }
        for partial in partials {
            for values in partial.values {
                for index in sums.indices { sums[index] += values[index] }
            }
            for slot in covered.indices {
                for item in 0..<itemCount where partial.covered[slot][item] { covered[slot][item] = true }
            }
        }
        let values = metrics.enumerated().map { index, metric -> EvaluationResult.MetricValue in
            let value: Double
            if case .coverage(let k) = metric {
                value = Double(covered[coverageKs.firstIndex(of: k)!].filter { $0 }.count) / Double(max(1, itemCount))
            } else {
                value = sums[index] / Double(max(1, all.count))
            }
            return .init(name: metric.description, value: value, definition: Self.definition(metric))
        }
        return EvaluationResult(
            model: model.name, protocolKind: .nextItem,
            protocolDescription:
                "next item: every prefix of every test sequence predicts its next click; all items ranked, none "
                + "excluded, ties count against the target (rank = 1 + #higher + #equal at a lower index); "
                + "\(all.count) cases from \(cases.sequenceCount) sequences",
            metrics: values, evaluatedUserCount: all.count, userCount: cases.sequenceCount, itemCount: itemCount,
            trainInteractionCount: trainInteractionCount, testInteractionCount: all.count + cases.sequenceCount,
            fitSeconds: nil, evaluateSeconds: Date().timeIntervalSince(start), context: [:])
    }

    static func definition(_ metric: MetricSpec) -> String {
        switch metric {
        case .recall, .hitRate: return "1 if the next click ranks in the top k, averaged over cases"
        case .mrr: return "1 / rank of the next click if in the top k, else 0, averaged over cases"
        case .ndcg: return "1 / log2(rank + 1) of the next click if in the top k, averaged over cases"
        default: return metric.definition
        }
    }
}
