import Foundation
import RecKitTensor
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitEval
@testable import RecKitModels
@testable import RecKitNN

@Suite struct AutoRecTests {
    static let data = SyntheticData.generate(preset: .small, seed: 73)
    static let split = try! data.ratings.split(.random(testFraction: 0.1), seed: 73)

    func config(_ variant: AutoRec.Variant, epochs: Int = 150, validation: Double = 0) -> AutoRec.Config {
        var config = AutoRec.Config()
        config.variant = variant
        config.hiddenSize = 32
        config.epochCount = epochs
        config.regularization = 100
        config.validation = validation
        return config
    }

    /// Both variants, with either optimiser, predict held-out ratings clearly better than the training
    /// mean; the epoch count is chosen on a validation part of the training data.
    @Test(arguments: [AutoRec.Variant.item, .user], [AutoRec.OptimizerChoice.rprop, .adam])
    func learnsRatings(variant: AutoRec.Variant, optimizer: AutoRec.OptimizerChoice) throws {
        let (train, test) = (Self.split.train, Self.split.test)
        var settings = config(variant, epochs: 300, validation: 0.1)
        settings.optimizer = optimizer
        settings.resolveDefaults(given: [])
        if optimizer == .adam { settings.learningRate = 0.01 }
        let model = try AutoRec(fitting: train, config: settings)
        // Full-batch Rprop overfits within a few hundred steps; validation stops it there.
        if optimizer == .rprop { #expect(model.config.epochCount < 300) }
        let evaluator = RatingEvaluator(metrics: [.rmse])
        let rmse = try evaluator.evaluate(model, train: train, test: test)["rmse"]!
        let ratings = train.ratings!
        let mean = ratings.reduce(0, +) / Float(ratings.count)
        let meanRMSE =
            (test.ratings!.reduce(0.0) { $0 + Double(($1 - mean) * ($1 - mean)) } / Double(test.count)).squareRoot()
        // U-AutoRec is the weaker variant (the paper: ML-1M 0.874 against I-AutoRec's 0.831).
        #expect(rmse < meanRMSE * (variant == .item ? 0.9 : 0.95), "\(variant): \(rmse) vs the mean's \(meanRMSE)")
    }

    /// A prediction is the decoder applied to the row's code, computed by hand from the parameters;
    /// clipped to the rating range; rows with no training ratings get the global mean.
    @Test func predictionsByHand() throws {
        let train = try Interactions(
            users: [0, 0, 1, 2, 2], items: [0, 1, 1, 0, 2], ratings: [5, 3, 4, 1, 2], userCount: 4, itemCount: 4)
        var small = config(.item, epochs: 5)
        small.hiddenSize = 3
        let model = try AutoRec(fitting: train, config: small)
        let p = model.parameters
        func predicted(user: Int, item: Int) -> Float {
            // Item row: the item's ratings over users.
            var row = [Float](repeating: 0, count: 4)
            for index in 0..<train.count where Int(train.items[index]) == item {
                row[Int(train.users[index])] = train.ratings![index]
            }
            let v = p["encoder.weight"]!.scalars // [users, hidden]
            let mu = p["encoder.bias"]!.scalars
            var code = [Float](repeating: 0, count: 3)
            for h in 0..<3 {
                var sum = mu[h]
                for u in 0..<4 { sum += row[u] * v[u * 3 + h] }
                code[h] = 1 / (1 + exp(-sum))
            }
            let w = p["decoder.weight"]!.scalars // [hidden, users]
            var value = p["decoder.bias"]!.scalars[user]
            for h in 0..<3 { value += code[h] * w[h * 4 + user] }
            return min(max(value, 1), 5)
        }
        for (user, item) in [(0, 0), (1, 2), (3, 1), (2, 1)] {
            #expect(abs(model.predict(user: Int32(user), item: Int32(item)) - predicted(user: user, item: item)) < 1e-5)
        }
        // Item 3 has no training ratings: the global mean, 3.
        #expect(model.predict(user: 0, item: 3) == 3)
        #expect(model.globalMean == 3 && model.ratingRange == 1...5)
    }

    /// Ranking scores (one product per batch) equal the per-pair predictions, for both variants; a row
    /// with no training ratings (item 4; user 3 in U-AutoRec) gets the global mean.
    @Test(arguments: [AutoRec.Variant.item, .user])
    func scoresArePredictions(variant: AutoRec.Variant) throws {
        let train = try Interactions(
            users: [0, 0, 1, 2, 2, 1], items: [0, 1, 1, 0, 2, 3], ratings: [5, 3, 4, 1, 2, 5], userCount: 4,
            itemCount: 5)
        var small = config(variant, epochs: 5)
        small.hiddenSize = 3
        let model = try AutoRec(fitting: train, config: small)
        let users: [Int32] = [0, 1, 2, 3]
        let scores = model.scores(forUsers: users).scalars
        for (slot, user) in users.enumerated() {
            for item in 0..<5 {
                #expect(abs(scores[slot * 5 + item] - model.predict(user: user, item: Int32(item))) < 1e-5)
            }
        }
        if variant == .item { #expect(model.predict(user: 0, item: 4) == model.globalMean) }
        if variant == .user { #expect(Array(scores[15..<20]) == [Float](repeating: model.globalMean, count: 5)) }
    }

    /// With `validation`, the saved epoch count is the best validation epoch, and the model is the one
    /// trained on all the data for that many epochs (bit for bit).
    @Test func epochsChosenOnValidationThenTrainedOnEverything() throws {
        let chosen = try AutoRec(fitting: Self.split.train, config: config(.item, epochs: 200, validation: 0.1))
        let epochs = chosen.config.epochCount
        let holdout = try ValidationHoldout(
            Self.split.train, fraction: 0.1, seed: 0, target: .ratings, model: "autorec")
        let run = try AutoRec.train(
            holdout.fit, config: config(.item, epochs: 200), context: TrainingContext(), validation: holdout)
        #expect(run.bestEpoch == epochs && epochs > 1)
        let direct = try AutoRec(fitting: Self.split.train, config: config(.item, epochs: epochs))
        #expect(direct.parameters == chosen.parameters)
    }

    /// The sparse reconstruction (observed entries only) equals the dense network's output there, and
    /// the dense and sparse codes agree.
    @Test func sparseReconstructionEqualsTheDenseNetwork() throws {
        let rows = InteractionMatrix.byItem(Self.split.train)
        let network = AutoRecNetwork(columns: rows.columnCount, hidden: 16, seed: 3)
        let indices = [0, 5, 7, 30]
        let sparse = AutoRec.sparseRows(indices, of: rows)
        var dense = [Float](repeating: 0, count: indices.count * rows.columnCount)
        for (position, row) in sparse.entryRows.enumerated() {
            dense[Int(row) * rows.columnCount + Int(sparse.columns[position])] = sparse.values[position]
        }
        let full = network(Variable(Tensor(shape: [indices.count, rows.columnCount], scalars: dense))).value.scalars
        let observed = network.reconstruction(sparse).value.scalars
        for (position, row) in sparse.entryRows.enumerated() {
            #expect(abs(observed[position] - full[Int(row) * rows.columnCount + Int(sparse.columns[position])]) < 1e-5)
        }
    }

    @Test func seededRunsRepeatAndSettingsAreChecked() throws {
        let a = try AutoRec(fitting: Self.split.train, config: config(.item, epochs: 2))
        let b = try AutoRec(fitting: Self.split.train, config: config(.item, epochs: 2))
        #expect(a.parameters == b.parameters)
        var other = config(.item, epochs: 2)
        other.seed = 5
        #expect(try AutoRec(fitting: Self.split.train, config: other).parameters != a.parameters)
        #expect(throws: ConfigError.self) { try ConfiguredModel("autorec", settings: ["variant": "both"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("autorec", settings: ["regularization": "-1"]) }
        let implicit = try Interactions(users: [0, 1], items: [1, 0], userCount: 2, itemCount: 2)
        #expect(throws: ConfigError.self) { try AutoRec(fitting: implicit, config: config(.item, epochs: 1)) }
    }
}
