import RecKitData
import RecKitNN

/// A recommender that the registry can train from settings, save and restore.
///
/// A conforming model is the whole story of one model in one file: its command-line name, its
/// `Config`, how it trains and how its weights are saved and read back. A model that cannot save
/// its state does not compile.
public protocol TrainableRecommender: Recommender {
    associatedtype Config: ModelConfig
    /// The `--model` word (`ials`), also the kind recorded in model directories.
    static var name: String { get }
    /// One line for `reckit models`.
    static var summary: String { get }
    /// More for the README's model table (what it is good at, measured numbers); may be empty.
    static var details: String { get }
    /// The settings it was trained with.
    var config: Config { get }
    /// Trains on `train`.
    /// - Throws: `ConfigError` for a configuration the data cannot take, `FitError` when training
    ///   diverges or is cancelled.
    init(fitting train: Interactions, config: Config, context: TrainingContext) throws
    /// The trained state as named tensors (`ModelStore` writes them as safetensors).
    func save(into weights: inout ModelWeights)
    /// The model `save(into:)` wrote, for `userCount` users and `itemCount` items.
    /// - Throws: `RestoreError` for a missing or mis-shaped tensor.
    init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError)
    /// Whether training with `config` draws random numbers, so that seeds give different models
    /// (default: whether the model takes a `seed`).
    static func drawsRandomNumbers(_ config: Config) -> Bool
}

extension TrainableRecommender {
    public static var details: String { "" }
    public static func drawsRandomNumbers(_ config: Config) -> Bool { Config.settings.contains { $0.key == "seed" } }

    static func drawsRandomNumbers(anyConfig: any ModelConfig) -> Bool {
        (anyConfig as? Config).map(drawsRandomNumbers) ?? true
    }
    /// The registry name (a model whose variants report differently overrides it).
    public var name: String { Self.name }

    /// Trains with the default context (the model's default threads, no progress).
    public init(fitting train: Interactions, config: Config = Config()) throws {
        try self.init(fitting: train, config: config, context: TrainingContext())
    }

    /// The weights `save(into:)` writes.
    public var weights: ModelWeights {
        var weights = ModelWeights()
        save(into: &weights)
        return weights
    }

    /// Checks `config` for this model (`ConfigError` naming the key), as every fitting init does first.
    public static func check(_ config: Config) throws(ConfigError) { try config.check(model: name) }

    /// `settings` (command-line text, keys or their aliases) decoded onto the defaults and checked.
    /// - Throws: `ConfigError` for an unknown key ("did you mean"), a value of the wrong type or
    ///   out of range.
    public static func config(from settings: [String: String]) throws(ConfigError) -> Config {
        var values: [String: JSONValue] = [:]
        var given: Set<String> = []
        let specs = Config.settings
        for key in settings.keys.sorted() {
            guard let spec = specs.first(where: { $0.key == key || $0.aliases.contains(key) }) else {
                let names = specs.map(\.key)
                throw ConfigError(
                    model: name, key: key,
                    "unknown setting\(didYouMean(key, among: names)); "
                        + "\(name) takes \(names.isEmpty ? "none" : names.sorted().joined(separator: ", "))"
                )
            }
            guard given.insert(spec.key).inserted else {
                throw ConfigError(model: name, key: key, "is another name for \(spec.key), which is set too")
            }
            values[spec.key] = try spec.parse(settings[key]!, model: name)
        }
        var config = try Config.decoding(values, model: name)
        config.resolveDefaults(given: given)
        try check(config)
        return config
    }

    /// The configuration as typed JSON (what a model directory's manifest stores).
    public var configObject: [String: JSONValue] { config.jsonObject }

    static func fit(_ train: Interactions, anyConfig: any ModelConfig, context: TrainingContext) throws
        -> any TrainableRecommender
    {
        guard let config = anyConfig as? Config else { preconditionFailure("\(name) given a \(type(of: anyConfig))") }
        return try Self(fitting: train, config: config, context: context)
    }

    public static func restore(
        config object: [String: JSONValue], weights: ModelWeights, userCount: Int, itemCount: Int
    ) throws
        -> any TrainableRecommender
    {
        let config = try Config.decoding(object, model: name)
        try check(config)
        return try Self(restoring: config, weights: weights, userCount: userCount, itemCount: itemCount)
    }

    public static func configObject(_ settings: [String: String]) throws(ConfigError) -> [String: JSONValue] {
        try config(from: settings).jsonObject
    }

    /// The default configuration as typed JSON.
    public static var defaultConfigObject: [String: JSONValue] { Config().jsonObject }
    /// The settings the model takes.
    public static var settings: [ModelSetting] { Config.settings }
}
