import Foundation

/// The settings a tuning run may try: for each `--set` key, a range or a list to draw from.
public struct SearchSpace: Sendable, Equatable {
    /// How one setting is drawn.
    public enum Dimension: Sendable, Equatable, CustomStringConvertible {
        /// Uniform in [low, high].
        case uniform(Double, Double)
        /// Log-uniform in [low, high] (both > 0): equal odds for each factor of ten.
        case logUniform(Double, Double)
        /// A whole number in low…high, log-uniform when `log`.
        case integer(Int, Int, log: Bool)
        /// One of the values, equally likely.
        case choice([String])
        /// Always this value.
        case fixed(String)

        /// The `--set` text of a draw.
        func draw(using generator: inout SplitMix64) -> String {
            let u = Double(generator.next() >> 11) / Double(1 << 53) // [0, 1)
            switch self {
            case .uniform(let low, let high): return Self.format(low + (high - low) * u)
            case .logUniform(let low, let high): return Self.format(exp(log(low) + (log(high) - log(low)) * u))
            case .integer(let low, let high, let log):
                if log {
                    let value = exp(
                        Foundation.log(Double(low)) + (Foundation.log(Double(high) + 1) - Foundation.log(Double(low)))
                            * u)
                    return String(min(high, max(low, Int(value.rounded(.down)))))
                }
                return String(low + Int((Double(high - low + 1) * u).rounded(.down)))
            case .choice(let values): return values[min(values.count - 1, Int(Double(values.count) * u))]
            case .fixed(let value): return value
            }
        }

        /// Six significant digits: short in files and reports, far finer than any setting needs.
        static func format(_ value: Double) -> String {
            let text = String(format: "%.6g", value)
            return text.contains("e")
                ? String(format: "%.10f", value).replacingOccurrences(
                    of: "0+$", with: "", options: .regularExpression) : text
        }

        /// Whether the report's axis for this setting is logarithmic.
        public var isLogarithmic: Bool {
            switch self {
            case .logUniform: return true
            case .integer(_, _, let log): return log
            default: return false
            }
        }

        public var description: String {
            switch self {
            case .uniform(let low, let high): return "uniform \(Self.format(low))…\(Self.format(high))"
            case .logUniform(let low, let high): return "log-uniform \(Self.format(low))…\(Self.format(high))"
            case .integer(let low, let high, let log): return "\(log ? "log-" : "")integer \(low)…\(high)"
            case .choice(let values): return "one of \(values.joined(separator: ", "))"
            case .fixed(let value): return value
            }
        }
    }

    public var dimensions: [String: Dimension]

    public init(_ dimensions: [String: Dimension]) { self.dimensions = dimensions }

    /// Trial `index`'s settings: drawn from a generator seeded by (`seed`, `index`) alone, so a resumed
    /// search draws the same trials as one that never stopped.
    public func draw(trial index: Int, seed: UInt64) -> [String: String] {
        var generator = SplitMix64(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15) ^ 0x7E57_5EA5)
        var settings: [String: String] = [:]
        for key in dimensions.keys.sorted() { settings[key] = dimensions[key]!.draw(using: &generator) }
        return settings
    }

    /// One line per setting, in key order (what a results file records to recognise its search).
    public var description: String {
        dimensions.keys.sorted().map { "\($0): \(dimensions[$0]!)" }.joined(separator: "; ")
    }

    /// The spaces `reckit tune` searches when no `--space` file is given (README "Tuning").
    public static func defaults(for model: String) -> SearchSpace? {
        switch model {
        case "ease": return SearchSpace(["regularization": .logUniform(1, 10_000)])
        case "edlae":
            return SearchSpace(["dropout": .uniform(0, 0.9), "regularization": .logUniform(0.1, 10_000)])
        case "rp3beta":
            return SearchSpace([
                "alpha": .uniform(0, 2), "beta": .uniform(0, 1), "neighbors": .integer(10, 1000, log: true),
                "normalize": .choice(["true", "false"]),
            ])
        case "slim":
            return SearchSpace([
                "alpha": .logUniform(0.0001, 1), "l1_ratio": .logUniform(0.001, 1),
                "neighbors": .integer(10, 1000, log: true),
            ])
        case "itemknn":
            return SearchSpace([
                "neighbors": .integer(5, 1000, log: true), "weighting": .choice(["cosine", "tfidf", "bm25", "none"]),
                "shrinkage": .uniform(0, 100),
            ])
        case "userknn":
            return SearchSpace(["neighbors": .integer(5, 1000, log: true), "shrinkage": .uniform(0, 100)])
        case "ials":
            return SearchSpace([
                "factors": .integer(16, 256, log: true), "regularization": .logUniform(0.01, 1000),
                "alpha": .logUniform(0.1, 100),
            ])
        case "bpr":
            return SearchSpace([
                "factors": .integer(16, 256, log: true), "learning_rate": .logUniform(0.001, 0.5),
                "regularization": .logUniform(0.00001, 0.1), "sampling": .choice(["uniform", "popularity", "warp"]),
            ])
        case "lmf":
            return SearchSpace([
                "factors": .integer(16, 128, log: true), "regularization": .logUniform(0.01, 100),
                "alpha": .logUniform(0.1, 100),
            ])
        case "svd":
            return SearchSpace([
                "factors": .integer(8, 256, log: true), "learning_rate": .logUniform(0.001, 0.05),
                "regularization": .logUniform(0.001, 0.5), "epochs": .integer(10, 60, log: false),
            ])
        case "multvae", "multdae":
            return SearchSpace([
                "hidden": .integer(100, 1000, log: true), "factors": .integer(32, 400, log: true),
                "dropout": .uniform(0, 0.8),
            ])
        case "fm", "deepfm", "widedeep":
            return SearchSpace([
                "epochs": .integer(1, 15, log: false), "learning_rate": .logUniform(0.0003, 0.01),
            ])
        case "mfdnn": // its ID embeddings overfit within a few epochs (ml-latest-small: best at 2–5)
            return SearchSpace([
                "epochs": .integer(1, 8, log: false), "learning_rate": .logUniform(0.0003, 0.003),
            ])
        case "mfside", "mixture": // sums of embeddings: Adam's weight decay and the epochs keep the IDs in check
            return SearchSpace([
                "epochs": .integer(1, 20, log: false), "learning_rate": .logUniform(0.0005, 0.02),
                "regularization": .logUniform(0.00001, 0.01),
            ])
        case "vmf": // the KL term regularises
            return SearchSpace([
                "epochs": .integer(1, 20, log: false), "learning_rate": .logUniform(0.0005, 0.02),
                "kl_weight": .logUniform(0.001, 1),
            ])
        case "content": // the network's epochs are chosen on held-out warm items; the base's shape matters most
            return SearchSpace([
                "base": .choice([
                    "ials:factors=32", "ials:factors=64", "ials:factors=64:regularization=10",
                    "ials:factors=128:regularization=10",
                ]),
                "mapping": .choice(["cnn", "knn", "hybrid"]), "neighbors": .integer(5, 100, log: true),
                "loss": .choice(["scores", "vectors"]), "hidden": .choice(["0", "128", "256"]),
                "learning_rate": .logUniform(0.0003, 0.003),
            ])
        case "youtubednn": // epochs are chosen on each user's last item; how much history the mean reads matters most
            return SearchSpace([
                "history": .choice(["20", "50", "100", "200", "500"]), "learning_rate": .logUniform(0.0003, 0.003),
                "weight_decay": .choice(["0", "0.000001", "0.00001"]),
                "examples_per_user": .choice(["0", "50", "100", "200"]),
            ])
        case "twostage": // the stages keep their own settings; the ranking's epochs are chosen on held-out users
            return SearchSpace([
                "holdout": .choice(["1", "3"]), "hidden": .choice(["0", "32", "64"]),
                "recent": .choice(["3", "5", "10"]), "learning_rate": .logUniform(0.001, 0.01),
            ])
        case "cdae":
            return SearchSpace([
                "hidden": .integer(16, 256, log: true), "dropout": .uniform(0, 0.8),
                "regularization": .logUniform(0.000001, 0.01),
            ])
        default: return nil
        }
    }
}
