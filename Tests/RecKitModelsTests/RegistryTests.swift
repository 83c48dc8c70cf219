import Foundation
import RecKitNN
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitModels

@Suite struct RegistryTests {
    @Test func namesAreUniqueAndFound() throws {
        #expect(Set(ModelRegistry.names).count == ModelRegistry.names.count)
        for name in ModelRegistry.names { #expect(try ModelRegistry.model(named: name).name == name) }
        #expect(throws: ConfigError.self) { try ModelRegistry.model(named: "alsx") }
        do {
            _ = try ModelRegistry.model(named: "itemkn")
        } catch {
            #expect(error.description.contains("did you mean 'itemknn'?"))
        }
    }

    /// Every registered model: the settings list and the Config's coding keys agree, every default
    /// is allowed by its own range, the Config survives a JSON round trip, and unknown keys are
    /// rejected both as settings and in stored JSON.
    @Test(arguments: ModelRegistry.names)
    func configRoundTripsThroughJSONAndRejectsUnknownKeys(name: String) throws {
        let model = try ModelRegistry.model(named: name)
        try checkConfig(of: model)
    }

    func checkConfig<Model: TrainableRecommender>(of model: Model.Type) throws {
        let defaults = Model.Config()
        let object = defaults.jsonObject
        let keys = Set(Model.Config.settings.map(\.key))
        #expect(keys.count == Model.Config.settings.count, "\(Model.name): a key is listed twice")
        #expect(
            Set(object.keys).isSubset(of: keys),
            "\(Model.name): coding keys \(object.keys.sorted()) vs settings \(keys.sorted())")
        for setting in Model.Config.settings where object[setting.key] == nil {
            #expect(
                setting.absentText != nil,
                "\(Model.name): \(setting.key) has no default value and no text for its absence")
        }
        try defaults.check(model: Model.name)
        // JSON round trip, through the manifest's representation and through Codable.
        #expect(try Model.Config.decoding(object, model: Model.name) == defaults)
        let data = try JSONEncoder().encode(defaults)
        #expect(try JSONDecoder().decode(Model.Config.self, from: data) == defaults)
        // A non-default value of each setting, alone, is read, kept and survives the round trip.
        for setting in Model.Config.settings {
            let text = Self.otherValue(setting, current: object[setting.key])
            let changed = try Model.config(from: [setting.key: text])
            #expect(try Model.Config.decoding(changed.jsonObject, model: Model.name) == changed)
            let stored = changed.jsonObject[setting.key]
            #expect(stored != object[setting.key], "\(Model.name).\(setting.key) = \(text) was not applied")
            #expect(
                stored?.settingText == text || stored?.doubleValue == Double(text),
                "\(Model.name).\(setting.key): \(String(describing: stored)) for \(text)")
        }
        // Unknown keys.
        #expect(throws: ConfigError.self) { try Model.config(from: ["no_such_setting": "1"]) }
        #expect(throws: ConfigError.self) {
            try Model.Config.decoding(["no_such_setting": .integer(1)], model: Model.name)
        }
    }

    /// A valid value that differs from `current` (so a reader that ignored the key would be caught).
    static func otherValue(_ setting: ModelSetting, current: JSONValue?) -> String {
        switch setting.kind {
        case .integer(let range):
            let base = Int(current?.doubleValue ?? range.lower ?? 1)
            return String(range.contains(Double(base + 1)) ? base + 1 : base - 1)
        case .number(let range):
            let base = current?.doubleValue ?? range.lower ?? 0.5
            for candidate in [base * 0.5, base + 0.25, 0.5, 0.1] where candidate != base && range.contains(candidate) {
                return JSONValue.number(candidate).settingText
            }
            return JSONValue.number(base).settingText
        case .boolean:
            return current == .bool(true) ? "false" : "true"
        case .choice(let values):
            return values.first { JSONValue.string($0) != current } ?? values[0]
        case .integers:
            return "32,16,8"
        case .seed:
            return "18446744073709551615"
        case .text(_, let example):
            return example
        }
    }

    @Test func settingsAreReadOnceWithClearErrors() throws {
        func message(_ name: String, _ settings: [String: String]) -> String {
            do {
                _ = try ConfiguredModel(name, settings: settings)
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(
            message("ials", ["factorz": "8"]).hasPrefix(
                "ials: factorz: unknown setting (did you mean 'factors'?); ials takes alpha,"))
        #expect(message("ials", ["factors": "eight"]) == "ials: factors: \"eight\" is not an integer")
        #expect(message("ials", ["factors": "0"]) == "ials: factors: must be in 1…4096, not 0")
        #expect(message("ials", ["regularization": "-1"]) == "ials: regularization: must be ≥ 0, not -1")
        #expect(message("ials", ["solver": "magic"]) == "ials: solver: \"magic\" is not one of cg, cholesky")
        #expect(message("bpr", ["learning_rate": "0"]) == "bpr: learning_rate: must be > 0, not 0")
        #expect(message("multvae", ["dropout": "1"]) == "multvae: dropout: must be in [0, 1), not 1")
        #expect(message("ncf", ["layers": "15,8"]).hasPrefix("ncf: layers: needs at least two widths"))
        #expect(message("svd", ["temporal": "yes"]) == "svd: temporal: \"yes\" is not true or false")
        #expect(message("svd", ["temporal": "true", "solver": "als"]) == "svd: temporal: needs solver=sgd")
        #expect(message("bpr", ["threads": "0"]) == "bpr: threads: must be ≥ 1, not 0")
        #expect(message("random", ["seed": "-1"]).hasPrefix("random: seed: \"-1\" is not a whole number"))
        #expect(
            message("itemknn", ["k": "5", "neighbors": "6"])
                == "itemknn: neighbors: is another name for neighbors, which is set too"
                || message("itemknn", ["k": "5", "neighbors": "6"])
                    == "itemknn: k: is another name for neighbors, which is set too"
        )
        // Old names are aliases; the complete config is typed.
        let knn = try ConfiguredModel("itemknn", settings: ["k": "5"])
        #expect((knn.config as? ItemKNN.Config)?.neighbourCount == 5 && knn.given == ["neighbors": "5"])
        #expect((try ConfiguredModel("multvae", settings: ["latent": "7"]).config as? MultVAE.Config)?.factorCount == 7)
        // A default that depends on another setting: biased MF's λ under ALS, unless given.
        #expect(
            (try ConfiguredModel("svd", settings: ["solver": "als"]).config as? BiasedMF.Config)?.regularization == 0.1)
        let givenALS = try ConfiguredModel("svd", settings: ["solver": "als", "regularization": "0.3"])
        #expect((givenALS.config as? BiasedMF.Config)?.regularization == 0.3)
        let threaded = try ConfiguredModel("bpr", settings: ["threads": "3", "epochs": "2"])
        #expect(threaded.threadCount == 3 && threaded.settingsDescription == "epochs=2,threads=3" && threaded.isSeeded)
        #expect(
            try !ConfiguredModel("bpr", settings: ["seed": "4"]).isSeeded && !ConfiguredModel("popularity").isSeeded)
        #expect((try threaded.seeded(9).config as? BPR.Config)?.seed == 9)
    }

    @Test func editDistanceByHand() {
        #expect(editDistance("kitten", "sitting") == 3)
        #expect(editDistance("", "abc") == 3 && editDistance("abc", "abc") == 0)
        #expect(didYouMean("alpah", among: ["alpha", "seed"]) == " (did you mean 'alpha'?)")
        #expect(didYouMean("zzz", among: ["alpha", "seed"]).isEmpty)
    }

    @Test func helpAndTableComeFromTheRegistry() throws {
        let table = ModelRegistry.markdownTable
        for model in ModelRegistry.all { #expect(table.contains("| `\(model.name)` |")) }
        #expect(table.contains("`factors` (64), `regularization` (0.05), `alpha` (1), `iterations` (15)"))
        #expect(table.contains("`window` (all)"))
        let help = ModelRegistry.description(of: ImplicitALS.self)
        #expect(
            help.contains("cg_steps") && help.contains("integer, default 3; ≥ 1")
                && help.contains("choice, default cg; cg, cholesky"))
        #expect(ModelRegistry.listing.split(separator: "\n").count == ModelRegistry.all.count)
    }
}
