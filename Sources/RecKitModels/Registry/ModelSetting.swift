/// One setting of a model's `Config`: its command-line key, type, allowed values and meaning.
///
/// The default is not written here: it is read from the `Config`'s own default, so it lives in one
/// place. `reckit models NAME`, the README's model table and the settings reader all read this.
public struct ModelSetting: Sendable, Equatable {
    /// What a setting holds, with the values it allows.
    public enum Kind: Sendable, Equatable {
        case integer(NumberRange)
        case number(NumberRange)
        case boolean
        case choice([String])
        /// Comma-separated integers, each in the range.
        case integers(NumberRange)
        /// A random seed: a whole number in 0…2⁶⁴−1.
        case seed
        /// Free text in the format described (checked by the model's `validate`), with a valid example
        /// other than the default.
        case text(format: String, example: String)

        /// The type's name in help text.
        public var typeName: String {
            switch self {
            case .integer: return "integer"
            case .number: return "number"
            case .boolean: return "true/false"
            case .choice: return "choice"
            case .integers: return "integers"
            case .seed: return "seed"
            case .text: return "text"
            }
        }

        /// "must be …": `in 1…4096`, `> 0`, `one of cg, cholesky`.
        public var requirement: String {
            switch self {
            case .integer(let range), .number(let range), .integers(let range):
                let text = range.description
                let bound = text.hasPrefix("≥") || text.hasPrefix(">") || text.hasPrefix("≤") || text.hasPrefix("<")
                return (bound ? "" : "in ") + text + (isList ? " (each)" : "")
            case .choice(let values): return "one of \(values.joined(separator: ", "))"
            case .boolean: return "true or false"
            case .seed: return "a whole number in 0…2⁶⁴−1"
            case .text(let format, _): return format
            }
        }

        var isList: Bool { if case .integers = self { return true } else { return false } }

        /// The allowed values in words (`1…4096`, `> 0`, `cg, cholesky`).
        public var allowed: String {
            switch self {
            case .integer(let range), .number(let range): return range.description
            case .integers(let range): return "comma-separated, each \(range.description)"
            case .boolean: return "true, false"
            case .choice(let values): return values.joined(separator: ", ")
            case .seed: return "0…2⁶⁴−1"
            case .text(let format, _): return format
            }
        }
    }

    /// The command-line key (`learning_rate`), which is also the `Config`'s coding key.
    public var key: String
    public var kind: Kind
    /// One line of documentation.
    public var help: String
    /// Older names still accepted (a saved model or a script that used them keeps working).
    public var aliases: [String]
    /// How an absent value reads in help (`all` for a window that counts everything).
    public var absentText: String?

    public init(_ key: String, _ kind: Kind, _ help: String, aliases: [String] = [], absentText: String? = nil) {
        self.key = key
        self.kind = kind
        self.help = help
        self.aliases = aliases
        self.absentText = absentText
    }

    public static func integer(_ key: String, _ range: NumberRange, _ help: String, aliases: [String] = [])
        -> ModelSetting
    {
        ModelSetting(key, .integer(range), help, aliases: aliases)
    }

    public static func number(_ key: String, _ range: NumberRange, _ help: String) -> ModelSetting {
        ModelSetting(key, .number(range), help)
    }

    public static func boolean(_ key: String, _ help: String) -> ModelSetting { ModelSetting(key, .boolean, help) }

    public static func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type, _ help: String)
        -> ModelSetting
    where T.RawValue == String {
        ModelSetting(key, .choice(T.allCases.map(\.rawValue)), help)
    }

    /// The random seed every seeded model takes.
    public static let seed = ModelSetting("seed", .seed, "random seed; the same seed gives the same model")
}

/// The keys several models share, each defined once: one name, range and meaning per concept.
extension ModelSetting {
    /// `factors`: a latent width, the same key in every model.
    public static func factors(_ range: NumberRange = .between(1, 4096), _ help: String = "latent dimensions")
        -> ModelSetting
    {
        .integer("factors", range, help)
    }

    /// `epochs`: passes of SGD-style training over the data.
    public static func epochs(_ help: String = "SGD passes") -> ModelSetting { .integer("epochs", .atLeast(1), help) }

    /// `iterations`: alternations of a solver (users, then items).
    public static func iterations(_ help: String = "alternations (users, then items)") -> ModelSetting {
        .integer("iterations", .atLeast(1), help)
    }

    public static func learningRate(_ help: String = "SGD step") -> ModelSetting {
        .number("learning_rate", .above(0), help)
    }

    public static func regularization(_ help: String = "L2 weight") -> ModelSetting {
        .number("regularization", .atLeast(0), help)
    }

    public static func batchSize(_ help: String) -> ModelSetting { .integer("batch_size", .atLeast(1), help) }

    public static func negatives(_ help: String = "sampled negatives per positive") -> ModelSetting {
        .integer("negatives", .atLeast(1), help)
    }

    /// `alpha` of the confidence 1 + α·r.
    public static let alpha = ModelSetting.number("alpha", .atLeast(0), "confidence 1 + α·r")

    public static let initialStandardDeviation = ModelSetting.number(
        "init_std", .atLeast(0), "initial factor standard deviation")
}

/// An interval of allowed numbers, each end open, closed or absent.
public struct NumberRange: Sendable, Equatable, CustomStringConvertible {
    public var lower: Double?
    public var lowerIncluded: Bool
    public var upper: Double?
    public var upperIncluded: Bool

    public init(lower: Double?, lowerIncluded: Bool = true, upper: Double? = nil, upperIncluded: Bool = true) {
        self.lower = lower
        self.lowerIncluded = lowerIncluded
        self.upper = upper
        self.upperIncluded = upperIncluded
    }

    /// ≥ `value`.
    public static func atLeast(_ value: Double) -> NumberRange { NumberRange(lower: value) }
    /// > `value`.
    public static func above(_ value: Double) -> NumberRange { NumberRange(lower: value, lowerIncluded: false) }
    /// (`lower`, `upper`]: above `lower`, at most `upper`.
    public static func above(_ lower: Double, upTo upper: Double) -> NumberRange {
        NumberRange(lower: lower, lowerIncluded: false, upper: upper)
    }
    /// `lower`…`upper`, both included.
    public static func between(_ lower: Double, _ upper: Double) -> NumberRange {
        NumberRange(lower: lower, upper: upper)
    }
    /// [`lower`, `upper`).
    public static func from(_ lower: Double, below upper: Double) -> NumberRange {
        NumberRange(lower: lower, upper: upper, upperIncluded: false)
    }
    /// Any finite number.
    public static let any = NumberRange(lower: nil)

    public func contains(_ value: Double) -> Bool {
        guard value.isFinite else { return false }
        if let lower, lowerIncluded ? value < lower : value <= lower { return false }
        if let upper, upperIncluded ? value > upper : value >= upper { return false }
        return true
    }

    public var description: String {
        func text(_ value: Double) -> String { JSONValue.number(value).settingText }
        switch (lower, upper) {
        case (nil, nil): return "any"
        case (let lower?, nil): return "\(lowerIncluded ? "≥" : ">") \(text(lower))"
        case (nil, let upper?): return "\(upperIncluded ? "≤" : "<") \(text(upper))"
        case (let lower?, let upper?):
            if lowerIncluded && upperIncluded { return "\(text(lower))…\(text(upper))" }
            return "\(lowerIncluded ? "[" : "(")\(text(lower)), \(text(upper))\(upperIncluded ? "]" : ")")"
        }
    }
}
