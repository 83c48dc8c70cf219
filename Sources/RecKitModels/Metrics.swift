import Foundation

/// The metric definitions RecKit reports, as pure functions. Ranking metrics follow the field's
/// usual definitions (binary relevance; see DESIGN.md "Evaluation"), checked against hand-computed
/// cases and against the peer libraries' numbers. They live beside the models (RecKitEval builds its
/// evaluators on them) so that a model can measure a validation part while it trains.
public enum Metrics {
    /// Positions (0-based) of the relevant items among the first `k` of `ranked`.
    static func hitPositions(_ ranked: [Int32], relevant: Set<Int32>, k: Int) -> [Int] {
        ranked.prefix(k).enumerated().compactMap { relevant.contains($0.element) ? $0.offset : nil }
    }

    /// hits / k.
    public static func precision(ranked: [Int32], relevant: Set<Int32>, k: Int) -> Double {
        k > 0 ? Double(hitPositions(ranked, relevant: relevant, k: k).count) / Double(k) : 0
    }

    /// hits / |relevant| (0 without relevant items).
    public static func recall(ranked: [Int32], relevant: Set<Int32>, k: Int) -> Double {
        relevant.isEmpty ? 0 : Double(hitPositions(ranked, relevant: relevant, k: k).count) / Double(relevant.count)
    }

    /// hits / min(k, |relevant|): 1 for a perfect list even when |relevant| > k.
    public static func cappedRecall(ranked: [Int32], relevant: Set<Int32>, k: Int) -> Double {
        let cap = min(k, relevant.count)
        return cap == 0 ? 0 : Double(hitPositions(ranked, relevant: relevant, k: k).count) / Double(cap)
    }

    /// Σ 1/log2(i + 2) over hits at 0-based position i, over the same sum for an ideal list of
    /// min(k, |relevant|) hits.
    public static func ndcg(ranked: [Int32], relevant: Set<Int32>, k: Int) -> Double {
        let gain = { (position: Int) in 1 / log2(Double(position) + 2) }
        let dcg = hitPositions(ranked, relevant: relevant, k: k).map(gain).reduce(0, +)
        let ideal = (0..<min(k, relevant.count)).map(gain).reduce(0, +)
        return ideal > 0 ? dcg / ideal : 0
    }

    /// 1 if any of the first `k` is relevant.
    public static func hitRate(ranked: [Int32], relevant: Set<Int32>, k: Int) -> Double {
        hitPositions(ranked, relevant: relevant, k: k).isEmpty ? 0 : 1
    }

    /// Σ over hits of precision at that hit, over min(k, |relevant|).
    public static func averagePrecision(ranked: [Int32], relevant: Set<Int32>, k: Int) -> Double {
        let cap = min(k, relevant.count)
        guard cap > 0 else { return 0 }
        var sum = 0.0
        for (hitIndex, position) in hitPositions(ranked, relevant: relevant, k: k).enumerated() {
            sum += Double(hitIndex + 1) / Double(position + 1)
        }
        return sum / Double(cap)
    }

    /// 1 / (position of the first hit + 1), 0 without a hit in the first `k`.
    public static func reciprocalRank(ranked: [Int32], relevant: Set<Int32>, k: Int) -> Double {
        hitPositions(ranked, relevant: relevant, k: k).first.map { 1 / Double($0 + 1) } ?? 0
    }

    /// The rank of `target` in a next-item prediction (GRU4Rec's protocol): 1 + #scores above the
    /// target's + #equal scores at a lower index, so ties count against the target (`target` counts
    /// from the slice's start). A NaN target ranks last.
    public static func nextItemRank(of target: Int, in scores: ArraySlice<Float>) -> Int {
        let base = scores.startIndex
        let value = scores[base + target]
        guard !value.isNaN else { return scores.count }
        var rank = 1
        for position in scores.indices {
            let score = scores[position]
            if score > value || (score == value && position - base < target) { rank += 1 }
        }
        return rank
    }

    /// The rank-based ROC AUC of one user: the fraction of (relevant, other candidate) pairs where the
    /// relevant item scores higher, ties counting one half. nil without relevant items or without
    /// other candidates.
    /// - Parameters:
    ///   - scores: scores of all items.
    ///   - relevant: the positives.
    ///   - excluded: items that are neither positive nor negative (e.g. training items).
    public static func auc(scores: [Float], relevant: Set<Int32>, excluded: Set<Int32> = []) -> Double? {
        var positives: [Float] = []
        var negatives: [Float] = []
        for (item, score) in scores.enumerated() {
            let index = Int32(item)
            if excluded.contains(index) { continue }
            if relevant.contains(index) { positives.append(score) } else { negatives.append(score) }
        }
        return auc(positiveScores: positives, negativeScores: negatives)
    }

    /// ROC AUC from the scores of positives and negatives (Mann–Whitney U with half credit for ties).
    public static func auc(positiveScores: [Float], negativeScores: [Float]) -> Double? {
        guard !positiveScores.isEmpty, !negativeScores.isEmpty else { return nil }
        let negatives = negativeScores.sorted()
        var wins = 0.0
        for score in positiveScores {
            // Negatives strictly below, and equal to, `score`.
            var low = 0
            var high = negatives.count
            while low < high {
                let middle = (low + high) / 2
                if negatives[middle] < score { low = middle + 1 } else { high = middle }
            }
            var upper = low
            high = negatives.count
            while upper < high {
                let middle = (upper + high) / 2
                if negatives[middle] <= score { upper = middle + 1 } else { high = middle }
            }
            wins += Double(low) + 0.5 * Double(upper - low)
        }
        return wins / (Double(positiveScores.count) * Double(negatives.count))
    }

    /// Mean binary cross-entropy of probabilities `p` for 0/1 `labels`, with p clipped to [ε, 1 − ε].
    public static func logLoss(probabilities: [Double], labels: [Bool], epsilon: Double = 1e-15) -> Double {
        precondition(probabilities.count == labels.count && !labels.isEmpty, "logLoss: one label per probability")
        var sum = 0.0
        for (p, label) in zip(probabilities, labels) {
            let clipped = min(max(p, epsilon), 1 - epsilon)
            sum -= label ? log(clipped) : log(1 - clipped)
        }
        return sum / Double(labels.count)
    }

    /// Root mean squared error.
    public static func rmse(predictions: [Float], targets: [Float]) -> Double {
        precondition(predictions.count == targets.count && !targets.isEmpty, "rmse: one target per prediction")
        let sum = zip(predictions, targets).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        return (sum / Double(targets.count)).squareRoot()
    }

    /// Mean binary log loss, probabilities clamped to [1e-7, 1 − 1e-7].
    public static func logLoss(probabilities: [Float], labels: [Bool]) -> Double {
        precondition(probabilities.count == labels.count && !labels.isEmpty, "logLoss: one label per probability")
        let sum = zip(probabilities, labels).reduce(0.0) { total, pair in
            let p = min(max(Double(pair.0), 1e-7), 1 - 1e-7)
            return total - (pair.1 ? Foundation.log(p) : Foundation.log(1 - p))
        }
        return sum / Double(labels.count)
    }

    /// NDCG of a whole ranked list with binary relevance (log2 discount, ideal: the relevant items
    /// first); nil when nothing is relevant.
    public static func ndcg(relevanceInRankOrder relevant: [Bool]) -> Double? {
        let count = relevant.filter { $0 }.count
        guard count > 0 else { return nil }
        var dcg = 0.0
        for (rank, isRelevant) in relevant.enumerated() where isRelevant {
            dcg += 1 / Foundation.log2(Double(rank + 2))
        }
        let ideal = (0..<count).reduce(0.0) { $0 + 1 / Foundation.log2(Double($1 + 2)) }
        return dcg / ideal
    }

    /// Mean absolute error.
    public static func mae(predictions: [Float], targets: [Float]) -> Double {
        precondition(predictions.count == targets.count && !targets.isEmpty, "mae: one target per prediction")
        return zip(predictions, targets).reduce(0.0) { $0 + abs(Double($1.0 - $1.1)) } / Double(targets.count)
    }

    /// Gini coefficient of non-negative counts: 0 when all are equal, towards 1 when one holds all.
    public static func gini(_ counts: [Int]) -> Double {
        let sorted = counts.sorted()
        let total = sorted.reduce(0, +)
        guard total > 0, sorted.count > 1 else { return 0 }
        var weighted = 0.0
        for (index, value) in sorted.enumerated() { weighted += Double(index + 1) * Double(value) }
        let n = Double(sorted.count)
        return (2 * weighted) / (n * Double(total)) - (n + 1) / n
    }

    /// Next-item metrics for sessions: `recall` = share of targets found in the first `k`, `mrr` = mean
    /// reciprocal rank of the target (0 beyond `k`).
    public static func nextItem(rankings: [[Int32]], targets: [Int32], k: Int = 20) -> (recall: Double, mrr: Double) {
        precondition(rankings.count == targets.count, "nextItem: one target per ranking")
        guard !targets.isEmpty else { return (0, 0) }
        var hits = 0.0
        var reciprocal = 0.0
        for (ranking, target) in zip(rankings, targets) {
            if let position = ranking.prefix(k).firstIndex(of: target) {
                hits += 1
                reciprocal += 1 / Double(position + 1)
            }
        }
        return (hits / Double(targets.count), reciprocal / Double(targets.count))
    }
}
