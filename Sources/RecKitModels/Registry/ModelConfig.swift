import Foundation

/// A model's settings: `Codable` with coding keys in the command line's names, every default in
/// its `init()`, each key described once in `settings`.
///
/// Per-key ranges and choices are checked by `ModelConfig.check(model:)` from `settings`;
/// `validate()` adds what involves several keys.
public protocol ModelConfig: Codable, Sendable, Equatable {
    /// The defaults.
    init()
    /// Every key the configuration has, in the order help lists them.
    static var settings: [ModelSetting] { get }
    /// Checks that involve several keys (per-key ranges are checked from `settings`).
    func validate(model: String) throws(ConfigError)
    /// Adjusts defaults that depend on other settings, given the keys the user set explicitly
    /// (e.g. biased MF's λ is 0.1 under ALS unless given).
    mutating func resolveDefaults(given: Set<String>)
}

extension ModelConfig {
    public func validate(model: String) throws(ConfigError) {}
    public mutating func resolveDefaults(given: Set<String>) {}

    /// The configuration as a JSON object keyed by setting.
    public var jsonObject: [String: JSONValue] {
        let encoder = JSONEncoder()
        guard let data = try? encoder.encode(self),
            case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: data)
        else {
            preconditionFailure("\(Self.self) does not encode as a JSON object")
        }
        return object
    }

    /// Builds a configuration from a JSON object (missing keys take their defaults).
    /// - Throws: `ConfigError` for an unknown key or a value of the wrong type.
    public static func decoding(_ object: [String: JSONValue], model: String) throws(ConfigError) -> Self {
        let known = Set(settings.map(\.key))
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigError(
                model: model, key: unknown, "unknown setting; \(model) takes \(known.sorted().joined(separator: ", "))")
        }
        var merged = Self().jsonObject
        for (key, value) in object { merged[key] = value == .null ? nil : value }
        do {
            return try JSONDecoder().decode(Self.self, from: JSONEncoder().encode(JSONValue.object(merged)))
        } catch {
            throw ConfigError(model: model, key: "config", "cannot be read: \(error)")
        }
    }

    /// Checks every key against its range or choices, then `validate(model:)`.
    /// - Throws: `ConfigError` naming the model, the key and what is allowed.
    public func check(model: String) throws(ConfigError) {
        let object = jsonObject
        for setting in Self.settings {
            guard let value = object[setting.key] else { continue }
            try setting.check(value, model: model)
        }
        try validate(model: model)
    }
}

extension ModelSetting {
    /// Checks a decoded value against the allowed values.
    func check(_ value: JSONValue, model: String) throws(ConfigError) {
        func fail() -> ConfigError {
            ConfigError(model: model, key: key, "must be \(kind.requirement), not \(value.settingText)")
        }
        switch kind {
        case .integer(let range), .number(let range):
            guard let number = value.doubleValue, range.contains(number) else { throw fail() }
        case .integers(let range):
            guard case .array(let values) = value, !values.isEmpty,
                values.allSatisfy({ $0.doubleValue.map(range.contains) ?? false })
            else { throw fail() }
        case .choice(let values):
            guard case .string(let text) = value, values.contains(text) else { throw fail() }
        case .boolean, .seed:
            break
        case .text:
            guard case .string = value else { throw fail() }
        }
    }

    /// The value of `text` as this setting's type.
    /// - Throws: `ConfigError` for text that is not of the type or outside the allowed values.
    func parse(_ text: String, model: String) throws(ConfigError) -> JSONValue {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let value: JSONValue
        switch kind {
        case .integer:
            guard let number = Int64(trimmed) else {
                throw ConfigError(model: model, key: key, "\"\(text)\" is not an integer")
            }
            value = .integer(number)
        case .number:
            guard let number = Double(trimmed), number.isFinite, Float(number).isFinite else {
                throw ConfigError(model: model, key: key, "\"\(text)\" is not a number")
            }
            value = .number(number)
        case .boolean:
            guard let flag = Bool(trimmed.lowercased()) else {
                throw ConfigError(model: model, key: key, "\"\(text)\" is not true or false")
            }
            value = .bool(flag)
        case .choice(let values):
            guard values.contains(trimmed) else {
                throw ConfigError(model: model, key: key, "\"\(text)\" is not one of \(values.joined(separator: ", "))")
            }
            value = .string(trimmed)
        case .integers:
            let parts = trimmed.split(separator: ",").map { Int64($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
                throw ConfigError(model: model, key: key, "\"\(text)\" is not a comma-separated list of integers")
            }
            value = .array(parts.map { .integer($0!) })
        case .seed:
            guard let seed = UInt64(trimmed) else {
                throw ConfigError(model: model, key: key, "\"\(text)\" is not a whole number in 0…2⁶⁴−1")
            }
            value = .unsigned(seed)
        case .text:
            value = .string(trimmed)
        }
        try check(value, model: model)
        return value
    }
}

/// Levenshtein distance, for "did you mean" hints.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

/// " (did you mean 'x'?)" for the closest of `candidates` within two edits, else "".
func didYouMean(_ word: String, among candidates: [String]) -> String {
    let scored = candidates.map { (name: $0, distance: editDistance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.distance < $1.distance || ($0.distance == $1.distance && $0.name < $1.name) }),
        best.distance <= (word.count >= 4 ? 2 : 1)
    else { return "" }
    return " (did you mean '\(best.name)'?)"
}
