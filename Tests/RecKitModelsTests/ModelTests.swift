import RecKitTensor
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitModels

@Suite struct ModelTests {
    let train = try! Interactions(
        users: [0, 0, 1, 1, 2, 2, 2], items: [0, 1, 1, 2, 1, 2, 3], timestamps: [1, 2, 3, 100, 101, 102, 5],
        userCount: 3, itemCount: 5)

    @Test func popularityCountsAndWindows() throws {
        let all = try Popularity(fitting: train)
        #expect(all.itemScores == [1, 3, 2, 1, 0])
        #expect(all.recommend(user: 0, k: 2, excludingSeen: InteractionMatrix.byUser(train)).map(\.index) == [2, 3])
        // Only interactions at times ≥ 102 − 10.
        let recent = try Popularity(fitting: train, config: .init(recentWindowSeconds: 10))
        #expect(recent.itemScores == [0, 1, 2, 0, 0])
        #expect(throws: ConfigError.self) { try Popularity(fitting: train, config: .init(recentWindowSeconds: 0)) }
        let noTimes = try Interactions(users: [0], items: [0], userCount: 1, itemCount: 1)
        #expect(throws: ConfigError.self) { try Popularity(fitting: noTimes, config: .init(recentWindowSeconds: 5)) }
    }

    @Test func mostRecentRanksByEachItemsLatestTime() throws {
        // Latest times: item 0 at 1, item 1 at 101, item 2 at 102, item 3 at 5, item 4 never.
        let model = try MostRecent(fitting: train)
        #expect(model.itemScores == [1, 3, 4, 2, 0])
        #expect(model.recommend(user: 0, k: 2, excludingSeen: InteractionMatrix.byUser(train)).map(\.index) == [2, 3])
        let noTimes = try Interactions(users: [0], items: [0], userCount: 1, itemCount: 1)
        #expect(throws: ConfigError.self) { try MostRecent(fitting: noTimes) }
    }

    @Test func historyRecommendationsExcludeTheHistory() throws {
        let model = try Popularity(fitting: train)
        #expect(model.recommend(history: [1, 2], k: 3).map(\.index) == [0, 3, 4])
    }

    @Test func randomIsSeededAndBatchIndependent() {
        let a = RandomRecommender(fitting: train, seed: 4)
        let b = RandomRecommender(fitting: train, seed: 4)
        #expect(a.scores(forUsers: [0, 1, 2]) == b.scores(forUsers: [0, 1, 2]))
        #expect(Array(a.scores(forUsers: [0, 1, 2]).row(1)) == a.scores(forUsers: [1]).scalars)
        #expect(RandomRecommender(fitting: train, seed: 5).scores(forUsers: [0]) != a.scores(forUsers: [0]))
    }

    /// On ratings, random predicts as Surprise's NormalPredictor: one fixed draw per pair, with the
    /// training ratings' mean and spread, inside their range; a restored model predicts the same.
    @Test func randomPredictsNormalRatings() throws {
        let rated = SyntheticData.generate(preset: .tiny, seed: 2).ratings.interactions
        let ratings = rated.ratings!
        let mean = ratings.reduce(0, +) / Float(ratings.count)
        let squares: [Float] = ratings.map { ($0 - mean) * ($0 - mean) }
        let deviation = (squares.reduce(0, +) / Float(ratings.count)).squareRoot()
        let model = RandomRecommender(fitting: rated, seed: 4)
        let fitted = try #require(model.ratings)
        #expect(abs(fitted.mean - mean) < 1e-4 && abs(fitted.deviation - deviation) < 1e-4)
        let users = (0..<20_000).map { Int32($0 % rated.userCount) }
        let items = (0..<20_000).map { Int32(($0 / rated.userCount) % rated.itemCount) }
        let predictions = model.predict(users: users, items: items)
        let predictedMean = predictions.reduce(0, +) / Float(predictions.count)
        // Clipping to the range pulls the mean a little towards the middle of the range.
        #expect(abs(predictedMean - mean) < 0.1, "\(predictedMean) vs \(mean)")
        #expect(predictions.allSatisfy { ratings.min()! <= $0 && $0 <= ratings.max()! })
        #expect(Set(predictions.prefix(100)).count > 70) // distinct draws, apart from clipped ones
        #expect(model.predict(user: 3, item: 5) == model.predict(users: [1, 3], items: [2, 5])[1])
        #expect(RandomRecommender(fitting: rated, seed: 5).predict(user: 3, item: 5) != model.predict(user: 3, item: 5))
        let restored = try RandomRecommender(
            restoring: model.config, weights: model.weights, userCount: model.userCount, itemCount: model.itemCount)
        #expect(restored.predict(users: users, items: items) == predictions)
        #expect(RandomRecommender(fitting: train, seed: 4).ratings == nil)
    }

    @Test func factorModelScoresAreDotProducts() {
        let users = Tensor(shape: [2, 2], scalars: [1, 0, 0.5, 2])
        let items = Tensor(shape: [3, 2], scalars: [1, 1, 2, 0, 0, 3])
        let model = FactorModel(userFactors: users, itemFactors: items)
        #expect(model.scores(forUsers: [1, 0]).scalars == [2.5, 1, 6, 1, 2, 0])
        #expect(model.recommend(user: 1, k: 1).map(\.index) == [2])
        // Fold-in: the mean of items 0 and 1 is (1.5, 0.5).
        #expect(model.scores(forHistory: [0, 1]) == [2, 3, 1.5])
        #expect(
            model.topItems(forUsers: [1, 0], k: 2, excluding: [[2], []]).map { $0.map(\.index) } == [[0, 1], [1, 0]])
    }

    @Test func factorModelTopItemsEqualTheRankingOfItsScores() {
        // Small integers: every sum is exact in any order, so the packed kernel and the GEMM give the
        // same scores, with many exact ties to break by the lower index.
        var random = Xoshiro256(seed: 5)
        let table = { (rows: Int) in
            Tensor(shape: [rows, 64], scalars: (0..<(rows * 64)).map { _ in Float(random.nextIndex(below: 7) - 3) })
        }
        let model = FactorModel(userFactors: table(9), itemFactors: table(1_003))
        let users: [Int32] = [8, 0, 3, 3, 5]
        let excluding: [[Int32]] = [[1, 2, 3], [], [1_002], [], [Int32](0..<500)]
        #expect(
            model.topItems(forUsers: users, k: 50, excluding: excluding)
                == model.scores(forUsers: users).topKPerRow(50, excluding: excluding))
        #expect(model.recommend(user: 3, k: 5) == model.scores(forUsers: [3]).topKPerRow(5)[0])
    }

    @Test func modelKindsValidateSettings() throws {
        #expect(throws: ConfigError.self) { try ConfiguredModel("popularity", settings: ["colour": "red"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("popularity", settings: ["window": "soon"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("random", settings: ["seed": "-1"]) }
        let model = try ConfiguredModel("popularity", settings: ["window": "10"]).fit(train)
        #expect(model.name == "popularity-recent")
    }
}
