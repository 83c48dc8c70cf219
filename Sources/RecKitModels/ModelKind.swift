import RecKitData

/// The models the command line can train, by name.
public enum ModelKind: String, CaseIterable, Codable, Sendable {
    case popularity
    case random

    /// The settings each model accepts through `--set key=value`, with their meaning.
    public var settings: [(key: String, help: String)] {
        switch self {
        case .popularity:
            return [("window", "count only the last N seconds of training interactions (default: all)"),
                    ("weights", "true to sum interaction weights (e.g. play counts) instead of counting")]
        case .random:
            return [("seed", "random seed (default 0)")]
        }
    }

    /// Checks `settings` (unknown keys, bad values) without training.
    /// - Throws: `ConfigError` naming the model, key and problem.
    public func validate(_ settings: [String: String]) throws(ConfigError) {
        let known = Set(self.settings.map(\.key))
        if let unknown = settings.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigError(model: rawValue, key: unknown,
                "unknown setting; \(rawValue) takes \(known.isEmpty ? "none" : known.sorted().joined(separator: ", "))")
        }
        switch self {
        case .popularity: try popularityConfig(settings).validate()
        case .random: _ = try seed(settings)
        }
    }

    /// Trains the model on `train`.
    public func fit(_ train: Interactions, settings: [String: String] = [:]) throws(ConfigError) -> any Recommender {
        try validate(settings)
        switch self {
        case .popularity: return try Popularity(fitting: train, config: popularityConfig(settings))
        case .random: return RandomRecommender(fitting: train, seed: try seed(settings))
        }
    }

    private func popularityConfig(_ settings: [String: String]) throws(ConfigError) -> Popularity.Config {
        var config = Popularity.Config()
        if let text = settings["window"] {
            guard let window = Int64(text) else { throw ConfigError(model: rawValue, key: "window", "\"\(text)\" is not a whole number of seconds") }
            config.recentWindowSeconds = window
        }
        if let text = settings["weights"] {
            guard let flag = Bool(text) else { throw ConfigError(model: rawValue, key: "weights", "\"\(text)\" is not true or false") }
            config.useWeights = flag
        }
        return config
    }

    private func seed(_ settings: [String: String]) throws(ConfigError) -> UInt64 {
        guard let text = settings["seed"] else { return 0 }
        guard let value = UInt64(text) else { throw ConfigError(model: rawValue, key: "seed", "\"\(text)\" is not a non-negative integer") }
        return value
    }
}
