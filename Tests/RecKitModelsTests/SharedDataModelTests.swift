import Foundation
import RecKitEval
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitModels

/// Similar items on MovieLens latest-small: "Toy Story 2 (1999)" is among the ten items most similar
/// to "Toy Story (1995)" (item-KNN, iALS, item2vec). Skipped when ../shared/data is absent.
@Suite struct SharedDataModelTests {
    @Test(.enabled(if: SharedData.path("ml-latest-small-2016") != nil, "../shared/data/ml-latest-small-2016 is absent"))
    func toyStoryTwoIsSimilarToToyStory() throws {
        let dataset = try Dataset.load(try #require(SharedData.path("ml-latest-small-2016")))
        let catalog = try #require(dataset.itemCatalog)
        let toyStory = try #require(catalog.search(title: "Toy Story (1995)").first)
        let sequel = try #require(catalog.search(title: "Toy Story 2 (1999)").first)
        let knn = try ItemKNN(fitting: dataset.interactions)
        #expect(knn.similarItems(to: toyStory, k: 10).map(\.index).contains(sequel))
        let als = try ImplicitALS(fitting: dataset.interactions)
        #expect(als.similarItems(to: toyStory, k: 10).map(\.index).contains(sequel))
        // prod2vec over each user's ratings in time order (seeded, one thread: the same every run).
        let item2vec = try Item2Vec(fitting: dataset.interactions, config: .init(), context: .init(threadCount: 1))
        #expect(item2vec.similarItems(to: toyStory, k: 10).map(\.index).contains(sequel))
    }
}

/// Fold-in on ml-100k: recommendations from `recommend(history:)` with each test user's training
/// items give NDCG@10 within 0.005 of those from the trained user vectors.
@Suite struct FoldInTests {
    static var splitFolder: String? {
        SharedData.peerSplit("ml-100k/topn_user_holdout20_all_ratings_seed42")
    }

    @Test(.enabled(if: splitFolder != nil, "../shared/peers/splits/ml-100k is absent"))
    func implicitALSFoldInMatchesTrainedVectors() throws {
        let split = try SplitDirectory.load(try #require(Self.splitFolder))
        let model = try ImplicitALS(fitting: split.train)
        let seen = InteractionMatrix.byUser(split.train)
        let folded = ScoreTable(
            name: "fold-in",
            (0..<split.train.userCount).map { model.scores(forHistory: Array(seen.columns(inRow: $0))) })
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let trained = try evaluator.evaluate(model, train: split.train, test: split.test)["ndcg@10"]!
        let foldIn = try evaluator.evaluate(folded, train: split.train, test: split.test)["ndcg@10"]!
        #expect(abs(foldIn - trained) < 0.005, "fold-in \(foldIn) vs trained \(trained)")
    }
}
