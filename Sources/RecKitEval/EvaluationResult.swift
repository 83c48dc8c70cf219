import Foundation

/// What an evaluation measured and everything needed to reproduce it.
public struct EvaluationResult: Codable, Sendable, Equatable {
    /// The protocol, written into every output: `full-ranking` or `sampled`.
    public enum ProtocolKind: String, Codable, Sendable {
        /// Every item is scored; each user's training items are excluded.
        case fullRanking = "full-ranking"
        /// The NCF protocol: each user's held-out item against sampled negatives only.
        case sampled
        /// Predicted ratings of the test pairs against the true ones.
        case ratingPrediction = "rating-prediction"
        /// GRU4Rec's session protocol: every prefix of every test sequence predicts the next click,
        /// ranked among all items, nothing excluded.
        case nextItem = "next-item"
    }

    public var model: String
    public var protocolKind: ProtocolKind
    /// A sentence describing the protocol, e.g. "sampled: 1 held-out item ranked against 99 sampled
    /// negatives per user (not comparable with full ranking)".
    public var protocolDescription: String
    /// Metric values in the order asked for, keyed like `ndcg@10`.
    public var metrics: [MetricValue]
    public var evaluatedUserCount: Int
    public var userCount: Int
    public var itemCount: Int
    public var trainInteractionCount: Int
    public var testInteractionCount: Int
    public var fitSeconds: Double?
    public var evaluateSeconds: Double?
    /// Over several seeded runs (see `averaged(over:)`): how many, and each metric's sample
    /// standard deviation; the metric values are then the means.
    public var runCount: Int?
    public var standardDeviations: [String: Double]?
    /// Filled by callers that know them: data fingerprint, split, seed, RecKit version, configs.
    public var context: [String: String]

    public struct MetricValue: Codable, Sendable, Equatable {
        public var name: String
        public var value: Double
        public var definition: String
    }

    /// The value of `name` (e.g. `ndcg@10`), if measured.
    public subscript(name: String) -> Double? { metrics.first { $0.name == name }?.value }

    /// One result for runs of the same model and split that differ only by seed: each metric's
    /// mean, with its sample standard deviation (n − 1) in `standardDeviations`, and the mean fit
    /// and evaluation times. The first run supplies everything else.
    public static func averaged(over runs: [EvaluationResult]) -> EvaluationResult {
        precondition(!runs.isEmpty, "averaged(over:) needs at least one run")
        guard runs.count > 1 else { return runs[0] }
        var result = runs[0]
        var deviations: [String: Double] = [:]
        for (index, metric) in result.metrics.enumerated() {
            let values = runs.map { $0[metric.name] ?? .nan }
            let mean = values.reduce(0, +) / Double(values.count)
            result.metrics[index].value = mean
            deviations[metric.name] = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1))
                .squareRoot()
        }
        result.standardDeviations = deviations
        result.runCount = runs.count
        func mean(_ times: [Double?]) -> Double? {
            let known = times.compactMap { $0 }
            return known.count == times.count ? known.reduce(0, +) / Double(known.count) : nil
        }
        result.fitSeconds = mean(runs.map(\.fitSeconds))
        result.evaluateSeconds = mean(runs.map(\.evaluateSeconds))
        return result
    }

    /// `0.2158` or, over several runs, `0.2158 ± 0.0012`.
    public func formatted(_ name: String) -> String? {
        guard let value = self[name] else { return nil }
        if let deviation = standardDeviations?[name] { return String(format: "%.4f ± %.4f", value, deviation) }
        return String(format: "%.4f", value)
    }
}
