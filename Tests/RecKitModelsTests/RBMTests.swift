import Foundation
import RecKitTensor
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitEval
@testable import RecKitModels
@testable import RecKitNN

@Suite struct RBMTests {
    static let data = SyntheticData.generate(preset: .small, seed: 79)
    static let split = try! data.ratings.split(.random(testFraction: 0.1), seed: 79)
    static let holdout = try! data.ratings.split(.holdout(testFraction: 0.2, minimumPerUser: 5), seed: 79)

    static func config(
        _ visible: RBM.Visible = .softmax, epochs: Int = 40, seed: UInt64 = 0, variant: RBM.Variant = .user
    ) -> RBM.Config {
        var config = RBM.Config()
        config.visible = visible
        config.variant = variant
        config.hiddenSize = 32
        config.epochCount = epochs
        config.batchSize = 50
        config.cdEvery = 10
        config.cdMax = 5
        config.validation = 0
        config.seed = seed
        return config
    }

    /// Softmax units predict held-out ratings clearly better than the training mean, with the epoch
    /// count chosen on validation.
    @Test(arguments: [RBM.Variant.user, .item])
    func learnsRatings(variant: RBM.Variant) throws {
        let (train, test) = (Self.split.train, Self.split.test)
        var config = Self.config(epochs: 100, variant: variant)
        config.validation = 0.1
        let model = try RBM(fitting: train, config: config)
        #expect(model.config.epochCount <= 100 && model.levels == Set(train.ratings!).sorted())
        let rmse = try RatingEvaluator(metrics: [.rmse]).evaluate(model, train: train, test: test)["rmse"]!
        let ratings = train.ratings!
        let mean = ratings.reduce(0, +) / Float(ratings.count)
        let baseline = Metrics.rmse(predictions: test.ratings!.map { _ in mean }, targets: test.ratings!)
        #expect(rmse < baseline - 0.05, "rbm \(rmse) vs the mean's \(baseline)")
    }

    /// Binary units rank held-out items better than popularity, and fold in exactly.
    @Test func binaryUnitsLearnToRankAndFoldInExactly() throws {
        let split = Self.holdout
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let popularity = try evaluator.evaluate(Popularity(fitting: split.train), train: split.train, test: split.test)
        let model = try RBM(fitting: split.train, config: Self.config(.binary, epochs: 60))
        let ndcg = try evaluator.evaluate(model, train: split.train, test: split.test)["ndcg@10"]!
        #expect(ndcg > popularity["ndcg@10"]! * 1.05, "rbm \(ndcg) vs popularity \(popularity["ndcg@10"]!)")
        let seen = InteractionMatrix.byUser(split.train)
        let history = Array(seen.columns(inRow: 3))
        let folded = model.scores(forHistory: history.reversed() + [history[0]])
        let trained = model.scores(forUsers: [3]).scalars
        #expect(zip(folded, trained).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
    }

    /// Predictions by hand from the parameters: p̂ = σ(c + Σ W[unit of each training rating]), then the
    /// expectation of the item's softmax over the levels; users without ratings get σ(c), items without
    /// any the global mean.
    @Test(arguments: [RBM.Variant.user, .item])
    func predictionsByHand(variant: RBM.Variant) throws {
        let train = Self.split.train
        let model = try RBM(fitting: train, config: Self.config(epochs: 3, variant: variant))
        let p = model.parameters
        let (w, b, c) = (p["weight"]!.scalars, p["visible.bias"]!.scalars, p["hidden.bias"]!.scalars)
        let (h, k) = (model.config.hiddenSize, model.levels.count)
        let rows = variant == .user ? InteractionMatrix.byUser(train) : InteractionMatrix.byItem(train)
        func predicted(user: Int, item: Int) -> Float {
            // I-RBM: the item's row of ratings by users, the user's softmax unit.
            let (row, column) = variant == .user ? (user, item) : (item, user)
            var hidden = c
            for (rated, value) in zip(rows.columns(inRow: row), rows.values(inRow: row)) {
                let unit = Int(rated) * k + model.levels.firstIndex(of: value)!
                for j in 0..<h { hidden[j] += w[unit * h + j] }
            }
            hidden = hidden.map { 1 / (1 + exp(-$0)) }
            let logits = (0..<k).map { level in
                (0..<h).reduce(b[column * k + level]) { $0 + hidden[$1] * w[(column * k + level) * h + $1] }
            }
            let top = logits.max()!
            let e = logits.map { exp($0 - top) }
            return zip(e, model.levels).reduce(0) { $0 + $1.0 * $1.1 } / e.reduce(0, +)
        }
        for (user, item) in [0, 10, 100].map({ (Int(train.users[$0]), Int(train.items[$0])) }) {
            let expected = predicted(user: user, item: item)
            #expect(abs(model.predict(user: Int32(user), item: Int32(item)) - expected) < 1e-4)
            #expect(abs(model.scores(forUsers: [Int32(user)]).scalars[item] - expected) < 1e-4)
        }
        let mean = train.ratings!.reduce(0, +) / Float(train.count)
        #expect(abs(model.predict(user: 0, item: Int32(train.itemCount)) - mean) < 1e-6)
    }

    /// The training loss F(v_data) − F(v_T) has the contrastive-divergence statistics as its gradient:
    /// ∂/∂W = −(v_dataᵀ p(h | v_data) − v_Tᵀ p(h | v_T)) / batch, ∂/∂b = −(v_data − v_T) / batch.
    @Test func freeEnergyGapGivesTheContrastiveDivergenceUpdate() throws {
        let rows = try RBM.ratingRows(Self.split.train, binary: false, variant: .user)
        let levels = Set(Self.split.train.ratings!).sorted()
        let network = RBMNetwork(rows, levels: levels, binary: false, hiddenSize: 6, seed: 4)
        let data = network.units.visible([0, 1, 2], of: rows)
        var generator = SplitMix64(seed: 2)
        let sample = network.gibbsChain(from: data, steps: 3, using: &generator)
        // Every rated item keeps its K softmax probabilities after the last step.
        #expect(sample.entryCount == data.entryCount * levels.count)
        network.zeroGradients()
        (network.freeEnergy(data) - network.freeEnergy(sample)).mean().backward()
        let width = 6
        let hData = network.hiddenProbabilities(data).scalars
        let hSample = network.hiddenProbabilities(sample).scalars
        var expected = [Float](repeating: 0, count: network.unitCount * width)
        var expectedBias = [Float](repeating: 0, count: network.unitCount)
        for (matrix, hidden, sign) in [(data, hData, Float(-1)), (sample, hSample, 1)] {
            for row in 0..<3 {
                for position in matrix.rowStarts[row]..<matrix.rowStarts[row + 1] {
                    let unit = Int(matrix.columns[position])
                    let value = matrix.values[position]
                    expectedBias[unit] += sign * value / 3
                    for j in 0..<width { expected[unit * width + j] += sign * value * hidden[row * width + j] / 3 }
                }
            }
        }
        let gradient = try #require(network.weight.gradient).scalars
        #expect(zip(gradient, expected).allSatisfy { abs($0 - $1) < 1e-5 })
        let biasGradient = try #require(network.visibleBias.gradient).scalars
        #expect(zip(biasGradient, expectedBias).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test func gibbsStepsGrowBy2() {
        var config = RBM.Config()
        (config.cdSteps, config.cdMax, config.cdEvery) = (1, 9, 40)
        #expect([1, 40, 41, 80, 81, 161, 400].map(config.gibbsSteps) == [1, 1, 3, 3, 5, 9, 9])
    }

    @Test func seededRunsRepeatAndBadInputIsRefused() throws {
        let train = Self.split.train
        let a = try RBM(fitting: train, config: Self.config(epochs: 2))
        #expect(a.parameters == (try RBM(fitting: train, config: Self.config(epochs: 2))).parameters)
        #expect(a.parameters != (try RBM(fitting: train, config: Self.config(epochs: 2, seed: 5))).parameters)
        let implicit = try Interactions(
            users: train.users, items: train.items, userCount: train.userCount, itemCount: train.itemCount)
        #expect(throws: ConfigError.self) { try RBM(fitting: implicit, config: Self.config()) }
        _ = try RBM(fitting: implicit, config: Self.config(.binary, epochs: 1))
        let continuous = try Interactions(
            users: train.users, items: train.items, ratings: (0..<train.count).map { Float($0) / 7 },
            userCount: train.userCount, itemCount: train.itemCount)
        #expect(throws: ConfigError.self) { try RBM(fitting: continuous, config: Self.config()) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("rbm", settings: ["momentum": "1"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("rbm", settings: ["visible": "gaussian"]) }
        let binary = try #require(try ConfiguredModel("rbm", settings: ["visible": "binary"]).config as? RBM.Config)
        #expect(binary.validation == 0.2 && binary.variant == .user)
        let item = try #require(try ConfiguredModel("rbm", settings: [:]).config as? RBM.Config)
        #expect(item.validation == 0.1 && item.variant == .item)
    }
}
