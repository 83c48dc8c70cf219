import Foundation
import RecKitEval
import RecKitNN
import RecKitTensor
import Testing

@testable import RecKitData
@testable import RecKitModels

/// The feature models (fm, deepfm, widedeep): they learn, save and restore exactly, repeat bit for
/// bit when seeded, and score users known only by features.
@Suite struct FeatureModelTests {
    static let data = SyntheticData.generate(preset: .tiny, seed: 5).ratings
    static let split = try! data.split(.random(testFraction: 0.2), seed: 1)
    /// A user attribute that carries signal: each user's favourite genre as "occupation".
    static let side: SideData = {
        var side = split.side
        let truth = SyntheticData.generate(preset: .tiny, seed: 5).truth
        side.users = AttributeTable(columns: [
            ("occupation", truth.favouriteGenres.map { "g\($0.first ?? 0)" })
        ])
        return side
    }()

    static func fit(
        _ name: String, _ settings: [String: String] = [:], side: SideData = side
    ) throws -> any TrainableRecommender {
        try ConfiguredModel(name, settings: ["epochs": "4", "threads": "1"].merging(settings) { $1 })
            .fit(split.train, validation: nil, side: side)
    }

    /// What to recommend to a newcomer: any rated item against 4 sampled unrated ones.
    static let observedPairs = ["epochs": "8", "negatives": "4", "positive_threshold": "0"]

    /// The user's ID and occupation, the item's ID and genres: what the cold-start tests read.
    static let attributeSide: SideData = {
        var side = FeatureModelTests.side
        side.features = FeatureSpec(
            user: [
                FeatureColumnSpec("user_id", source: "id", kind: .categorical),
                FeatureColumnSpec("occupation", kind: .categorical),
            ],
            item: [
                FeatureColumnSpec("item_id", source: "id", kind: .categorical),
                FeatureColumnSpec("genres", kind: .multivalent, combiner: .sqrtn),
            ])
        return side
    }()

    /// ROC AUC of the test pairs' predictions against rating ≥ 4.
    static func auc(_ model: any TrainableRecommender) -> Double {
        let predictor = model as! any RatingPredictor
        let predictions = predictor.predict(users: split.test.users, items: split.test.items, times: nil)
        let labels = split.test.ratings!.map { $0 >= 4 }
        return Metrics.auc(
            positiveScores: predictions.indices.filter { labels[$0] }.map { predictions[$0] },
            negativeScores: predictions.indices.filter { !labels[$0] }.map { predictions[$0] })!
    }

    /// Each model separates liked from disliked test pairs far better than item popularity does
    /// (mfside by its rating loss: its ranking losses learn rated against unrated, tested below).
    @Test(arguments: ["fm", "deepfm", "widedeep", "mfdnn", "mfside", "mixture", "vmf"])
    func learnsBeyondPopularity(name: String) throws {
        let counts = Self.split.train.countsPerItem()
        let popularity = Metrics.auc(
            positiveScores: Self.split.test.items.indices.filter { Self.split.test.ratings![$0] >= 4 }
                .map { Float(counts[Int(Self.split.test.items[$0])]) },
            negativeScores: Self.split.test.items.indices.filter { Self.split.test.ratings![$0] < 4 }
                .map { Float(counts[Int(Self.split.test.items[$0])]) })!
        let sideSum = ["mfside", "mixture", "vmf"].contains(name)
        let model = try Self.fit(name, sideSum ? ["loss": "mse", "learning_rate": "0.01"] : [:])
        #expect(Self.auc(model) > popularity + 0.05, "\(name): \(Self.auc(model)) vs popularity \(popularity)")
    }

    /// Save → restore gives identical predictions and scores; seeded single-thread runs are equal bit for bit.
    @Test(arguments: ["fm", "deepfm", "widedeep", "mfdnn", "mfside", "mixture", "vmf"])
    func roundTripsAndRepeats(name: String) throws {
        let model = try Self.fit(name)
        var weights = model.weights
        // Through bytes, as a model directory stores them.
        weights.entries = try SafeTensors.decode(SafeTensors.encode(weights.entries, metadata: [:])).entries
        #expect(weights.documents["features.json"] != nil)
        let restored = try ModelRegistry.model(named: name).restore(
            config: model.configObject, weights: weights, userCount: model.userCount, itemCount: model.itemCount)
        let users: [Int32] = [0, 7, 42]
        #expect(restored.scores(forUsers: users) == model.scores(forUsers: users))
        let (a, b) = (model as! any FeatureAwareRecommender, restored as! any FeatureAwareRecommender)
        #expect(a.scores(forUserFeatures: ["occupation": "g3"]) == b.scores(forUserFeatures: ["occupation": "g3"]))
        let again = try Self.fit(name)
        #expect(again.scores(forUsers: users) == model.scores(forUsers: users))
        let other = try Self.fit(name, ["seed": "9"])
        #expect(other.scores(forUsers: users) != model.scores(forUsers: users))
    }

    /// A user known only by a feature is scored from it: a new user whose favourite genre is 3,
    /// against one whose favourite is 2, gains most on genre 3's items (cold start).
    @Test func coldStartUsesUserFeatures() throws {
        let model = try Self.fit("fm", Self.observedPairs, side: Self.attributeSide) as! FactorizationMachine
        Self.expectGenreThreeGains(model)
        // An unknown value is out of vocabulary, not an error.
        #expect(model.scores(forUserFeatures: ["occupation": "astronaut"]).count == model.itemCount)
    }

    /// cold_dropout (training shows users and items as new now and then): seeded runs still repeat
    /// bit for bit, the draws change the model, and a new user is still scored from their feature.
    @Test func coldDropoutRepeatsAndScoresNewUsers() throws {
        let settings = Self.observedPairs.merging(["cold_dropout": "0.3"]) { $1 }
        let model = try Self.fit("fm", settings, side: Self.attributeSide)
        let users: [Int32] = [0, 7, 42]
        #expect(
            try Self.fit("fm", settings, side: Self.attributeSide).scores(forUsers: users)
                == model.scores(forUsers: users))
        #expect(
            try Self.fit("fm", Self.observedPairs, side: Self.attributeSide).scores(forUsers: users)
                != model.scores(forUsers: users))
        Self.expectGenreThreeGains(model as! FactorizationMachine)
        #expect(throws: ConfigError.self) { try Self.fit("fm", ["cold_dropout": "1"]) }
    }

    /// LightFM's formulation: each loss trains, a newcomer is scored from their feature, and items
    /// similar by their vectors come back without the item itself.
    @Test(arguments: ["bpr", "warp", "logistic"])
    func mfsideLossesAndColdStart(loss: String) throws {
        let model =
            try Self.fit(
                "mfside", ["loss": loss, "positive_threshold": "0", "epochs": "8"], side: Self.attributeSide) as! MFSide
        Self.expectGenreThreeGains(model)
        let similar = model.similarItems(to: 5, k: 10)
        #expect(similar.count == 10 && !similar.contains { $0.index == 5 })
        // As a recommender it ranks the held-out items above popularity.
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let ndcg = try evaluator.evaluate(model, train: Self.split.train, test: Self.split.test)["ndcg@10"]!
        let popular = try evaluator.evaluate(
            try Popularity(fitting: Self.split.train), train: Self.split.train, test: Self.split.test)["ndcg@10"]!
        #expect(ndcg > popular, "\(loss): \(ndcg) vs popularity \(popular)")
    }

    /// Mixture of tastes and variational MF on LightFM's formulation: WARP ranks held-out items above
    /// popularity, a newcomer is scored from their feature, the all-items scoring path gives what the
    /// network gives pair by pair, and similar items leave the item out.
    @Test(arguments: ["mixture", "vmf"])
    func sideSumVariantsRankAndScoreNewcomers(name: String) throws {
        let model = try Self.fit(name, ["positive_threshold": "0", "epochs": "8"], side: Self.attributeSide)
        let aware = model as! any FeatureAwareRecommender
        Self.expectGenreThreeGains(aware)
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let ndcg = try evaluator.evaluate(model, train: Self.split.train, test: Self.split.test)["ndcg@10"]!
        let popular = try evaluator.evaluate(
            try Popularity(fitting: Self.split.train), train: Self.split.train, test: Self.split.test)["ndcg@10"]!
        #expect(ndcg > popular, "\(name): \(ndcg) vs popularity \(popular)")
        let users: [Int32] = [3, 11]
        let scores = model.scores(forUsers: users).scalars
        let items = (0..<Int32(model.itemCount)).map { $0 }
        let probabilities = (model as! any RatingPredictor).predict(
            users: users.flatMap { user in items.map { _ in user } }, items: items + items, times: nil)
        for (score, probability) in zip(scores, probabilities) {
            #expect(abs(Activation.sigmoid(score) - probability) < 1e-5)
        }
        let similar = (model as! any ItemSimilarity).similarItems(to: 5, k: 10)
        #expect(similar.count == 10 && !similar.contains { $0.index == 5 })
    }

    /// The prior pulls the variational means to 0: a heavy KL weight leaves smaller item vectors than none.
    @Test func variationalPriorShrinksTheMeans() throws {
        func norm(_ weight: String) throws -> Float {
            let model = try Self.fit("vmf", ["loss": "mse", "kl_weight": weight]) as! VariationalMF
            let vectors = model.network().means.itemVectors(model.allItems).scalars
            return vectors.map { $0 * $0 }.reduce(0, +)
        }
        #expect(try norm("5") < 0.5 * norm("0"))
        Self.expectRatingsBeatTheMean(try Self.fit("vmf", ["loss": "mse", "learning_rate": "0.01"]), by: 0.03)
    }

    @Test func mfsideRegressionOnRatings() throws {
        Self.expectRatingsBeatTheMean(try Self.fit("mfside", ["loss": "mse", "learning_rate": "0.01"]), by: 0.03)
        #expect(throws: ConfigError.self) { try Self.fit("mfside", ["loss": "mse", "negatives": "2"]) }
    }

    /// A rating model: it predicts ratings (not probabilities), with a test RMSE at least `margin`
    /// below predicting the training mean for every pair.
    static func expectRatingsBeatTheMean(_ model: any TrainableRecommender, by margin: Double) {
        let predictor = model as! any RatingPredictor
        #expect(!predictor.predictsProbabilities)
        let predictions = predictor.predict(users: split.test.users, items: split.test.items, times: nil)
        let ratings = split.test.ratings!
        let mean = split.train.ratings!.reduce(0, +) / Float(split.train.count)
        #expect(
            Metrics.rmse(predictions: predictions, targets: ratings)
                < Metrics.rmse(predictions: ratings.map { _ in mean }, targets: ratings) - margin)
    }

    /// A new user whose favourite genre is 3, against one whose favourite is 2, gains most on genre 3's items.
    static func expectGenreThreeGains(_ model: some FeatureAwareRecommender) {
        let truth = SyntheticData.generate(preset: .tiny, seed: 5).truth
        let two = model.scores(forUserFeatures: ["occupation": "g2"])
        let three = model.scores(forUserFeatures: ["occupation": "g3"])
        func lift(_ genre: Int32) -> Float {
            let items = truth.primaryGenres.indices.filter { truth.primaryGenres[$0] == genre }
            return items.map { three[$0] - two[$0] }.reduce(0, +) / Float(items.count)
        }
        let others = Set(truth.primaryGenres).subtracting([3]).map(lift)
        #expect(lift(3) > others.max()! + 0.03, "\(lift(3)) vs \(others)")
    }

    /// The linear model (factors=0), the parts of Wide & Deep and regression all train.
    @Test func variantsAndRegression() throws {
        #expect(Self.auc(try Self.fit("fm", ["factors": "0"])) > 0.6)
        #expect(Self.auc(try Self.fit("widedeep", ["part": "wide"])) > 0.6)
        #expect(Self.auc(try Self.fit("widedeep", ["part": "deep", "wide_optimizer": "adagrad"])) > 0.6)
        Self.expectRatingsBeatTheMean(
            try Self.fit("fm", ["objective": "regression", "learning_rate": "0.005"]), by: 0.05)
        #expect(throws: ConfigError.self) { try Self.fit("fm", ["objective": "regression", "negatives": "2"]) }
    }

    /// MF + DNN's towers score like its pair network; with history the rated items enter the user
    /// tower, and a newcomer's history changes their scores (MF with history).
    @Test func mfdnnTowersAndHistory() throws {
        let model = try Self.fit("mfdnn", ["history": "true", "objective": "classification"]) as! MFDNN
        #expect(model.features.transform.columns.contains { $0.name == "user_history" })
        let users: [Int32] = [3, 11]
        let items = (0..<Int32(model.itemCount)).map { $0 }
        let towers = model.scores(forUsers: users)
        let pairs = GradientRecording.disabled {
            users.flatMap { user in
                model.network()(model.features.batch(users: items.map { _ in user }, items: items)).value.scalars
            }
        }
        #expect(zip(towers.scalars, pairs).allSatisfy { abs($0 - $1) <= 1e-4 })
        #expect(model.scores(forHistory: [1, 2, 3]) != model.scores(forHistory: [40, 50, 60]))
        #expect(Self.auc(model) > 0.6)
    }

    /// Without ratings a classifier learns observed pairs against sampled ones.
    @Test func implicitDataDrawsNegatives() throws {
        let implicit = try Interactions(
            users: Self.split.train.users, items: Self.split.train.items, userCount: Self.split.train.userCount,
            itemCount: Self.split.train.itemCount)
        let model = try ConfiguredModel("fm", settings: ["epochs": "3", "threads": "1"])
            .fit(implicit, validation: nil, side: Self.side)
        let scores = model.scores(forUsers: [0]).scalars
        let seen = Set(implicit.users.indices.filter { implicit.users[$0] == 0 }.map { implicit.items[$0] })
        let seenMean = seen.map { scores[Int($0)] }.reduce(0, +) / Float(seen.count)
        #expect(seenMean > scores.reduce(0, +) / Float(scores.count))
    }
}
