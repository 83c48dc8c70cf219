import Foundation
import RecKitData
import RecKitTensor

/// The models the command line can train, by name.
public enum ModelKind: String, CaseIterable, Codable, Sendable {
    case popularity
    case random
    case ials
    case itemknn
    case userknn
    case ease
    case svd
    case bpr
    case svdpp
    case lmf
    case ncf
    case multvae

    /// The settings each model accepts through `--set key=value`, with their meaning.
    public var settings: [ModelSetting] {
        switch self {
        case .popularity:
            return [ModelSetting("window", "count only the last N seconds of training interactions (default: all)"),
                    ModelSetting("weights", "true to sum interaction weights (e.g. play counts) instead of counting")]
        case .random:
            return [ModelSetting("seed", "random seed (default 0)")]
        case .ials:
            return [ModelSetting("factors", "latent dimensions (64)"), ModelSetting("regularization", "L2 weight λ (0.05)"),
                    ModelSetting("alpha", "confidence 1 + α·r (1)"), ModelSetting("iterations", "alternations (15)"),
                    ModelSetting("solver", "cg or cholesky (cg)"), ModelSetting("cg_steps", "conjugate-gradient steps (3)"),
                    ModelSetting("confidence", "linear (1 + α·r), log (1 + α·log(1 + r/ε)) or implicit (α·r, implicit's convention) (linear)"), ModelSetting("epsilon", "ε of the log confidence (1)"), ModelSetting("seed", "random seed (0)")]
        case .itemknn:
            return [ModelSetting("k", "neighbours per item, itself included (20)"), ModelSetting("weighting", "cosine, tfidf, bm25 or none (cosine)"),
                    ModelSetting("shrinkage", "cosine shrinkage (0)"), ModelSetting("k1", "BM25 K1 (1.2)"), ModelSetting("b", "BM25 B (0.75)")]
        case .userknn:
            return [ModelSetting("k", "neighbours per user, itself included (50)"), ModelSetting("shrinkage", "cosine shrinkage (0)")]
        case .ease:
            return [ModelSetting("regularization", "λ (500)")]
        case .svd:
            return [ModelSetting("factors", "latent dimensions (100)"), ModelSetting("epochs", "SGD passes (20)"),
                    ModelSetting("learning_rate", "SGD step (0.005)"), ModelSetting("regularization", "L2 weight (0.02)"),
                    ModelSetting("init_std", "initial factor standard deviation (0.1)"), ModelSetting("decay", "learning-rate factor per epoch (1)"),
                    ModelSetting("solver", "sgd or als (sgd; als: λ·n per row, regularization 0.1 by default)"),
                    ModelSetting("temporal", "time-binned item biases and drifting user biases, sgd only (false)"),
                    ModelSetting("time_bins", "temporal: item-bias time bins (30)"), ModelSetting("drift_exponent", "temporal: β of dev_u(t) (0.4)"),
                    ModelSetting("drift_learning_rate", "temporal: step of α_u (1e-5)"),
                    ModelSetting("drift_regularization", "temporal: L2 weight of α_u (50)"),
                    ModelSetting("threads", "SGD Hogwild threads, ALS parallel rows (all cores; 1: bit-identical runs)"), ModelSetting("seed", "random seed (0)")]
        case .bpr:
            return [ModelSetting("factors", "latent dimensions (64)"), ModelSetting("epochs", "SGD passes (100)"),
                    ModelSetting("learning_rate", "SGD step (0.01)"), ModelSetting("regularization", "L2 weight (0.01)"),
                    ModelSetting("sampling", "negatives: uniform, popularity (in proportion to interactions, as implicit) or warp (uniform)"),
                    ModelSetting("learning_schedule", "sgd (fixed rate, as implicit) or adagrad (per coordinate, as LightFM; try learning_rate 0.05) (sgd)"),
                    ModelSetting("max_sampled", "WARP: most draws per positive (10)"),
                    ModelSetting("threads", "Hogwild threads (all cores; 1: bit-identical runs)"), ModelSetting("seed", "random seed (0)")]
        case .lmf:
            return [ModelSetting("factors", "latent dimensions (30)"), ModelSetting("iterations", "alternations (30)"),
                    ModelSetting("learning_rate", "AdaGrad step (1)"), ModelSetting("regularization", "L2 weight (0.6)"),
                    ModelSetting("alpha", "confidence 1 + α·r (1)"), ModelSetting("negatives", "sampled negatives per positive (5)"),
                    ModelSetting("seed", "random seed (0)")]
        case .ncf:
            return [ModelSetting("variant", "neumf, gmf or mlp (neumf)"), ModelSetting("factors", "GMF embedding width (16)"),
                    ModelSetting("layers", "MLP widths, the first split between user and item embeddings (64,32,16)"),
                    ModelSetting("epochs", "passes over the positives (20)"), ModelSetting("batch_size", "examples per step (256)"),
                    ModelSetting("learning_rate", "Adam step (0.001)"), ModelSetting("negatives", "sampled items per positive (4)"),
                    ModelSetting("regularization", "L2 weight decay (0)"), ModelSetting("seed", "random seed (0)")]
        case .multvae:
            return [ModelSetting("hidden", "encoder and decoder hidden width (600)"), ModelSetting("latent", "latent dimensions (200)"),
                    ModelSetting("epochs", "passes over the users (100)"), ModelSetting("batch_size", "users per step (500)"),
                    ModelSetting("learning_rate", "Adam step (0.001)"), ModelSetting("dropout", "input dropout (0.5)"),
                    ModelSetting("beta", "final KL weight (0.2)"), ModelSetting("anneal_steps", "updates to reach beta (0: all of training)"),
                    ModelSetting("seed", "random seed (0)")]
        case .svdpp:
            return [ModelSetting("factors", "latent dimensions (20)"), ModelSetting("epochs", "SGD passes (20)"),
                    ModelSetting("learning_rate", "SGD step (0.007)"), ModelSetting("regularization", "L2 weight (0.02)"),
                    ModelSetting("init_std", "initial factor standard deviation (0.1)"), ModelSetting("seed", "random seed (0)")]
        }
    }

    /// Checks `settings` (unknown keys, bad values) without training.
    /// - Throws: `ConfigError` naming the model, key and problem.
    public func validate(_ settings: [String: String]) throws(ConfigError) {
        let known = Set(self.settings.map { $0.key })
        if let unknown = settings.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigError(model: rawValue, key: unknown,
                "unknown setting; \(rawValue) takes \(known.isEmpty ? "none" : known.sorted().joined(separator: ", "))")
        }
        switch self {
        case .popularity: try popularityConfig(settings).validate()
        case .random: _ = try seed(settings)
        case .ials: try alsConfig(settings).validate()
        case .itemknn: try knnConfig(settings).validate()
        case .userknn: try userKNNConfig(settings).validate()
        case .ease: try easeConfig(settings).validate()
        case .svd: try mfConfig(settings).validate()
        case .svdpp: try svdppConfig(settings).validate()
        case .lmf: try lmfConfig(settings).validate()
        case .ncf: try ncfConfig(settings).validate()
        case .multvae: try vaeConfig(settings).validate()
        case .bpr: try bprConfig(settings).validate()
        }
        if try threads(settings) < 1 { throw ConfigError(model: rawValue, key: "threads", "must be at least 1") }
    }

    /// Trains the model on `train`, reporting each iteration or epoch to `progress` for the models
    /// that train in passes.
    public func fit(
        _ train: Interactions, settings: [String: String] = [:], progress: ((TrainingUpdate) -> Void)? = nil
    ) throws(ConfigError) -> any Recommender {
        try validate(settings)
        let passes = progress.map { report in { (step: Int, total: Int) in report(TrainingUpdate(step: step, total: total)) } }
        switch self {
        case .popularity: return try Popularity(fitting: train, config: popularityConfig(settings))
        case .random: return RandomRecommender(fitting: train, seed: try seed(settings))
        case .ials: return try ImplicitALS(fitting: train, config: alsConfig(settings), progress: passes)
        case .itemknn: return try ItemKNN(fitting: train, config: knnConfig(settings))
        case .userknn: return try UserKNN(fitting: train, config: userKNNConfig(settings))
        case .ease: return try EASE(fitting: train, config: easeConfig(settings))
        case .svd: return try BiasedMF(fitting: train, config: mfConfig(settings), threadCount: try threads(settings), progress: passes)
        case .svdpp: return try SVDPlusPlus(fitting: train, config: svdppConfig(settings), progress: passes)
        case .lmf: return try LogisticMF(fitting: train, config: lmfConfig(settings))
        case .ncf:
            return try NeuralCF(fitting: train, config: ncfConfig(settings)) { step, total, loss in
                progress?(TrainingUpdate(step: step, total: total, loss: loss))
            }
        case .multvae:
            return try MultVAE(fitting: train, config: vaeConfig(settings)) { step, total, loss in
                progress?(TrainingUpdate(step: step, total: total, loss: loss))
            }
        case .bpr: return try BPR(fitting: train, config: bprConfig(settings), threadCount: try threads(settings), progress: passes)
        }
    }

    /// The `threads` setting: all cores (`RECKIT_THREADS` or the processor count) when absent, as
    /// for every parallel model; Hogwild SGD (svd, bpr) is bit-identical run to run only with 1.
    private func threads(_ settings: [String: String]) throws(ConfigError) -> Int {
        try SettingReader(model: rawValue, settings: settings).int("threads") ?? Parallel.defaultThreadCount
    }

    func ncfConfig(_ settings: [String: String]) throws(ConfigError) -> NeuralCF.Config {
        var config = NeuralCF.Config()
        let reader = SettingReader(model: rawValue, settings: settings)
        config.variant = try reader.choice("variant", NeuralCF.Variant.self) ?? config.variant
        config.factorCount = try reader.int("factors") ?? config.factorCount
        if let text = settings["layers"] {
            let widths = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !widths.isEmpty, widths.allSatisfy({ $0 != nil }) else {
                throw ConfigError(model: rawValue, key: "layers", "\"\(text)\" is not a comma-separated list of integers")
            }
            config.layers = widths.map { $0! }
        }
        config.epochCount = try reader.int("epochs") ?? config.epochCount
        config.batchSize = try reader.int("batch_size") ?? config.batchSize
        config.learningRate = try reader.float("learning_rate") ?? config.learningRate
        config.negativeCount = try reader.int("negatives") ?? config.negativeCount
        config.regularization = try reader.float("regularization") ?? config.regularization
        config.seed = try reader.seed() ?? config.seed
        return config
    }

    func vaeConfig(_ settings: [String: String]) throws(ConfigError) -> MultVAE.Config {
        var config = MultVAE.Config()
        let reader = SettingReader(model: rawValue, settings: settings)
        config.hiddenSize = try reader.int("hidden") ?? config.hiddenSize
        config.latentSize = try reader.int("latent") ?? config.latentSize
        config.epochCount = try reader.int("epochs") ?? config.epochCount
        config.batchSize = try reader.int("batch_size") ?? config.batchSize
        config.learningRate = try reader.float("learning_rate") ?? config.learningRate
        config.dropout = try reader.float("dropout") ?? config.dropout
        config.beta = try reader.float("beta") ?? config.beta
        config.annealSteps = try reader.int("anneal_steps") ?? config.annealSteps
        config.seed = try reader.seed() ?? config.seed
        return config
    }

    func lmfConfig(_ settings: [String: String]) throws(ConfigError) -> LogisticMF.Config {
        var config = LogisticMF.Config()
        let reader = SettingReader(model: rawValue, settings: settings)
        config.factorCount = try reader.int("factors") ?? config.factorCount
        config.iterationCount = try reader.int("iterations") ?? config.iterationCount
        config.learningRate = try reader.float("learning_rate") ?? config.learningRate
        config.regularization = try reader.float("regularization") ?? config.regularization
        config.alpha = try reader.float("alpha") ?? config.alpha
        config.negativeCount = try reader.int("negatives") ?? config.negativeCount
        config.seed = try reader.seed() ?? config.seed
        return config
    }

    func svdppConfig(_ settings: [String: String]) throws(ConfigError) -> SVDPlusPlus.Config {
        var config = SVDPlusPlus.Config()
        let reader = SettingReader(model: rawValue, settings: settings)
        config.factorCount = try reader.int("factors") ?? config.factorCount
        config.epochCount = try reader.int("epochs") ?? config.epochCount
        config.learningRate = try reader.float("learning_rate") ?? config.learningRate
        config.regularization = try reader.float("regularization") ?? config.regularization
        config.initialStandardDeviation = try reader.float("init_std") ?? config.initialStandardDeviation
        config.seed = try reader.seed() ?? config.seed
        return config
    }

    func bprConfig(_ settings: [String: String]) throws(ConfigError) -> BPR.Config {
        var config = BPR.Config()
        let reader = SettingReader(model: rawValue, settings: settings)
        config.factorCount = try reader.int("factors") ?? config.factorCount
        config.epochCount = try reader.int("epochs") ?? config.epochCount
        config.learningRate = try reader.float("learning_rate") ?? config.learningRate
        config.regularization = try reader.float("regularization") ?? config.regularization
        config.sampling = try reader.choice("sampling", BPR.NegativeSampling.self) ?? config.sampling
        config.learningSchedule = try reader.choice("learning_schedule", BPR.LearningSchedule.self) ?? config.learningSchedule
        config.maxSampled = try reader.int("max_sampled") ?? config.maxSampled
        config.seed = try reader.seed() ?? config.seed
        return config
    }

    func mfConfig(_ settings: [String: String]) throws(ConfigError) -> BiasedMF.Config {
        var config = BiasedMF.Config()
        let reader = SettingReader(model: rawValue, settings: settings)
        config.factorCount = try reader.int("factors") ?? config.factorCount
        config.epochCount = try reader.int("epochs") ?? config.epochCount
        config.learningRate = try reader.float("learning_rate") ?? config.learningRate
        config.regularization = try reader.float("regularization") ?? config.regularization
        config.initialStandardDeviation = try reader.float("init_std") ?? config.initialStandardDeviation
        config.learningRateDecay = try reader.float("decay") ?? config.learningRateDecay
        config.solver = try reader.choice("solver", BiasedMF.Solver.self) ?? config.solver
        // ALS's λ multiplies each row's rating count: 0.1 suits it as 0.02 suits SGD.
        if config.solver == .als && settings["regularization"] == nil { config.regularization = 0.1 }
        config.temporal = try reader.bool("temporal") ?? config.temporal
        config.timeBinCount = try reader.int("time_bins") ?? config.timeBinCount
        config.driftExponent = try reader.float("drift_exponent") ?? config.driftExponent
        config.driftLearningRate = try reader.float("drift_learning_rate") ?? config.driftLearningRate
        config.driftRegularization = try reader.float("drift_regularization") ?? config.driftRegularization
        config.seed = try reader.seed() ?? config.seed
        return config
    }

    func knnConfig(_ settings: [String: String]) throws(ConfigError) -> ItemKNN.Config {
        var config = ItemKNN.Config()
        let reader = SettingReader(model: rawValue, settings: settings)
        config.neighbourCount = try reader.int("k") ?? config.neighbourCount
        config.weighting = try reader.choice("weighting", ItemKNN.Weighting.self) ?? config.weighting
        config.shrinkage = try reader.float("shrinkage") ?? config.shrinkage
        config.bm25K1 = try reader.float("k1") ?? config.bm25K1
        config.bm25B = try reader.float("b") ?? config.bm25B
        return config
    }

    func userKNNConfig(_ settings: [String: String]) throws(ConfigError) -> UserKNN.Config {
        var config = UserKNN.Config()
        let reader = SettingReader(model: rawValue, settings: settings)
        config.neighbourCount = try reader.int("k") ?? config.neighbourCount
        config.shrinkage = try reader.float("shrinkage") ?? config.shrinkage
        return config
    }

    func easeConfig(_ settings: [String: String]) throws(ConfigError) -> EASE.Config {
        EASE.Config(regularization: try SettingReader(model: rawValue, settings: settings).float("regularization") ?? 500)
    }

    func alsConfig(_ settings: [String: String]) throws(ConfigError) -> ImplicitALS.Config {
        var config = ImplicitALS.Config()
        let reader = SettingReader(model: rawValue, settings: settings)
        config.factorCount = try reader.int("factors") ?? config.factorCount
        config.regularization = try reader.float("regularization") ?? config.regularization
        config.alpha = try reader.float("alpha") ?? config.alpha
        config.iterationCount = try reader.int("iterations") ?? config.iterationCount
        config.cgSteps = try reader.int("cg_steps") ?? config.cgSteps
        config.logEpsilon = try reader.float("epsilon") ?? config.logEpsilon
        config.seed = try reader.seed() ?? config.seed
        config.solver = try reader.choice("solver", ImplicitALS.Solver.self) ?? config.solver
        config.confidence = try reader.choice("confidence", ImplicitALS.ConfidenceScaling.self) ?? config.confidence
        return config
    }

    func popularityConfig(_ settings: [String: String]) throws(ConfigError) -> Popularity.Config {
        var config = Popularity.Config()
        if let text = settings["window"] {
            guard let window = Int64(text) else { throw ConfigError(model: rawValue, key: "window", "\"\(text)\" is not a whole number of seconds") }
            config.recentWindowSeconds = window
        }
        config.useWeights = try SettingReader(model: rawValue, settings: settings).bool("weights") ?? config.useWeights
        return config
    }

    private func seed(_ settings: [String: String]) throws(ConfigError) -> UInt64 {
        guard let text = settings["seed"] else { return 0 }
        guard let value = UInt64(text) else { throw ConfigError(model: rawValue, key: "seed", "\"\(text)\" is not a non-negative integer") }
        return value
    }
}

/// Typed reading of `--set` values, with a `ConfigError` naming the key for bad text.
struct SettingReader {
    let model: String
    let settings: [String: String]

    func int(_ key: String) throws(ConfigError) -> Int? {
        guard let text = settings[key] else { return nil }
        guard let value = Int(text) else { throw ConfigError(model: model, key: key, "\"\(text)\" is not an integer") }
        return value
    }

    func float(_ key: String) throws(ConfigError) -> Float? {
        guard let text = settings[key] else { return nil }
        guard let value = Float(text), value.isFinite else { throw ConfigError(model: model, key: key, "\"\(text)\" is not a number") }
        return value
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let text = settings[key] else { return nil }
        guard let value = Bool(text) else { throw ConfigError(model: model, key: key, "\"\(text)\" is not true or false") }
        return value
    }

    func seed() throws(ConfigError) -> UInt64? {
        guard let text = settings["seed"] else { return nil }
        guard let value = UInt64(text) else { throw ConfigError(model: model, key: "seed", "\"\(text)\" is not a non-negative integer") }
        return value
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws(ConfigError) -> T? where T.RawValue == String {
        guard let text = settings[key] else { return nil }
        guard let value = T(rawValue: text) else {
            throw ConfigError(model: model, key: key, "\"\(text)\" is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}

/// Progress of a model's training: pass `step` of `total` done (1-based), with the pass's mean loss
/// for models that compute one.
public struct TrainingUpdate: Sendable, Equatable {
    public var step: Int
    public var total: Int
    public var loss: Float?
    public init(step: Int, total: Int, loss: Float? = nil) {
        self.step = step
        self.total = total
        self.loss = loss
    }
}

/// One `--set` key a model accepts, with its meaning.
public struct ModelSetting: Sendable, Equatable {
    public var key: String
    public var help: String
    public init(_ key: String, _ help: String) {
        self.key = key
        self.help = help
    }
}
