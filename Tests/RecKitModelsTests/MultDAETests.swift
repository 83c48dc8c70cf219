import Foundation
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitEval
@testable import RecKitModels
@testable import RecKitNN

@Suite struct MultDAETests {
    static let data = SyntheticData.generate(preset: .small, seed: 72)
    static let split = try! data.ratings.split(.holdout(testFraction: 0.2, minimumPerUser: 5), seed: 72)

    func config(epochs: Int = 30) -> MultDAE.Config {
        var config = MultDAE.Config()
        config.hiddenSize = 64
        config.factorCount = 16
        config.epochCount = epochs
        config.batchSize = 128
        config.learningRate = 0.003
        return config
    }

    @Test func learnsBeyondPopularityAndFoldsInExactly() throws {
        let split = Self.split
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let popularity = try evaluator.evaluate(Popularity(fitting: split.train), train: split.train, test: split.test)[
            "ndcg@10"]!
        let model = try MultDAE(fitting: split.train, config: config())
        let ndcg = try evaluator.evaluate(model, train: split.train, test: split.test)["ndcg@10"]!
        #expect(ndcg > popularity * 1.05, "multdae \(ndcg) vs popularity \(popularity)")
        // Fold-in reads the history as training users' scoring does: the same scores, in any order.
        let seen = InteractionMatrix.byUser(split.train)
        #expect(
            model.scores(forHistory: Array(seen.columns(inRow: 5)).reversed()) == model.scores(forUsers: [5]).scalars)
    }

    /// The denoising network: a deterministic tanh code of `factors` (no [μ, log σ²] pair), the same
    /// parameter names as Mult-VAE's, and scoring equal to the hand-composed layers.
    @Test func networkIsTheDeterministicAutoencoder() throws {
        let model = try MultDAE(fitting: Self.split.train, config: config(epochs: 1))
        #expect(model.parameters["latent.weight"]?.shape.contains(16) == true)
        #expect(model.parameters["latent.weight"]?.scalarCount == 64 * 16)
        var vaeConfig = MultVAE.Config()
        vaeConfig.hiddenSize = 64
        vaeConfig.factorCount = 16
        vaeConfig.epochCount = 1
        let vae = try MultVAE(fitting: Self.split.train, config: vaeConfig)
        #expect(Set(vae.parameters.keys) == Set(model.parameters.keys))
        // By hand: x/√n through the encoder, tanh, code tanh, hidden tanh, output.
        let items: [Int32] = [3, 17, 40]
        let p = model.parameters
        func affine(_ x: [Float], _ name: String) -> [Float] {
            let w = p[name + ".weight"]!
            let b = p[name + ".bias"]!.scalars
            let (rows, columns) = (w.shape[0], w.shape[1])
            // Linear stores [inputs, outputs] or [outputs, inputs]: pick by the input width.
            if rows == x.count {
                return (0..<columns).map { o in (0..<rows).reduce(b[o]) { $0 + x[$1] * w.scalars[$1 * columns + o] } }
            }
            return (0..<rows).map { o in (0..<columns).reduce(b[o]) { $0 + x[$1] * w.scalars[o * columns + $1] } }
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

    @Test func seededRunsRepeatAndSettingsAreChecked() throws {
        let a = try MultDAE(fitting: Self.split.train, config: config(epochs: 2))
        let b = try MultDAE(fitting: Self.split.train, config: config(epochs: 2))
        #expect(a.parameters == b.parameters)
        var other = config(epochs: 2)
        other.seed = 9
        #expect(try MultDAE(fitting: Self.split.train, config: other).parameters != a.parameters)
        #expect(throws: ConfigError.self) { try ConfiguredModel("multdae", settings: ["dropout": "1"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("multdae", settings: ["regularization": "-1"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("multdae", settings: ["beta": "0.2"]) }
    }
}
