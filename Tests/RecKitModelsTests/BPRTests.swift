import RecKitNN
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitEval
@testable import RecKitModels

@Suite struct BPRTests {
    static let data = SyntheticData.generate(preset: .small, seed: 51)
    static let split = try! data.ratings.split(.holdout(testFraction: 0.2, minimumPerUser: 5), seed: 51)

    func config(_ change: (inout BPR.Config) -> Void = { _ in }) -> BPR.Config {
        var config = BPR.Config()
        config.factorCount = 16
        config.epochCount = 20
        config.learningRate = 0.05
        change(&config)
        return config
    }

    @Test func learnsBeyondPopularityOnOneOrTwoThreads() throws {
        let split = Self.split
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let popularity = try evaluator.evaluate(Popularity(fitting: split.train), train: split.train, test: split.test)[
            "ndcg@10"]!
        let single = try evaluator.evaluate(
            BPR(fitting: split.train, config: config()), train: split.train, test: split.test)["ndcg@10"]!
        let hogwild = try evaluator.evaluate(
            BPR(fitting: split.train, config: config(), context: TrainingContext(threadCount: 2)), train: split.train,
            test: split.test)["ndcg@10"]!
        #expect(single > popularity, "bpr \(single) vs popularity \(popularity)")
        #expect(abs(hogwild - single) < 0.03, "Hogwild \(hogwild) vs one thread \(single)")
    }

    @Test func singleThreadRunsAreBitIdentical() throws {
        let a = try BPR(fitting: Self.split.train, config: config { $0.epochCount = 3 })
        let b = try BPR(fitting: Self.split.train, config: config { $0.epochCount = 3 })
        #expect(a.factors.userFactors == b.factors.userFactors && a.factors.itemFactors == b.factors.itemFactors)
        #expect(
            try BPR(
                fitting: Self.split.train,
                config: config {
                    $0.epochCount = 3
                    $0.seed = 2
                }
            ).factors.itemFactors != a.factors.itemFactors)
        // The user side of the bias column stays exactly 1.
        let width = a.factors.userFactors.shape[1]
        #expect((0..<a.userCount).allSatisfy { a.factors.userFactors.scalars[$0 * width + width - 1] == 1 })
    }

    @Test(arguments: [BPR.NegativeSampling.warp, .popularity])
    func samplerLearnsAndIsRepeatable(_ sampling: BPR.NegativeSampling) throws {
        let split = Self.split
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let sampled = config { $0.sampling = sampling }
        let popularity = try evaluator.evaluate(Popularity(fitting: split.train), train: split.train, test: split.test)[
            "ndcg@10"]!
        let model = try BPR(fitting: split.train, config: sampled)
        let ndcg = try evaluator.evaluate(model, train: split.train, test: split.test)["ndcg@10"]!
        #expect(ndcg > popularity, "\(sampling) \(ndcg) vs popularity \(popularity)")
        #expect(try BPR(fitting: split.train, config: sampled).factors.itemFactors == model.factors.itemFactors)
        #expect(try BPR(fitting: split.train, config: config()).factors.itemFactors != model.factors.itemFactors)
        #expect(
            try ConfiguredModel("bpr", settings: ["sampling": sampling.rawValue, "max_sampled": "5"]).fit(split.train)
                .name == "bpr")
    }

    @Test(arguments: [BPR.NegativeSampling.uniform, .warp])
    func adagradLearnsAndIsRepeatable(_ sampling: BPR.NegativeSampling) throws {
        let split = Self.split
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let adaptive = config {
            $0.sampling = sampling
            $0.learningSchedule = .adagrad
            $0.regularization = 0.001
        }
        let popularity = try evaluator.evaluate(Popularity(fitting: split.train), train: split.train, test: split.test)[
            "ndcg@10"]!
        let model = try BPR(fitting: split.train, config: adaptive)
        let ndcg = try evaluator.evaluate(model, train: split.train, test: split.test)["ndcg@10"]!
        #expect(ndcg > popularity, "adagrad \(sampling) \(ndcg) vs popularity \(popularity)")
        #expect(try BPR(fitting: split.train, config: adaptive).factors.itemFactors == model.factors.itemFactors)
        #expect(
            try BPR(
                fitting: split.train,
                config: config {
                    $0.sampling = sampling
                    $0.regularization = 0.001
                }
            ).factors.itemFactors
                != model.factors.itemFactors)
        #expect(throws: ConfigError.self) { try ConfiguredModel("bpr", settings: ["learning_schedule": "adam"]) }
    }

    @Test func popularitySamplingDrawsOnlyInteractedItems() throws {
        // Item 5 has no interactions: drawn as a negative only under uniform sampling.
        let users: [Int32] = [0, 0, 1, 1, 2, 2, 3, 3, 3]
        let items: [Int32] = [0, 1, 1, 2, 2, 3, 0, 3, 4]
        let tiny = try Interactions(users: users, items: items, userCount: 4, itemCount: 6)
        func item5(_ sampling: BPR.NegativeSampling, epochs: Int) throws -> [Float] {
            let model = try BPR(
                fitting: tiny,
                config: config {
                    $0.sampling = sampling
                    $0.epochCount = epochs
                    $0.factorCount = 4
                })
            return Array(model.factors.itemFactors.scalars[(5 * 5)..<(6 * 5)])
        }
        #expect(try item5(.popularity, epochs: 1) == item5(.popularity, epochs: 30))
        #expect(try item5(.uniform, epochs: 1) != item5(.uniform, epochs: 30))
    }

    @Test func settingsAreValidated() {
        #expect(throws: ConfigError.self) { try ConfiguredModel("bpr", settings: ["sampling": "adaptive"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("bpr", settings: ["max_sampled": "0"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("bpr", settings: ["learning_rate": "0"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("bpr", settings: ["threads": "0"]) }
    }
}

@Suite struct BPRFoldInTests {
    @Test func foldInRanksBetterThanPopularityAndIsRepeatable() throws {
        let split = BPRTests.split
        var config = BPR.Config()
        config.factorCount = 16
        config.epochCount = 20
        config.learningRate = 0.05
        let model = try BPR(fitting: split.train, config: config)
        let seen = InteractionMatrix.byUser(split.train)
        let folded = ScoreTable(
            name: "fold-in",
            (0..<split.train.userCount).map { model.scores(forHistory: Array(seen.columns(inRow: $0))) })
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let popularity = try evaluator.evaluate(Popularity(fitting: split.train), train: split.train, test: split.test)[
            "ndcg@10"]!
        let foldIn = try evaluator.evaluate(folded, train: split.train, test: split.test)["ndcg@10"]!
        #expect(foldIn > popularity, "fold-in \(foldIn) vs popularity \(popularity)")
        #expect(model.scores(forHistory: [3, 1, 2]) == model.scores(forHistory: [1, 2, 3]))
    }
}

@Suite struct LogisticMFTests {
    @Test func learnsBeyondPopularityIndependentOfThreads() throws {
        let split = BPRTests.split
        var config = LogisticMF.Config()
        config.factorCount = 16
        config.iterationCount = 15
        let one = try LogisticMF(fitting: split.train, config: config, context: TrainingContext(threadCount: 1))
        let three = try LogisticMF(fitting: split.train, config: config, context: TrainingContext(threadCount: 3))
        #expect(
            one.factors.userFactors == three.factors.userFactors && one.factors.itemFactors == three.factors.itemFactors
        )
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let popularity = try evaluator.evaluate(Popularity(fitting: split.train), train: split.train, test: split.test)[
            "ndcg@10"]!
        let lmf = try evaluator.evaluate(one, train: split.train, test: split.test)["ndcg@10"]!
        #expect(lmf > popularity, "lmf \(lmf) vs popularity \(popularity)")
        // The constant columns stay exactly 1.
        let width = config.factorCount + 2
        #expect((0..<one.userCount).allSatisfy { one.factors.userFactors.scalars[$0 * width + width - 1] == 1 })
        #expect((0..<one.itemCount).allSatisfy { one.factors.itemFactors.scalars[$0 * width + width - 2] == 1 })
        #expect(throws: ConfigError.self) { try ConfiguredModel("lmf", settings: ["negatives": "0"]) }
    }
}
