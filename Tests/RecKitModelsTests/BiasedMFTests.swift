import RecKitNN
import RecKitTensor
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitEval
@testable import RecKitModels

extension BiasedMF.Config {
    func with(_ change: (inout Self) -> Void) -> Self {
        var copy = self
        change(&copy)
        return copy
    }
}

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
        let biasRMSE = try RatingEvaluator(metrics: [.rmse]).evaluate(biasesOnly, train: split.train, test: split.test)[
            "rmse"]!
        let mean = split.train.ratings!.reduce(0, +) / Float(split.train.count)
        let meanRMSE = Metrics.rmse(
            predictions: [Float](repeating: mean, count: split.test.count), targets: split.test.ratings!)
        #expect(rmse < biasRMSE && biasRMSE < meanRMSE, "mf \(rmse), biases \(biasRMSE), mean \(meanRMSE)")
        // The generator's noise (σ 0.8, then rounding) bounds what any model can reach.
        #expect(rmse < 1.0)
    }

    /// biased=false (Surprise's `biased`): no mean or biases, a rating is p_u·q_i; it still learns
    /// well beyond the mean; a stranger gets the training mean; ALS and temporal refuse it.
    @Test func plainMFWithoutBiases() throws {
        let split = Self.split
        let evaluator = RatingEvaluator(metrics: [.rmse])
        let plain = try BiasedMF(fitting: split.train, config: config { $0.biased = false })
        #expect(plain.userBiases.allSatisfy { $0 == 0 } && plain.itemBiases.allSatisfy { $0 == 0 })
        let dot = (0..<16).reduce(Float(0)) {
            $0 + plain.userFactors.scalars[3 * 16 + $1] * plain.itemFactors.scalars[$1]
        }
        #expect(plain.predict(user: 3, item: 0) == min(max(dot, 1), 5))
        #expect(plain.predict(user: -1, item: 0) == plain.globalMean)
        let plainRMSE = try evaluator.evaluate(plain, train: split.train, test: split.test)["rmse"]!
        let mean = split.train.ratings!.reduce(0, +) / Float(split.train.count)
        let meanRMSE = Metrics.rmse(
            predictions: [Float](repeating: mean, count: split.test.count), targets: split.test.ratings!)
        #expect(plainRMSE < meanRMSE - 0.05, "plain \(plainRMSE), mean \(meanRMSE)")
        for change: (inout BiasedMF.Config) -> Void in [{ $0.solver = .als }, { $0.temporal = true }] {
            #expect(throws: ConfigError.self) {
                try BiasedMF(
                    fitting: split.train,
                    config: config {
                        $0.biased = false
                        change(&$0)
                    })
            }
        }
    }

    @Test func seededRunsAreBitIdentical() throws {
        let a = try BiasedMF(fitting: Self.split.train, config: config { $0.epochCount = 3 })
        let b = try BiasedMF(fitting: Self.split.train, config: config { $0.epochCount = 3 })
        #expect(a.userFactors == b.userFactors && a.itemBiases == b.itemBiases)
        let c = try BiasedMF(
            fitting: Self.split.train,
            config: config {
                $0.epochCount = 3
                $0.seed = 5
            })
        #expect(c.userFactors != a.userFactors)
    }

    @Test func unknownUsersFallBackAndPredictionsAreClipped() throws {
        let train = try Interactions(
            users: [0, 0, 1], items: [0, 1, 0], ratings: [5, 5, 4], userCount: 3, itemCount: 3)
        let model = try BiasedMF(
            fitting: train,
            config: config {
                $0.epochCount = 50
                $0.learningRate = 0.05
            })
        // User 2 and item 2 have no ratings: the global mean plus whatever bias exists.
        #expect(abs(model.predict(user: 2, item: 2) - model.globalMean) < 1e-6)
        #expect(abs(model.predict(user: 2, item: 0) - (model.globalMean + model.itemBiases[0])) < 1e-6)
        for user in Int32(0)..<3 {
            for item in Int32(0)..<3 { #expect((4...5).contains(model.predict(user: user, item: item))) }
        }
        #expect(throws: ConfigError.self) {
            try BiasedMF(fitting: try Interactions(users: [0], items: [0], userCount: 1, itemCount: 1))
        }
    }

    @Test func alternatingLeastSquaresLearnsAndIgnoresThreads() throws {
        let split = Self.split
        let als = config {
            $0.solver = .als
            $0.regularization = 0.1
            $0.epochCount = 8
        }
        let one = try BiasedMF(fitting: split.train, config: als)
        let two = try BiasedMF(fitting: split.train, config: als, context: TrainingContext(threadCount: 3))
        #expect(one.userFactors == two.userFactors && one.itemBiases == two.itemBiases)
        let evaluator = RatingEvaluator(metrics: [.rmse])
        let rmse = try evaluator.evaluate(one, train: split.train, test: split.test)["rmse"]!
        let biasesOnly = try BiasedMF(fitting: split.train, config: config { $0.factorCount = 0 })
        let biasRMSE = try evaluator.evaluate(biasesOnly, train: split.train, test: split.test)["rmse"]!
        #expect(rmse < biasRMSE && rmse < 1.0, "als \(rmse) vs biases \(biasRMSE)")
        // ALS's default regularisation follows the solver.
        let fitted =
            try ConfiguredModel("svd", settings: ["solver": "als", "epochs": "2", "factors": "4"]).fit(split.train)
            as! BiasedMF
        #expect(fitted.config.regularization == 0.1)
    }

    @Test func exactRidgeSolveOfOneRow() {
        // One user, item factors fixed: the solve must satisfy (XᵀX + λnI)[p, b] = Xᵀ(r − μ − b_i).
        let k = 3
        let itemCount = 4
        let fixed: [Float] = [0.5, -0.2, 0.1, 0.3, 0.8, -0.5, -0.4, 0.1, 0.9, 0.2, 0.2, 0.2]
        let fixedBiases: [Float] = [0.1, -0.3, 0.2, 0]
        let matrix = try! InteractionMatrix(
            rowCount: 1, columnCount: itemCount, rowOffsets: [0, 4], columnIndices: [0, 1, 2, 3], values: [4, 2, 5, 3])
        var factors = [Float](repeating: 0, count: k)
        var biases: [Float] = [0]
        var config = BiasedMF.Config()
        config.factorCount = k
        config.regularization = 0.05
        BiasedMF.ridgeSweep(
            solving: &factors, biases: &biases, fixed: fixed, fixedBiases: fixedBiases, matrix: matrix, mean: 3.5,
            config: config, threadCount: 1)
        let solution = (factors + biases).map(Double.init)
        for r in 0...k {
            var left = 0.2 * solution[r]
            var right = 0.0 // λ·n = 0.05 · 4
            for j in 0..<itemCount {
                let x = (0..<k).map { Double(fixed[j * k + $0]) } + [1]
                left += x[r] * zip(x, solution).reduce(0) { $0 + $1.0 * $1.1 }
                right += x[r] * Double(matrix.values[j] - 3.5 - fixedBiases[j])
            }
            #expect(abs(left - right) < 1e-4, "equation \(r): \(left) vs \(right)")
        }
    }

    @Test func hogwildThreadsStayCloseToOneThread() throws {
        let split = Self.split
        let evaluator = RatingEvaluator(metrics: [.rmse])
        let one = try evaluator.evaluate(
            BiasedMF(fitting: split.train, config: config()), train: split.train, test: split.test)["rmse"]!
        let two = try evaluator.evaluate(
            BiasedMF(fitting: split.train, config: config(), context: TrainingContext(threadCount: 2)),
            train: split.train, test: split.test)["rmse"]!
        #expect(abs(one - two) < 0.01, "one thread \(one), two \(two)")
    }

    @Test func temporalTermsFollowDriftingItemBiases() throws {
        // Half the items gain a full star in the second half of the time range, the rest lose one:
        // a static model can only average the two regimes; time-binned item biases separate them.
        var generator = SplitMix64(seed: 8)
        var users: [Int32] = []
        var items: [Int32] = []
        var ratings: [Float] = []
        var times: [Int64] = []
        let day: Int64 = 86_400
        for user in 0..<200 {
            for _ in 0..<40 {
                let item = generator.nextIndex(below: 60)
                let time = Int64(generator.nextIndex(below: 400)) * day
                let shift: Float = time >= 200 * day ? (item % 2 == 0 ? 1 : -1) : 0
                users.append(Int32(user))
                items.append(Int32(item))
                ratings.append(3 + shift + (generator.nextUnitFloat() - 0.5) * 0.5)
                times.append(time)
            }
        }
        let data = try Interactions(
            users: users, items: items, ratings: ratings, timestamps: times, userCount: 200, itemCount: 60)
        let split = (train: data.filteringRows { $0 % 5 != 0 }, test: data.filteringRows { $0 % 5 == 0 })
        let evaluator = RatingEvaluator(metrics: [.rmse])
        let base = config {
            $0.factorCount = 4
            $0.epochCount = 30
        }
        let staticRMSE = try evaluator.evaluate(
            BiasedMF(fitting: split.train, config: base), train: split.train, test: split.test)["rmse"]!
        let temporal = try BiasedMF(
            fitting: split.train,
            config: base.with {
                $0.temporal = true
                $0.timeBinCount = 4
            })
        let temporalRMSE = try evaluator.evaluate(temporal, train: split.train, test: split.test)["rmse"]!
        #expect(temporalRMSE < staticRMSE * 0.7, "temporal \(temporalRMSE) vs static \(staticRMSE)")
        // Without a time the prediction is the static part; bins clamp outside the trained range.
        #expect(temporal.predict(user: 0, item: 0, time: nil) == temporal.predict(user: 0, item: 0))
        #expect(
            temporal.temporal!.time(of: 10_000 * day, user: 0).bin == 3
                && temporal.temporal!.time(of: -day, user: 0).bin == 0)
        #expect(throws: ConfigError.self) {
            try BiasedMF(
                fitting: split.train,
                config: base.with {
                    $0.temporal = true
                    $0.solver = .als
                })
        }
        let untimed = try Interactions(users: [0], items: [0], ratings: [3], userCount: 1, itemCount: 1)
        #expect(throws: ConfigError.self) { try BiasedMF(fitting: untimed, config: base.with { $0.temporal = true }) }
    }

    @Test func ratingEvaluatorRejectsRankingMetrics() throws {
        let model = try BiasedMF(fitting: Self.split.train, config: config { $0.epochCount = 1 })
        #expect(throws: EvaluationError.self) {
            try RatingEvaluator(metrics: [.ndcg(10)]).evaluate(model, train: Self.split.train, test: Self.split.test)
        }
        #expect(throws: EvaluationError.self) {
            try FullRankingEvaluator(metrics: [.rmse]).evaluate(model, train: Self.split.train, test: Self.split.test)
        }
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
        let meanRMSE = Metrics.rmse(
            predictions: [Float](repeating: mean, count: split.test.count), targets: split.test.ratings!)
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
        #expect(
            abs(
                min(max(row[Int(item)], model.ratingRange.lowerBound), model.ratingRange.upperBound)
                    - model.predict(user: 0, item: item)) < 1e-4)
    }
}
