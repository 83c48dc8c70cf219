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
    /// Filled by callers that know them: data fingerprint, split, seed, RecKit version, configs.
    public var context: [String: String]

    public struct MetricValue: Codable, Sendable, Equatable {
        public var name: String
        public var value: Double
        public var definition: String
    }

    /// The value of `name` (e.g. `ndcg@10`), if measured.
    public subscript(name: String) -> Double? { metrics.first { $0.name == name }?.value }
}
