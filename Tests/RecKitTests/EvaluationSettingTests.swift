import Foundation
import Testing
import _RecKitTestSupport

@testable import RecKit

/// A saved model evaluated on a split with its own ID maps: unknown users left out, unknown items
/// relevant but unreachable, hand-computed.
@Suite struct EvaluationSettingTests {
    @Test func unknownItemsStayRelevantButUnreachable() throws {
        // Training: users u1, u2 over items a, b, c; popularity ranks a (2), b (1), c (0).
        let users = try IDMap(ids: ["u1", "u2"])
        let items = try IDMap(ids: ["a", "b", "c"])
        let train = try Interactions(users: [0, 1, 1], items: [0, 0, 1], userCount: 2, itemCount: 3)
        let trained = try TrainedModel(
            training: try ConfiguredModel("popularity", settings: [:]), on: train, users: users, items: items)
        // The split's own maps: a user the model never saw (u9) and an item it never saw (d).
        let splitUsers = try IDMap(ids: ["u9", "u1", "u2"])
        let splitItems = try IDMap(ids: ["d", "c", "b", "a"])
        // u1 holds out c and d; u2 holds out c; u9 holds out a.
        let test = try Interactions(users: [1, 1, 2, 0], items: [1, 0, 1, 3], userCount: 3, itemCount: 4)
        let setting = trained.evaluationSetting(test: test, users: splitUsers, items: splitItems)
        #expect(setting.droppedPairs == 1 && setting.unreachablePairs == 1)
        #expect(setting.test.itemCount == 4 && setting.train.itemCount == 4 && setting.model.itemCount == 4)
        let scores = setting.model.scores(forUsers: [0]).scalars
        #expect(scores.count == 4 && scores[3] == -.infinity && scores[0] > scores[1] && scores[1] > scores[2])
        // k = 2. u1 (saw a): list b, c → hits c; recall 1/2; NDCG (1/log2 3) / (1 + 1/log2 3).
        // u2 (saw a, b): list c, then d (−∞) → hit c at rank 1; recall 1; NDCG 1.
        let result = try FullRankingEvaluator(metrics: [.recall(2), .ndcg(2)], threadCount: 1)
            .evaluate(setting.model, train: setting.train, test: setting.test)
        let discount = 1 / log2(3.0)
        #expect(abs(result["recall@2"]! - (0.5 + 1) / 2) < 1e-9)
        #expect(abs(result["ndcg@2"]! - (discount / (1 + discount) + 1) / 2) < 1e-9)
        // With every item known, nothing is appended and the model is the model itself.
        let known = trained.evaluationSetting(test: train, users: users, items: items)
        #expect(known.unreachablePairs == 0 && known.droppedPairs == 0 && known.model.itemCount == 3)
        // `reindex` still drops both kinds (rating evaluation cannot predict unknown items).
        #expect(trained.reindex(test, users: splitUsers, items: splitItems).dropped == 2)
    }
}
