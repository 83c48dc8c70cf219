import Foundation
import RecKitTensor
import Testing

@testable import RecKitData
@testable import RecKitModels

/// The validation part models choose their epoch counts on, against hand-computed cases.
@Suite struct ValidationHoldoutTests {
    /// User 0 has items 0…5 (one held out: round(6 · 0.2)); user 1 has 3 items, fewer than the 5 a user
    /// needs, so is not validated on. Catalogue of 8 items.
    static let train = try! Interactions(
        users: [0, 0, 0, 0, 0, 0, 1, 1, 1], items: [0, 1, 2, 3, 4, 5, 0, 6, 7], userCount: 2, itemCount: 8)

    @Test func rankingHoldsOutPerUserAndMeasuresNDCGWithoutFitItems() throws {
        let holdout = try ValidationHoldout(Self.train, fraction: 0.2, seed: 3, target: .ranking, model: "test")
        #expect(holdout.heldOut.count == 1 && holdout.fit.count == 8 && holdout.users == [0])
        let held = holdout.heldOut.items[0]
        #expect(held <= 5 && holdout.heldOut.users[0] == 0)
        // Candidates are the held-out item and items 6, 7 (user 0's fit items are excluded).
        func scores(_ ascending: Bool) -> ([Int32]) -> Tensor {
            { users in
                Tensor(
                    shape: [users.count, 8],
                    scalars: (0..<users.count).flatMap { _ in (0..<8).map { Float(ascending ? $0 : -$0) } })
            }
        }
        // Lower index first: the held-out item ranks first.
        #expect(holdout.ndcg(scores(false)).value == 1)
        // Higher index first: 7, 6, then the held-out item: 1 / log2(4).
        #expect(abs(holdout.ndcg(scores(true)).value - 0.5) < 1e-12)
        #expect(holdout.earlyStopping(patience: 2).higherIsBetter)
    }

    @Test func ratingsHoldOutAFractionAndMeasureRMSE() throws {
        let ratings = try Interactions(
            users: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4], items: [0, 1, 0, 2, 1, 2, 0, 1, 2, 0],
            ratings: [1, 2, 3, 4, 5, 1, 2, 3, 4, 5], userCount: 5, itemCount: 3)
        let holdout = try ValidationHoldout(ratings, fraction: 0.3, seed: 1, target: .ratings, model: "test")
        #expect(holdout.heldOut.count == 3 && holdout.fit.count == 7)
        // Predicting 3 everywhere: √(mean of (r − 3)²) over the held-out ratings.
        let expected = (holdout.heldOut.ratings!.map { Double(($0 - 3) * ($0 - 3)) }.reduce(0, +) / 3).squareRoot()
        #expect(abs(holdout.rmse { _, _ in 3 }.value - expected) < 1e-9)
        #expect(!holdout.earlyStopping(patience: 2).higherIsBetter)
    }

    @Test func anEmptyValidationPartIsAClearError() {
        let two = try! Interactions(users: [0, 1], items: [0, 1], ratings: [3, 4], userCount: 2, itemCount: 2)
        #expect(
            throws: ConfigError(
                model: "autorec", key: "validation",
                "a 0.1 validation part of 2 interactions is empty; raise it or set 0")
        ) {
            try ValidationHoldout(two, fraction: 0.1, seed: 0, target: .ratings, model: "autorec")
        }
    }
}
