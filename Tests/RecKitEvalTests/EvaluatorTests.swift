import Foundation
import RecKitTensor
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitEval
@testable import RecKitModels

@Suite struct EvaluatorTests {
    // 3 users × 6 items.
    let train = try! Interactions(users: [0, 0, 1, 2], items: [0, 1, 2, 5], userCount: 3, itemCount: 6)
    let test = try! Interactions(users: [0, 1, 1], items: [2, 3, 4], userCount: 3, itemCount: 6)

    @Test func excludesTrainingItemsAndBreaksTiesByIndex() throws {
        // User 0 scores training items 0 and 1 highest; they must be skipped. Items 2, 3 tie.
        let model = ScoreTable([[9, 9, 5, 5, 1, 0], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]])
        let top = model.recommend(user: 0, k: 3, excludingSeen: InteractionMatrix.byUser(train))
        #expect(top.map(\.index) == [2, 3, 4])
        // All-zero scores: the lowest indices not in training.
        #expect(model.recommend(user: 1, k: 2, excludingSeen: InteractionMatrix.byUser(train)).map(\.index) == [0, 1])
        // k is clamped to the catalogue.
        #expect(model.recommend(user: 2, k: 50).count == 6)
    }

    @Test func fullRankingByHand() throws {
        let model = ScoreTable([[9, 9, 5, 5, 1, 0], [0, 0, 0, 3, 0, 0], [1, 1, 1, 1, 1, 1]])
        let result = try FullRankingEvaluator(metrics: [.precision(2), .recall(2), .ndcg(2), .hitRate(2), .coverage(2)])
            .evaluate(model, train: train, test: test)
        // User 0: top 2 = [2, 3], relevant {2}: P 0.5, R 1, NDCG 1, HR 1.
        // User 1: top 2 = [3, 0] (item 2 is training), relevant {3, 4}: P 0.5, R 0.5, NDCG 1/(1 + 1/log2 3), HR 1.
        // User 2 has no test items and is not evaluated.
        #expect(result.evaluatedUserCount == 2)
        #expect(result["precision@2"] == 0.5)
        #expect(result["recall@2"] == 0.75)
        #expect(abs(result["ndcg@2"]! - (1 + 1 / (1 + 1 / log2(3.0))) / 2) < 1e-12)
        #expect(result["hr@2"] == 1)
        #expect(result["coverage@2"] == 3.0 / 6) // items 2, 3, 0
        #expect(result.protocolKind == .fullRanking)
    }

    /// Candidates (a cold-items split): lists hold only candidate items, whatever the others score.
    @Test func candidatesRestrictTheRanking() throws {
        let model = ScoreTable([[9, 9, 5, 5, 1, 0], [0, 0, 0, 3, 0, 0], [1, 1, 1, 1, 1, 1]])
        let candidates = [false, false, false, true, true, true] // items 3, 4, 5
        let result = try FullRankingEvaluator(metrics: [.precision(2), .recall(2), .ndcg(2), .auc]).evaluate(
            model, train: train, test: try Interactions(users: [0, 1], items: [4, 5], userCount: 3, itemCount: 6),
            candidates: candidates)
        // User 0 ranks 3 (5), 4 (1), 5 (0): relevant {4} at rank 2. User 1: 3 (3), 4, 5 (0, 0): relevant {5} at 3.
        #expect(result.evaluatedUserCount == 2)
        #expect(result["recall@2"] == 0.5 && result["precision@2"] == 0.25)
        #expect(abs(result["ndcg@2"]! - (1 / log2(3.0)) / 2) < 1e-12)
        // AUC among the candidates: user 0's 4 beats 5, loses to 3 (0.5); user 1's 5 loses to 3, ties 4 (0.25).
        #expect(abs(result["auc"]! - (0.5 + 0.25) / 2) < 1e-12)
        #expect(result.protocolDescription.hasPrefix("cold items: each user ranks the 3 candidate items"))
        #expect(throws: EvaluationError.self) {
            try FullRankingEvaluator().evaluate(model, train: train, test: test, candidates: [true])
        }
    }

    /// Scores nothing for known users; for a history, the item after each history item scores 10 and
    /// otherwise lower indices score higher.
    struct NextItem: Recommender {
        var name: String { "next" }
        var userCount: Int { 3 }
        var itemCount: Int { 6 }
        func scores(forUsers users: [Int32]) -> Tensor { Tensor.zeros([users.count, itemCount]) }
        func scores(forHistory history: [Int32]) -> [Float] {
            (0..<itemCount).map { (history.contains(Int32($0) - 1) ? 10 : 0) - Float($0) / 100 }
        }
    }

    @Test func foldInRanksHeldOutUsersFromTheirHistories() throws {
        // User 2 was held out: history {0, 3}, test {1, 4}. From the history: 1, 4 score 10 (history items
        // excluded) → both in the top 2. Without fold-in the user's zero scores would rank 0, 1 first.
        let foldIn = try Interactions(users: [2, 2], items: [0, 3], userCount: 3, itemCount: 6)
        let heldOut = try Interactions(users: [2, 2], items: [1, 4], userCount: 3, itemCount: 6)
        let evaluator = FullRankingEvaluator(metrics: [.recall(2), .ndcg(2), .auc])
        let result = try evaluator.evaluate(NextItem(), train: train, test: heldOut, foldIn: foldIn)
        #expect(result.evaluatedUserCount == 1 && result["recall@2"] == 1 && result["ndcg@2"] == 1)
        #expect(result["auc"] == 1) // the history's items are excluded from the AUC's negatives too
        #expect(result.protocolDescription.hasPrefix("strong generalisation"))
        let inTraining = try evaluator.evaluate(NextItem(), train: train, test: heldOut)
        #expect(inTraining["recall@2"] == 0.5) // zero scores: items 0, 1 (user 2 trained on 5 only)
    }

    @Test func resultsDoNotDependOnBatchSizeThreadsOrUserOrder() throws {
        let data = SyntheticData.generate(preset: .tiny, seed: 8)
        let split = try data.ratings.split(.holdout(testFraction: 0.2, minimumPerUser: 5), seed: 1)
        let model = RandomRecommender(fitting: split.train, seed: 3)
        let metrics: [MetricSpec] = MetricSpec.defaults + [.novelty(10), .gini(10), .averagePopularity(10), .auc]
        let reference = try FullRankingEvaluator(metrics: metrics, batchSize: 1000, threadCount: 1).evaluate(
            model, train: split.train, test: split.test)
        for (batch, threads) in [(1, 1), (7, 2), (64, 3)] {
            let other = try FullRankingEvaluator(metrics: metrics, batchSize: batch, threadCount: threads).evaluate(
                model, train: split.train, test: split.test)
            #expect(other.metrics == reference.metrics, "batch \(batch), threads \(threads)")
        }
        // Permuting user indices (a relabelling of the same data) leaves the metrics unchanged.
        let permutation = (0..<Int32(split.train.userCount)).reversed().map { $0 }
        let relabel = { (data: Interactions) in
            try! Interactions(
                users: data.users.map { permutation[Int($0)] }, items: data.items, userCount: data.userCount,
                itemCount: data.itemCount)
        }
        let table = (0..<split.train.userCount).map { Array(model.scores(forUsers: [Int32($0)]).scalars) }
        let permutedModel = ScoreTable((0..<table.count).map { table[Int(permutation[$0])] })
        let permuted = try FullRankingEvaluator(metrics: metrics.filter { $0 != .auc }).evaluate(
            permutedModel, train: relabel(split.train), test: relabel(split.test))
        let original = try FullRankingEvaluator(metrics: metrics.filter { $0 != .auc }).evaluate(
            ScoreTable(table), train: split.train, test: split.test)
        for (a, b) in zip(permuted.metrics, original.metrics) { #expect(abs(a.value - b.value) < 1e-9, "\(a.name)") }
    }

    @Test func trainingItemsNeverAppearInRecommendations() throws {
        let data = SyntheticData.generate(preset: .tiny, seed: 2)
        let split = try data.ratings.split(.random(testFraction: 0.2), seed: 4)
        let model = try Popularity(fitting: split.train)
        let seen = InteractionMatrix.byUser(split.train)
        for user in 0..<Int32(split.train.userCount) {
            let top = model.recommend(user: user, k: 20, excludingSeen: seen)
            #expect(top.allSatisfy { !seen.contains(row: Int(user), column: $0.index) })
            #expect(top.count == min(20, split.train.itemCount - seen.count(inRow: Int(user))))
        }
    }

    @Test func sampledProtocolByHand() throws {
        // User 0: test item 2 scores 5; negatives 3 (5, tie → counts against), 4 (1): rank 1.
        // User 1: test item 3 scores 3; negatives 0, 1: rank 0.
        let model = ScoreTable([[9, 9, 5, 5, 1, 0], [0, 0, 0, 3, 0, 0], [1, 1, 1, 1, 1, 1]])
        let loo = try Interactions(users: [0, 1], items: [2, 3], userCount: 3, itemCount: 6)
        let result = try SampledEvaluator(metrics: [.hitRate(1), .ndcg(2)]).evaluate(
            model, train: train, test: loo, negatives: [[3, 4], [0, 1], []])
        #expect(result.protocolKind == .sampled && result.protocolDescription.contains("sampled"))
        #expect(result["hr@1"] == 0.5)
        #expect(abs(result["ndcg@2"]! - (1 / log2(3.0) + 1) / 2) < 1e-12)
        #expect(throws: EvaluationError.self) {
            try SampledEvaluator(metrics: [.coverage(10)]).evaluate(
                model, train: train, test: loo, negatives: [[3], [0], []])
        }
    }

    @Test func popularityBeatsRandomOnSyntheticData() throws {
        let data = SyntheticData.generate(preset: .small, seed: 5)
        let split = try data.ratings.split(.holdout(testFraction: 0.2, minimumPerUser: 5), seed: 5)
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let popularity = try evaluator.evaluate(
            try Popularity(fitting: split.train), train: split.train, test: split.test)
        let random = try evaluator.evaluate(
            RandomRecommender(fitting: split.train, seed: 1), train: split.train, test: split.test)
        #expect(popularity["ndcg@10"]! > 2 * random["ndcg@10"]!)
    }
}
