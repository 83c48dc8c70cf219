import Foundation
import Testing

@testable import RecKitData
@testable import RecKitEval
@testable import RecKitModels

/// The test-pair metrics against hand-computed values.
@Suite struct PairMetricTests {
    /// Predictions from a table; probabilities or ratings.
    struct Table: RatingPredictor {
        var values: [Int32: [Int32: Float]]
        var predictsProbabilities: Bool
        var name: String { "table" }
        func predict(user: Int32, item: Int32) -> Float { values[user]![item]! }
    }

    // User 0 rates items 0, 1, 2 as 5, 2, 4; user 1 rates items 0, 3 as 3, 1.
    static let test = try! Interactions(
        users: [0, 0, 0, 1, 1], items: [0, 1, 2, 0, 3], ratings: [5, 2, 4, 3, 1], userCount: 2, itemCount: 4)
    static let table = Table(
        values: [0: [0: 0.9, 1: 0.8, 2: 0.3], 1: [0: 0.6, 3: 0.1]], predictsProbabilities: true)

    func evaluate(_ names: String, _ model: Table = table) throws -> [String: Double] {
        let metrics = names.split(separator: ",").map { MetricSpec(String($0))! }
        let result = try RatingEvaluator(metrics: metrics).evaluate(model, train: Self.test, test: Self.test)
        return Dictionary(uniqueKeysWithValues: result.metrics.map { ($0.name, $0.value) })
    }

    @Test func rocAUCAndLogLoss() throws {
        let values = try evaluate("roc_auc,logloss")
        // Positives (rating ≥ 4): 0.9, 0.3; negatives: 0.8, 0.6, 0.1 → wins 3 + 1 of 6.
        #expect(abs(values["roc_auc"]! - 4.0 / 6.0) < 1e-12)
        let expected = -(log(0.9) + log(0.3) + log(1 - 0.8) + log(1 - 0.6) + log(1 - 0.1)) / 5
        #expect(abs(values["logloss"]! - expected) < 1e-6)
    }

    @Test func rankingWithinEachUsersTestItems() throws {
        let values = try evaluate("ndcg_strict,ndcg_normal,precision_strict@2,precision_normal@1")
        // User 0 ranks items 0 (5★), 1 (2★), 2 (4★). Strict: relevant at ranks 1 and 3:
        // (1 + 1/2) / (1 + 1/log2 3).
        // User 1 has no rating ≥ 4: left out of strict NDCG.
        let strict0 = (1 + 0.5) / (1 + 1 / log2(3.0))
        #expect(abs(values["ndcg_strict"]! - strict0) < 1e-9)
        // Normal (≥ 3): user 0 the same; user 1 ranks item 0 (3★) first → 1.
        #expect(abs(values["ndcg_normal"]! - (strict0 + 1) / 2) < 1e-9)
        // precision_strict@2: user 0 has 1 of its top 2, user 1 none → (1/2 + 0) / 2.
        #expect(abs(values["precision_strict@2"]! - 0.25) < 1e-12)
        #expect(values["precision_normal@1"] == 1)
    }

    /// A classifier has no rating errors and a rating model no log loss: left out, or an error alone.
    @Test func inapplicableMetricsAreLeftOut() throws {
        let values = try evaluate("rmse,roc_auc")
        #expect(values.keys.sorted() == ["roc_auc"])
        #expect(throws: EvaluationError.self) { try evaluate("rmse") }
        var ratings = Self.table
        ratings.predictsProbabilities = false
        #expect(try evaluate("rmse,logloss", ratings).keys.sorted() == ["rmse"])
        #expect(throws: EvaluationError.self) { try evaluate("logloss", ratings) }
        #expect(MetricSpec("logloss")?.higherIsBetter == false && MetricSpec("roc_auc")?.higherIsBetter == true)
    }
}
