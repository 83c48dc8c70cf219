/// Help text and the README's model table, generated from the registry so they never drift.
extension ModelRegistry {
    /// A setting as help shows it.
    public struct SettingDoc: Sendable, Equatable {
        public var key: String
        public var type: String
        public var defaultValue: String
        public var allowed: String
        public var help: String
        public var aliases: [String]
    }

    /// The settings of `model`, with their defaults read from its default `Config`.
    public static func settingDocs(_ model: any TrainableRecommender.Type) -> [SettingDoc] {
        let defaults = model.defaultConfigObject
        return model.settings.map { setting in
            SettingDoc(
                key: setting.key, type: setting.kind.typeName,
                defaultValue: defaults[setting.key].flatMap { $0 == .string("") ? String?.none : $0.settingText }
                    ?? setting
                    .absentText ?? "none",
                allowed: setting.kind.allowed,
                help: setting.help, aliases: setting.aliases)
        }
    }

    /// `reckit models`: each model's name and one line.
    public static var listing: String {
        let width = names.map(\.count).max() ?? 0
        return all.map { $0.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.summary }.joined(
            separator: "\n")
    }

    /// `reckit models NAME`: the model's line, then each setting with type, default, allowed values
    /// and meaning.
    public static func description(of model: any TrainableRecommender.Type) -> String {
        var lines = ["\(model.name): \(model.summary)"]
        if !model.details.isEmpty { lines.append(model.details) }
        let docs = settingDocs(model) + [commonDoc]
        let keyWidth = docs.map(\.key.count).max() ?? 0
        lines.append("")
        lines.append("settings (--set key=value, a YAML mapping, or a suite entry's settings):")
        for doc in docs {
            let alias = doc.aliases.isEmpty ? "" : " (also: \(doc.aliases.joined(separator: ", ")))"
            lines.append("  \(doc.key.padding(toLength: keyWidth, withPad: " ", startingAt: 0))  \(doc.help)\(alias)")
            lines.append(
                "  \(String(repeating: " ", count: keyWidth))  \(doc.type), default \(doc.defaultValue); \(doc.allowed)"
            )
        }
        return lines.joined(separator: "\n")
    }

    static var commonDoc: SettingDoc {
        SettingDoc(
            key: threadsSetting.key, type: threadsSetting.kind.typeName, defaultValue: threadsSetting.absentText ?? "",
            allowed:
                threadsSetting.kind.allowed, help: threadsSetting.help, aliases: [])
    }

    /// The README's model table (Markdown): name, what it is, settings with defaults.
    public static var markdownTable: String {
        var lines = ["| `--model` | what | `--set` keys (defaults) |", "|---|---|---|"]
        for model in all {
            let what = model.details.isEmpty ? model.summary : "\(model.summary); \(model.details)"
            let keys = settingDocs(model).map { "`\($0.key)` (\($0.defaultValue))" }.joined(separator: ", ")
            lines.append("| `\(model.name)` | \(what) | \(keys.isEmpty ? "none" : keys) |")
        }
        return lines.joined(separator: "\n")
    }
}
