import RecKitData
import RecKitNN
import RecKitTensor

/// Every model RecKit can train by name. The command line, benchmark suites, help text, the
/// README's model table, model directories and `similar` all read this list: adding a model is
/// its file plus one line here.
public enum ModelRegistry {
    public static var all: [any TrainableRecommender.Type] {
        [
            Popularity.self, MostRecent.self, RandomRecommender.self, ItemKNN.self, UserKNN.self, ImplicitALS.self,
            EASE.self, EDLAE.self, RP3beta.self, SLIM.self,
            BPR.self, LogisticMF.self, NeuralCF.self, MultVAE.self, MultDAE.self, CDAE.self, AutoRec.self, RBM.self,
            BiasedMF.self,
            SVDPlusPlus.self, MFDNN.self, MFSide.self, MixtureOfTastes.self, VariationalMF.self,
            FactorizationMachine.self, DeepFM.self, WideAndDeep.self,
            SessionKNN.self,
            GRU4Rec.self,
            SASRec.self, Item2Vec.self, YouTubeDNN.self, ContentModel.self, TwoStage.self, Ensemble.self,
        ]
    }

    /// The `--model` words, in registry order.
    public static var names: [String] { all.map { $0.name } }

    /// The model called `name`.
    /// - Throws: `ConfigError` naming the models there are (and the closest one).
    public static func model(named name: String) throws(ConfigError) -> any TrainableRecommender.Type {
        guard let type = all.first(where: { $0.name == name }) else {
            throw ConfigError(
                model: name, key: "model",
                "unknown model '\(name)'\(didYouMean(name, among: names)); "
                    + "choose from \(names.joined(separator: ", ")) (`reckit models` describes them)"
            )
        }
        return type
    }

    /// `threads`, which every model takes: worker threads for this run, never saved.
    public static let threadsSetting = ModelSetting(
        "threads", .integer(.atLeast(1)),
        "worker threads (default: all cores); 1 makes Hogwild SGD (svd, bpr) bit-identical run to run",
        absentText: "all cores")
}

/// A model chosen by name with its settings decoded and checked: what the command line builds
/// from `--model` and `--set` (or a suite entry) once, and passes down.
public struct ConfiguredModel: Sendable {
    public let type: any TrainableRecommender.Type
    /// The complete, checked configuration (defaults filled in).
    public let config: any ModelConfig
    /// The settings as given (canonical keys, the user's text), for reports.
    public let given: [String: String]
    /// `threads`, when given.
    public let threadCount: Int?

    /// `name` with `settings` (`--set` text; `threads` included).
    /// - Throws: `ConfigError` for an unknown model or key, a bad value or a bad combination.
    public init(_ name: String, settings: [String: String] = [:]) throws(ConfigError) {
        let type = try ModelRegistry.model(named: name)
        var settings = settings
        var threads: Int?
        if let text = settings.removeValue(forKey: "threads") {
            guard case .integer(let value) = try ModelRegistry.threadsSetting.parse(text, model: name) else {
                preconditionFailure()
            }
            threads = Int(value)
        }
        self.type = type
        self.config = try type.anyConfig(from: settings)
        self.given = Dictionary(
            uniqueKeysWithValues: settings.map { key, value in
                (type.settings.first { $0.aliases.contains(key) }?.key ?? key, value)
            }
        ).merging(threads.map { ["threads": String($0)] } ?? [:]) { $1 }
        self.threadCount = threads
    }

    public var name: String { type.name }

    /// Whether the model draws random numbers and no seed was given (so runs over several seeds
    /// differ).
    public var isSeeded: Bool { given["seed"] == nil && type.drawsRandomNumbers(anyConfig: config) }

    /// The same model with `seed`.
    public func seeded(_ seed: UInt64) throws(ConfigError) -> ConfiguredModel {
        var settings = given
        settings["seed"] = String(seed)
        return try ConfiguredModel(name, settings: settings)
    }

    /// Trains on `train`; threads from `threads` unless the context sets them.
    /// - Throws: `ConfigError` for data the configuration cannot take, `FitError` for a diverging or
    ///   cancelled fit.
    public func fit(_ train: Interactions, context: TrainingContext = TrainingContext()) throws
        -> any TrainableRecommender
    {
        var context = context
        if context.threadCount == nil { context.threadCount = threadCount ?? Parallel.defaultThreadCount }
        return try type.fit(train, anyConfig: config, context: context)
    }

    /// `key=value,…` of the given settings in key order (nil when none were given).
    public var settingsDescription: String? {
        given.isEmpty ? nil : given.keys.sorted().map { "\($0)=\(given[$0]!)" }.joined(separator: ",")
    }
}

extension ConfiguredModel {
    /// A model written as `name:key=value:…` (`ease:regularization=500`): an ensemble's members, a
    /// content model's base. Errors name `model`'s setting `key`.
    public init(describedAs text: String, in model: String, key: String) throws(ConfigError) {
        let fields = text.split(separator: ":").map(String.init)
        guard let name = fields.first, !name.isEmpty else {
            throw ConfigError(model: model, key: key, "'\(text)' does not name a model")
        }
        var settings: [String: String] = [:]
        for field in fields.dropFirst() {
            let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, !pair[0].isEmpty else {
                throw ConfigError(model: model, key: key, "'\(field)' in '\(text)' is not key=value")
            }
            settings[pair[0]] = pair[1]
        }
        do { try self.init(name, settings: settings) } catch {
            throw ConfigError(model: model, key: key, "\(text): \(error)")
        }
    }
}

extension TrainableRecommender {
    static func anyConfig(from settings: [String: String]) throws(ConfigError) -> any ModelConfig {
        try config(from: settings)
    }
}
