import Foundation
import Testing

@testable import RecKitEval
@testable import RecKitModels

/// Every metric against cases worked out by hand.
@Suite struct MetricsTests {
    // Ranked list 10, 20, 30, 40, 50; relevant {20, 50, 99}: hits at ranks 2 and 5.
    let ranked: [Int32] = [10, 20, 30, 40, 50]
    let relevant: Set<Int32> = [20, 50, 99]

    @Test func precisionRecallAndCappedRecall() {
        #expect(Metrics.precision(ranked: ranked, relevant: relevant, k: 5) == 2.0 / 5)
        #expect(Metrics.recall(ranked: ranked, relevant: relevant, k: 5) == 2.0 / 3)
        #expect(Metrics.cappedRecall(ranked: ranked, relevant: relevant, k: 5) == 2.0 / 3)
        // k = 2: one hit; capped recall divides by min(2, 3) = 2.
        #expect(Metrics.recall(ranked: ranked, relevant: relevant, k: 2) == 1.0 / 3)
        #expect(Metrics.cappedRecall(ranked: ranked, relevant: relevant, k: 2) == 1.0 / 2)
    }

    @Test func ndcgByHand() {
        // DCG = 1/log2(3) + 1/log2(6); IDCG (3 relevant, k = 5) = 1 + 1/log2(3) + 1/2.
        let dcg = 1 / log2(3.0) + 1 / log2(6.0)
        let idcg = 1 + 1 / log2(3.0) + 0.5
        #expect(abs(Metrics.ndcg(ranked: ranked, relevant: relevant, k: 5) - dcg / idcg) < 1e-12)
        // k = 1: no hit at rank 1.
        #expect(Metrics.ndcg(ranked: ranked, relevant: relevant, k: 1) == 0)
    }

    @Test func mapMrrAndHitRate() {
        // AP = (1/2 + 2/5) / min(5, 3).
        #expect(abs(Metrics.averagePrecision(ranked: ranked, relevant: relevant, k: 5) - (0.5 + 0.4) / 3) < 1e-12)
        #expect(Metrics.reciprocalRank(ranked: ranked, relevant: relevant, k: 5) == 0.5)
        #expect(Metrics.reciprocalRank(ranked: ranked, relevant: relevant, k: 1) == 0)
        #expect(Metrics.hitRate(ranked: ranked, relevant: relevant, k: 2) == 1)
        #expect(Metrics.hitRate(ranked: ranked, relevant: relevant, k: 1) == 0)
    }

    @Test func noTestItemsAndShortLists() {
        for k in [1, 5, 10] {
            #expect(Metrics.ndcg(ranked: ranked, relevant: [], k: k) == 0)
            #expect(Metrics.recall(ranked: ranked, relevant: [], k: k) == 0)
            #expect(Metrics.averagePrecision(ranked: ranked, relevant: [], k: k) == 0)
        }
        // Fewer candidates than k: precision still divides by k; a perfect short list gets NDCG 1.
        #expect(Metrics.precision(ranked: [7], relevant: [7], k: 10) == 0.1)
        #expect(Metrics.ndcg(ranked: [7], relevant: [7], k: 10) == 1)
        #expect(Metrics.cappedRecall(ranked: [7], relevant: [7], k: 10) == 1)
    }

    @Test func perfectRankingScoresOne() {
        let relevant: Set<Int32> = [3, 1, 2]
        let perfect: [Int32] = [1, 2, 3, 9, 8]
        for k in [1, 3, 5] {
            #expect(abs(Metrics.ndcg(ranked: perfect, relevant: relevant, k: k) - 1) < 1e-12)
            #expect(Metrics.cappedRecall(ranked: perfect, relevant: relevant, k: k) == 1)
            #expect(abs(Metrics.averagePrecision(ranked: perfect, relevant: relevant, k: k) - 1) < 1e-12)
        }
    }

    @Test func metricsStayInUnitInterval() {
        var state: UInt64 = 7
        func next(_ bound: Int) -> Int32 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int32((state >> 33) % UInt64(bound))
        }
        for _ in 0..<300 {
            let ranked = Array(Set((0..<12).map { _ in next(30) }))
            let relevant = Set((0..<Int(next(6))).map { _ in next(30) })
            for k in [1, 5, 10] {
                for value in [
                    Metrics.precision(ranked: ranked, relevant: relevant, k: k),
                    Metrics.recall(ranked: ranked, relevant: relevant, k: k),
                    Metrics.cappedRecall(ranked: ranked, relevant: relevant, k: k),
                    Metrics.ndcg(ranked: ranked, relevant: relevant, k: k),
                    Metrics.averagePrecision(ranked: ranked, relevant: relevant, k: k),
                    Metrics.reciprocalRank(ranked: ranked, relevant: relevant, k: k),
                ] {
                    #expect(value >= 0 && value <= 1 + 1e-12)
                }
            }
        }
    }

    @Test func aucWithTies() {
        // Positives 0.9 and 0.5; negatives 0.5, 0.1: pairs (0.9>0.5), (0.9>0.1), (0.5=0.5 → ½), (0.5>0.1) → 3.5/4.
        #expect(Metrics.auc(positiveScores: [0.9, 0.5], negativeScores: [0.5, 0.1]) == 0.875)
        #expect(Metrics.auc(positiveScores: [1], negativeScores: []) == nil)
        // Per user, excluded items count as neither.
        #expect(Metrics.auc(scores: [0.2, 0.9, 0.5, 0.99], relevant: [1], excluded: [3]) == 1)
    }

    @Test func logLossRmseMae() {
        // −(ln 0.8 + ln(1 − 0.4)) / 2.
        #expect(
            abs(Metrics.logLoss(probabilities: [0.8, 0.4], labels: [true, false]) - (-(log(0.8) + log(0.6)) / 2))
                < 1e-12)
        #expect(abs(Metrics.rmse(predictions: [3, 4], targets: [4, 2]) - (5.0 / 2).squareRoot()) < 1e-12)
        #expect(Metrics.mae(predictions: [3, 4], targets: [4, 2]) == 1.5)
    }

    @Test func giniAndSessions() {
        #expect(Metrics.gini([5, 5, 5, 5]) == 0)
        #expect(abs(Metrics.gini([0, 0, 0, 10]) - 0.75) < 1e-12) // (n−1)/n for one holder
        let session = Metrics.nextItem(rankings: [[4, 2, 9], [1, 2, 3], [7]], targets: [2, 5, 7], k: 20)
        #expect(abs(session.recall - 2.0 / 3) < 1e-12)
        #expect(abs(session.mrr - (0.5 + 0 + 1) / 3) < 1e-12)
    }

    @Test func metricNamesParseAndPrint() {
        for name in [
            "precision@10", "recall@20", "recall_capped@10", "ndcg@5", "hr@10", "map@10", "mrr@10", "coverage@10",
            "novelty@10", "avg_popularity@10", "gini@10", "auc",
        ] {
            #expect(MetricSpec(name)?.description == name)
        }
        #expect(MetricSpec("ndcg") == nil && MetricSpec("ndcg@0") == nil && MetricSpec("bogus@3") == nil)
    }
}
