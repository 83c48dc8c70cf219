import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitEval
@testable import RecKitModels

@Suite struct MultVAETests {
    static let data = SyntheticData.generate(preset: .small, seed: 71)
    static let split = try! data.ratings.split(.holdout(testFraction: 0.2, minimumPerUser: 5), seed: 71)

    func config(epochs: Int = 30) -> MultVAE.Config {
        var config = MultVAE.Config()
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
        let model = try MultVAE(fitting: split.train, config: config())
        let ndcg = try evaluator.evaluate(model, train: split.train, test: split.test)["ndcg@10"]!
        #expect(ndcg > popularity * 1.05, "multvae \(ndcg) vs popularity \(popularity)")
        // A new user with a known user's history gets that user's scores: the encoder reads histories.
        let seen = InteractionMatrix.byUser(split.train)
        #expect(
            model.scores(forHistory: Array(seen.columns(inRow: 5)).reversed()) == model.scores(forUsers: [5]).scalars)
    }

    @Test func seededRunsRepeatAndSettingsAreChecked() throws {
        let a = try MultVAE(fitting: Self.split.train, config: config(epochs: 2))
        let b = try MultVAE(fitting: Self.split.train, config: config(epochs: 2))
        #expect(a.parameters == b.parameters)
        var other = config(epochs: 2)
        other.seed = 9
        #expect(try MultVAE(fitting: Self.split.train, config: other).parameters != a.parameters)
        #expect(throws: ConfigError.self) { try ConfiguredModel("multvae", settings: ["dropout": "1"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("multvae", settings: ["latent": "0"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("multvae", settings: ["beta": "-1"]) }
    }
}
