/// A metric to report, as written on the command line: `ndcg@10`, `recall@20`, `coverage@10`, `auc`.
public enum MetricSpec: Sendable, Hashable, Codable, CustomStringConvertible {
    case precision(Int)
    case recall(Int)
    case recallCapped(Int)
    case ndcg(Int)
    case hitRate(Int)
    case map(Int)
    case mrr(Int)
    case coverage(Int)
    case novelty(Int)
    case averagePopularity(Int)
    case gini(Int)
    /// Per-user ROC AUC over all candidate items, averaged over users.
    case auc
    /// Rating prediction errors on the test pairs.
    case rmse, mae
    /// ROC AUC of the predictions for every test pair against its label rating ≥ 4.
    case rocAUC
    /// Binary log loss of a classifier's probabilities against the label rating ≥ 4.
    case logLoss
    /// NDCG of each user's own test items ranked by prediction, relevance rating ≥ 4 (`strict`) or
    /// ≥ 3 (normal), averaged over users with a relevant item.
    case ndcgWithin(strict: Bool)
    /// Relevant items among the top k of each user's own test items ranked by prediction, / k.
    case precisionWithin(Int, strict: Bool)

    /// The ranking metrics at 10 that every full-ranking report carries.
    public static let defaults: [MetricSpec] = [
        .precision(10), .recall(10), .recallCapped(10), .ndcg(10), .hitRate(10), .map(10), .mrr(10), .coverage(10),
    ]

    /// Parses `ndcg@10`; names: precision, recall, recall_capped, ndcg, hr (hit_rate), map, mrr, coverage,
    /// novelty, avg_popularity, gini, auc; on test pairs: rmse, mae, roc_auc, logloss, ndcg_strict,
    /// ndcg_normal, precision_strict@k, precision_normal@k.
    public init?(_ text: String) {
        let parts = text.lowercased().split(separator: "@", omittingEmptySubsequences: false).map(String.init)
        switch parts {
        case ["auc"]:
            self = .auc
            return
        case ["rmse"]:
            self = .rmse
            return
        case ["mae"]:
            self = .mae
            return
        case ["roc_auc"]:
            self = .rocAUC
            return
        case ["logloss"], ["log_loss"]:
            self = .logLoss
            return
        case ["ndcg_strict"], ["ndcg_normal"]:
            self = .ndcgWithin(strict: parts[0] == "ndcg_strict")
            return
        default: break
        }
        guard parts.count == 2, let k = Int(parts[1]), k > 0 else { return nil }
        if parts[0] == "precision_strict" || parts[0] == "precision_normal" {
            self = .precisionWithin(k, strict: parts[0] == "precision_strict")
            return
        }
        switch parts[0] {
        case "precision", "p": self = .precision(k)
        case "recall", "r": self = .recall(k)
        case "recall_capped", "r_cap": self = .recallCapped(k)
        case "ndcg": self = .ndcg(k)
        case "hr", "hit_rate", "hitrate": self = .hitRate(k)
        case "map": self = .map(k)
        case "mrr": self = .mrr(k)
        case "coverage", "cov": self = .coverage(k)
        case "novelty": self = .novelty(k)
        case "avg_popularity", "average_popularity": self = .averagePopularity(k)
        case "gini": self = .gini(k)
        default: return nil
        }
    }

    /// The key in results: `ndcg@10`.
    public var description: String {
        switch self {
        case .precision(let k): return "precision@\(k)"
        case .recall(let k): return "recall@\(k)"
        case .recallCapped(let k): return "recall_capped@\(k)"
        case .ndcg(let k): return "ndcg@\(k)"
        case .hitRate(let k): return "hr@\(k)"
        case .map(let k): return "map@\(k)"
        case .mrr(let k): return "mrr@\(k)"
        case .coverage(let k): return "coverage@\(k)"
        case .novelty(let k): return "novelty@\(k)"
        case .averagePopularity(let k): return "avg_popularity@\(k)"
        case .gini(let k): return "gini@\(k)"
        case .auc: return "auc"
        case .rmse: return "rmse"
        case .mae: return "mae"
        case .rocAUC: return "roc_auc"
        case .logLoss: return "logloss"
        case .ndcgWithin(let strict): return strict ? "ndcg_strict" : "ndcg_normal"
        case .precisionWithin(let k, let strict): return (strict ? "precision_strict@" : "precision_normal@") + "\(k)"
        }
    }

    /// Whether this is measured on the test pairs' predictions and ratings (RMSE, MAE, ROC AUC, log
    /// loss, ranking within each user's test items) rather than by ranking the catalogue.
    public var isRatingMetric: Bool {
        switch self {
        case .rmse, .mae, .rocAUC, .logLoss, .ndcgWithin, .precisionWithin: return true
        default: return false
        }
    }

    /// Whether a larger value is better (all but the errors: rmse, mae, logloss).
    public var higherIsBetter: Bool { self != .rmse && self != .mae && self != .logLoss }

    /// The lowest rating that counts as relevant for the pair metrics: 4 (strict), 3 (normal).
    public var labelThreshold: Float? {
        switch self {
        case .rocAUC, .logLoss: return 4
        case .ndcgWithin(let strict), .precisionWithin(_, let strict): return strict ? 4 : 3
        default: return nil
        }
    }

    /// The cut-off, 0 for AUC.
    public var k: Int {
        switch self {
        case .precision(let k), .recall(let k), .recallCapped(let k), .ndcg(let k), .hitRate(let k), .map(let k),
            .mrr(let k),
            .coverage(let k), .novelty(let k), .averagePopularity(let k), .gini(let k):
            return k
        case .precisionWithin(let k, _): return k
        case .auc, .rmse, .mae, .rocAUC, .logLoss, .ndcgWithin: return 0
        }
    }

    /// The definition written into reports.
    public var definition: String {
        switch self {
        case .precision: return "hits in the top k / k"
        case .recall: return "hits in the top k / |test items|"
        case .recallCapped: return "hits in the top k / min(k, |test items|)"
        case .ndcg: return "Σ_hits 1/log2(rank+1) / Σ_{i≤min(k,|test|)} 1/log2(i+1), binary relevance"
        case .hitRate: return "1 if any test item is in the top k"
        case .map: return "Σ_hits precision@rank / min(k, |test items|)"
        case .mrr: return "1 / rank of the first hit in the top k"
        case .coverage: return "distinct items recommended in anyone's top k / items"
        case .novelty: return "mean −log2(share of training users who have the item) over recommended items"
        case .averagePopularity: return "mean number of training interactions of recommended items"
        case .gini: return "Gini coefficient of how often each item is recommended in top-k lists"
        case .auc: return "per-user ROC AUC of test items against all other non-training items"
        case .rmse: return "root mean squared error of predicted ratings on the test pairs"
        case .mae: return "mean absolute error of predicted ratings on the test pairs"
        case .rocAUC: return "ROC AUC of the test pairs' predictions against the label rating ≥ 4"
        case .logLoss: return "mean −[y log p + (1 − y) log(1 − p)] of the test pairs, y = rating ≥ 4"
        case .ndcgWithin(let strict):
            return "NDCG of each user's test items ranked by prediction, relevant = rating ≥ \(strict ? 4 : 3)"
        case .precisionWithin(let k, let strict):
            return "relevant (rating ≥ \(strict ? 4 : 3)) among the top \(k) of each user's test items ranked by "
                + "prediction, / \(k)"
        }
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let spec = MetricSpec(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown metric \(text)"))
        }
        self = spec
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
