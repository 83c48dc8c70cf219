import Foundation
import RecKitTensor
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitEval
@testable import RecKitModels

@Suite struct NextItemEvaluatorTests {
    /// Scores from the last click only, with ties: after item a, items score [a: 0, a+1: 5, others 1],
    /// except that after item 0 every item scores 1 (an all-tie row).
    struct LastClick: Recommender {
        var name: String { "last" }
        var userCount: Int { 0 }
        var itemCount: Int { 5 }
        func scores(forUsers users: [Int32]) -> Tensor { Tensor.zeros([users.count, itemCount]) }
        func scores(forHistory history: [Int32]) -> [Float] {
            let last = Int(history.last!)
            if last == 0 { return [1, 1, 1, 1, 1] }
            return (0..<itemCount).map { $0 == last ? 0 : $0 == last + 1 ? 5 : 1 }
        }
    }

    @Test func ranksByHandWithTiesAgainstTheTarget() throws {
        // Session A: 1 → 2 → 4;  session B: 0 → 3.
        // Case 1→2: item 2 scores 5, alone on top: rank 1.
        // Case 2→4: scores [1, 1, 0, 5, 1]: 3 is higher, 0 and 1 tie at a lower index: rank 4.
        // Case 0→3: all tie; items 0, 1, 2 lie at lower indices: rank 4.
        let cases = NextItemCases(
            cases: [
                NextItemCase(sessionID: "A", prefix: [1], target: 2),
                NextItemCase(sessionID: "A", prefix: [1, 2], target: 4),
                NextItemCase(sessionID: "B", prefix: [0], target: 3),
            ], sequenceCount: 2, removedClicks: 0, droppedSequences: 0)
        let evaluator = NextItemEvaluator(metrics: [.recall(3), .recall(4), .mrr(4), .ndcg(4), .coverage(1)])
        let result = try evaluator.evaluate(LastClick(), cases: cases, trainInteractionCount: 10)
        #expect(result["recall@3"] == 1.0 / 3)
        #expect(result["recall@4"] == 1)
        #expect(abs(result["mrr@4"]! - (1 + 0.25 + 0.25) / 3) < 1e-12)
        #expect(abs(result["ndcg@4"]! - (1 + 2 / log2(5.0)) / 3) < 1e-12)
        #expect(result["coverage@1"] == 3.0 / 5) // tops: 2, 3, 0
        #expect(result.protocolKind == .nextItem && result.evaluatedUserCount == 3)
        #expect(Metrics.nextItemRank(of: 3, in: [1, 1, 1, 1, 1][...]) == 4)
        // Batches and threads change nothing.
        for (batch, threads) in [(1, 1), (2, 3)] {
            let other = try NextItemEvaluator(
                metrics: evaluator.metrics, batchSize: batch, threadCount: threads
            ).evaluate(LastClick(), cases: cases, trainInteractionCount: 10)
            #expect(other.metrics == result.metrics)
        }
        #expect(throws: EvaluationError.self) {
            try NextItemEvaluator(metrics: [.precision(5)]).evaluate(
                LastClick(), cases: cases, trainInteractionCount: 10)
        }
    }

    /// Test sequences over the training items: clicks on unknown items removed, then sequences
    /// shorter than two dropped; each position from the second predicts its click.
    @Test func casesFromATestFile() throws {
        let trainItems = try IDMap(ids: ["10", "20", "30"])
        // Session s1: 10, 99 (unknown), 20 → 10, 20; s2: 30, 99 → 30 (dropped); s3: 20, 10, 30.
        let interactions = try Interactions(
            users: [0, 0, 0, 1, 1, 2, 2, 2], items: [0, 3, 1, 2, 3, 1, 0, 2], timestamps: [1, 2, 3, 1, 2, 5, 6, 7],
            userCount: 3, itemCount: 4)
        let test = Dataset(
            name: "t", format: .sessions, interactions: interactions, users: try IDMap(ids: ["s1", "s2", "s3"]),
            items: try IDMap(ids: ["10", "20", "30", "99"]))
        let cases = test.nextItemCases(items: trainItems)
        #expect(cases.removedClicks == 2 && cases.droppedSequences == 1 && cases.sequenceCount == 2)
        // Each prefix click keeps its context; a removed click still counts for the next gap.
        let first = ClickContext(hour: 0, weekday: 3, gap: 0)
        #expect(
            cases.cases == [
                NextItemCase(sessionID: "s1", prefix: [0], target: 1, contexts: [first]),
                NextItemCase(sessionID: "s3", prefix: [1], target: 0, contexts: [first]),
                NextItemCase(
                    sessionID: "s3", prefix: [1, 0], target: 2,
                    contexts: [first, ClickContext(hour: 0, weekday: 3, gap: 2)]),
            ])
    }

    /// Click contexts by hand: hour and weekday in UTC (1 January 1970 was a Thursday), the gap to
    /// the previous click in log₂-second buckets, and the storage code round trip.
    @Test func clickContextsByHand() throws {
        #expect(ClickContext(time: 0, previous: nil) == ClickContext(hour: 0, weekday: 3, gap: 0))
        // 2014-04-02 11:17:46 UTC, a Wednesday; 1969-12-31 23:00 UTC, also a Wednesday.
        #expect(ClickContext(time: 1_396_437_466, previous: nil) == ClickContext(hour: 11, weekday: 2, gap: 0))
        #expect(ClickContext(time: -3_600, previous: nil) == ClickContext(hour: 23, weekday: 2, gap: 0))
        // Gaps 0 s, 1 s, 3 s, an hour, a year and a negative one: 1 + ⌊log₂(gap + 1)⌋, capped at 17.
        let gaps: [Int64] = [0, 1, 3, 3_600, 31_536_000, -5]
        #expect(gaps.map { ClickContext(time: 100, previous: 100 - $0).gap } == [1, 2, 3, 12, 17, 1])
        let context = ClickContext(hour: 23, weekday: 6, gap: 17)
        #expect(ClickContext(code: context.code) == context && context.code == ClickContext.codeCount - 1)
        let interactions = try Interactions(
            users: [1, 0, 1, 1, 0], items: [5, 2, 3, 4, 1], timestamps: [9, 4, 2, 9, 3], userCount: 3, itemCount: 6)
        #expect(
            interactions.sequenceContexts()?.map { $0.map(\.gap) } == [[0, 2], [0, 4, 1], []])
    }

    /// Sequences follow time, then row order for equal times.
    @Test func sequencesAreInTimeOrder() throws {
        let interactions = try Interactions(
            users: [1, 0, 1, 1, 0], items: [5, 2, 3, 4, 1], timestamps: [9, 4, 2, 9, 3], userCount: 3, itemCount: 6)
        #expect(interactions.sequences() == [[1, 2], [3, 5, 4], []])
    }
}
