import Foundation
import RecKitTensor
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitEval
@testable import RecKitModels
@testable import RecKitNN

/// Mult-VAE, Mult-DAE (one network, two objectives) and CDAE: the same properties, checked for each.
@Suite struct HistoryAutoencoderTests {
    static let data = SyntheticData.generate(preset: .small, seed: 71)
    static let split = try! data.ratings.split(.holdout(testFraction: 0.2, minimumPerUser: 5), seed: 71)

    /// Small, fast settings. CDAE with the multinomial loss: with the logistic one (its default, chosen on
    /// ml-100k) it stays at popularity's level on this synthetic set (NDCG@10 0.165 against 0.170).
    static func settings(_ name: String, epochs: Int = 30, seed: Int = 0, validation: Double = 0) -> [String: String] {
        [
            "hidden": "64", "epochs": String(epochs), "batch_size": "128",
            "learning_rate": name == "cdae" ? "0.01" : "0.003", "seed": String(seed), "validation": String(validation),
            "patience": "10",
        ].merging(name == "cdae" ? ["loss": "multinomial"] : ["factors": "16"]) { $1 }
    }

    static func fit(_ name: String, epochs: Int = 30, seed: Int = 0, validation: Double = 0) throws
        -> any TrainableRecommender
    {
        try ConfiguredModel(name, settings: settings(name, epochs: epochs, seed: seed, validation: validation))
            .fit(split.train)
    }

    static func parameters(_ model: any TrainableRecommender) -> [String: Tensor] {
        (model as? MultVAE)?.parameters ?? (model as? CDAE)?.parameters ?? (model as! MultDAE).parameters
    }

    static func epochs(_ model: any TrainableRecommender) -> Int {
        (model as? MultVAE)?.config.epochCount ?? (model as? CDAE)?.config.epochCount
            ?? (model as! MultDAE).config.epochCount
    }

    @Test(arguments: ["multvae", "multdae", "cdae"])
    func learnsBeyondPopularityAndFoldsInExactly(name: String) throws {
        let split = Self.split
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let popularity = try evaluator.evaluate(Popularity(fitting: split.train), train: split.train, test: split.test)[
            "ndcg@10"]!
        let model = try Self.fit(name, epochs: 60, validation: 0.2)
        let ndcg = try evaluator.evaluate(model, train: split.train, test: split.test)["ndcg@10"]!
        #expect(ndcg > popularity * 1.05, "\(name) \(ndcg) vs popularity \(popularity)")
        // A new user with a known user's history gets that user's scores: the encoder reads histories
        // (CDAE's user node is the exception, tested by hand below).
        let seen = InteractionMatrix.byUser(split.train)
        let own = Array(seen.columns(inRow: 5))
        let history = own.reversed() + [own[0]]
        if name != "cdae" { #expect(model.scores(forHistory: history) == model.scores(forUsers: [5]).scalars) }
        #expect(model.scores(forHistories: [history, [1]]).row(0).elementsEqual(model.scores(forHistory: history)))
    }

    /// With `validation`, the saved epoch count is the best validation epoch (at most `epochs`), and the
    /// model is the one trained on all the data for that many epochs, bit for bit.
    @Test(arguments: ["multvae", "multdae", "cdae"])
    func epochsChosenOnValidationThenTrainedOnEverything(name: String) throws {
        let chosen = try Self.fit(name, epochs: 40, validation: 0.2)
        let vae = chosen as? MultVAE
        let epochs = Self.epochs(chosen)
        #expect(epochs >= 1 && epochs <= 40)
        var direct = Self.settings(name, epochs: epochs)
        if let vae { direct["anneal_steps"] = String(vae.config.annealSteps) }
        let again = try ConfiguredModel(name, settings: direct).fit(Self.split.train)
        #expect(Self.parameters(again) == Self.parameters(chosen))
    }

    @Test(arguments: ["multvae", "multdae", "cdae"])
    func seededRunsRepeatAndSettingsAreChecked(name: String) throws {
        let a = Self.parameters(try Self.fit(name, epochs: 2))
        #expect(a == Self.parameters(try Self.fit(name, epochs: 2)))
        #expect(a != Self.parameters(try Self.fit(name, epochs: 2, seed: 9)))
        #expect(throws: ConfigError.self) { try ConfiguredModel(name, settings: ["dropout": "1"]) }
        #expect(throws: ConfigError.self) {
            try ConfiguredModel(name, settings: [name == "cdae" ? "hidden" : "latent": "0"])
        }
    }

    @Test func eachChecksItsOwnSettings() {
        #expect(throws: ConfigError.self) { try ConfiguredModel("cdae", settings: ["loss": "hinge"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("cdae", settings: ["factors": "8", "hidden": "8"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("multvae", settings: ["beta": "-1"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("multdae", settings: ["beta": "0.2"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("multdae", settings: ["regularization": "-1"]) }
    }

    /// The denoising network: a deterministic tanh code of `factors` (no [μ, log σ²] pair), the same
    /// parameter names as Mult-VAE's, and scoring equal to the hand-composed layers.
    @Test func denoisingNetworkByHand() throws {
        let model = try #require(try Self.fit("multdae", epochs: 1) as? MultDAE)
        let vae = try #require(try Self.fit("multvae", epochs: 1) as? MultVAE)
        #expect(model.parameters["latent.weight"]?.scalarCount == 64 * 16)
        #expect(vae.parameters["latent.weight"]?.scalarCount == 64 * 32)
        #expect(Set(vae.parameters.keys) == Set(model.parameters.keys))
        // By hand: x/√n through the encoder, tanh, code tanh, hidden tanh, output (Linear: x·W + b, W [in, out]).
        let items: [Int32] = [3, 17, 40]
        let p = model.parameters
        func affine(_ x: [Float], _ name: String) -> [Float] {
            let w = p[name + ".weight"]!
            let b = p[name + ".bias"]!.scalars
            let outputs = w.shape[1]
            var y = b
            for o in 0..<outputs {
                for i in 0..<x.count { y[o] += x[i] * w.scalars[i * outputs + o] }
            }
            return y
        }
        let table = p["encoder.weight"]!
        let width = table.shape[1]
        var hidden = p["encoder.bias"]!.scalars
        for item in items {
            for f in 0..<width { hidden[f] += table.scalars[Int(item) * width + f] / Float(3).squareRoot() }
        }
        let code = affine(hidden.map { tanh($0) }, "latent").map { tanh($0) }
        let logits = affine(affine(code, "decoder.hidden").map { tanh($0) }, "decoder.output")
        let scored = model.scores(forHistory: items)
        #expect(zip(scored, logits).allSatisfy { abs($0 - $1) < 1e-4 * max(1, abs($1)) })
    }

    /// CDAE by hand: h = act(Σ_{i∈history} W_i + V_u + b), logits = h·W′ + b′; a history not in training
    /// (fold-in) gets V = 0; without a user node fold-in equals a training user's scores exactly.
    @Test(arguments: ["sigmoid", "relu"], ["logistic", "multinomial"])
    func collaborativeDenoisingByHand(activation: String, loss: String) throws {
        let extra = ["activation": activation, "loss": loss, "epochs": "3"]
        let settings = Self.settings("cdae").merging(extra) { $1 }
        let model = try #require(try ConfiguredModel("cdae", settings: settings).fit(Self.split.train) as? CDAE)
        let p = model.parameters
        let seen = InteractionMatrix.byUser(Self.split.train)
        let user = 7
        let items = Array(seen.columns(inRow: user))
        func byHand(userNode: Bool) -> [Float] {
            let table = p["encoder.weight"]!
            let width = table.shape[1]
            var hidden = p["encoder.bias"]!.scalars
            for f in 0..<width {
                for item in items { hidden[f] += table.scalars[Int(item) * width + f] }
                if userNode { hidden[f] += p["users.weight"]!.scalars[user * width + f] }
            }
            hidden = hidden.map { activation == "relu" ? max($0, 0) : 1 / (1 + exp(-$0)) }
            let w = p["decoder.weight"]!
            return (0..<model.itemCount).map { o in
                (0..<width).reduce(p["decoder.bias"]!.scalars[o]) { $0 + hidden[$1] * w.scalars[$1 * w.shape[1] + o] }
            }
        }
        func close(_ a: [Float], _ b: [Float]) -> Bool {
            zip(a, b).allSatisfy { abs($0 - $1) < 1e-4 * max(1, abs($1)) }
        }
        #expect(close(model.scores(forUsers: [Int32(user)]).scalars, byHand(userNode: true)))
        #expect(close(model.scores(forHistory: items), byHand(userNode: false)))
        #expect(!close(byHand(userNode: true), byHand(userNode: false)))
        let plain = try ConfiguredModel("cdae", settings: settings.merging(["user_node": "false"]) { $1 })
            .fit(Self.split.train)
        #expect((plain as? CDAE)?.parameters["users.weight"] == nil)
        #expect(plain.scores(forHistory: items.reversed()) == plain.scores(forUsers: [Int32(user)]).scalars)
    }
}
