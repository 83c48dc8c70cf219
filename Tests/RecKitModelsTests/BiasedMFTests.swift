import Testing
import _RecKitTestSupport
@testable import RecKitData
@testable import RecKitEval
@testable import RecKitModels

@Suite struct BiasedMFTests {
    static let data = SyntheticData.generate(preset: .small, seed: 41)
    static let split = try! data.ratings.split(.random(testFraction: 0.1), seed: 41)

    func config(_ change: (inout BiasedMF.Config) -> Void = { _ in }) -> BiasedMF.Config {
        var config = BiasedMF.Config()
        config.factorCount = 16
        config.epochCount = 15
        config.learningRate = 0.01
        change(&config)
        return config
    }

    @Test func learnsRatingsBetterThanBiasesAloneAndTheMean() throws {
        let split = Self.split
        let model = try BiasedMF(fitting: split.train, config: config())
        let rmse = try RatingEvaluator(metrics: [.rmse]).evaluate(model, train: split.train, test: split.test)["rmse"]!
        let biasesOnly = try BiasedMF(fitting: split.train, config: config { $0.factorCount = 0 })
        let biasRMSE = try RatingEvaluator(metrics: [.rmse]).evaluate(biasesOnly, train: split.train, test: split.test)["rmse"]!
        let mean = split.train.ratings!.reduce(0, +) / Float(split.train.count)
        let meanRMSE = Metrics.rmse(predictions: [Float](repeating: mean, count: split.test.count), targets: split.test.ratings!)
        #expect(rmse < biasRMSE && biasRMSE < meanRMSE, "mf \(rmse), biases \(biasRMSE), mean \(meanRMSE)")
        // The generator's noise (σ 0.8, then rounding) bounds what any model can reach.
        #expect(rmse < 1.0)
    }

    @Test func seededRunsAreBitIdentical() throws {
        let a = try BiasedMF(fitting: Self.split.train, config: config { $0.epochCount = 3 })
        let b = try BiasedMF(fitting: Self.split.train, config: config { $0.epochCount = 3 })
        #expect(a.userFactors == b.userFactors && a.itemBiases == b.itemBiases)
        let c = try BiasedMF(fitting: Self.split.train, config: config { $0.epochCount = 3; $0.seed = 5 })
        #expect(c.userFactors != a.userFactors)
    }

    @Test func unknownUsersFallBackAndPredictionsAreClipped() throws {
        let train = try Interactions(users: [0, 0, 1], items: [0, 1, 0], ratings: [5, 5, 4], userCount: 3, itemCount: 3)
        let model = try BiasedMF(fitting: train, config: config { $0.epochCount = 50; $0.learningRate = 0.05 })
        // User 2 and item 2 have no ratings: the global mean plus whatever bias exists.
        #expect(abs(model.predict(user: 2, item: 2) - model.globalMean) < 1e-6)
        #expect(abs(model.predict(user: 2, item: 0) - (model.globalMean + model.itemBiases[0])) < 1e-6)
        for user in Int32(0)..<3 { for item in Int32(0)..<3 { #expect((4...5).contains(model.predict(user: user, item: item))) } }
        #expect(throws: ConfigError.self) { try BiasedMF(fitting: try Interactions(users: [0], items: [0], userCount: 1, itemCount: 1)) }
    }

    @Test func ratingEvaluatorRejectsRankingMetrics() throws {
        let model = try BiasedMF(fitting: Self.split.train, config: config { $0.epochCount = 1 })
        #expect(throws: EvaluationError.self) { try RatingEvaluator(metrics: [.ndcg(10)]).evaluate(model, train: Self.split.train, test: Self.split.test) }
        #expect(throws: EvaluationError.self) { try FullRankingEvaluator(metrics: [.rmse]).evaluate(model, train: Self.split.train, test: Self.split.test) }
    }
}

@Suite struct SVDPlusPlusTests {
    @Test func learnsRatingsAndScoresNewUsersFromHistory() throws {
        let split = BiasedMFTests.split
        var config = SVDPlusPlus.Config()
        config.epochCount = 10
        let model = try SVDPlusPlus(fitting: split.train, config: config)
        let rmse = try RatingEvaluator(metrics: [.rmse]).evaluate(model, train: split.train, test: split.test)["rmse"]!
        let mean = split.train.ratings!.reduce(0, +) / Float(split.train.count)
        let meanRMSE = Metrics.rmse(predictions: [Float](repeating: mean, count: split.test.count), targets: split.test.ratings!)
        #expect(rmse < meanRMSE * 0.95, "svd++ \(rmse) vs mean \(meanRMSE)")
        // Seeded: identical twice.
        let again = try SVDPlusPlus(fitting: split.train, config: config)
        #expect(again.historyFactors == model.historyFactors && again.userBiases == model.userBiases)
        // A new user with a history: scores differ from the no-history prior and follow it.
        let seen = InteractionMatrix.byUser(split.train)
        let history = Array(seen.columns(inRow: 0))
        #expect(model.scores(forHistory: history) != model.scores(forHistory: []))
        // The known user's row equals predict() before clipping for an item in range.
        let row = model.scores(forUsers: [0]).scalars
        let item: Int32 = 5
        #expect(abs(min(max(row[Int(item)], model.ratingRange.lowerBound), model.ratingRange.upperBound) - model.predict(user: 0, item: item)) < 1e-4)
    }
}
