import Foundation
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitEval
@testable import RecKitModels

/// Popularity on the peers' own split folders reproduces their "Popularity" rows of
/// ../shared/peers/RESULTS.md to four decimals: our metric definitions and tie-breaking match theirs.
@Suite struct PeerSplitTests {
    static var splits: String? { SharedData.peerSplits }

    /// (folder, P, R, R_cap, NDCG, HR, MAP, coverage) from RESULTS.md.
    static let fullRanking: [(String, [Double])] = [
        ("ml-100k/topn_user_holdout20_rating_ge4_seed42", [0.1128, 0.1090, 0.1508, 0.1521, 0.5864, 0.0762, 0.0297]),
        ("ml-100k/topn_user_holdout20_all_ratings_seed42", [0.1881, 0.1120, 0.2097, 0.2142, 0.7582, 0.1129, 0.0279]),
        (
            "ml-latest-small-2016/topn_user_holdout20_rating_ge4_seed42",
            [0.1049, 0.0941, 0.1388, 0.1356, 0.5508, 0.0687, 0.0063]
        ),
        (
            "ml-latest-small-2016/topn_user_holdout20_all_ratings_seed42",
            [0.1505, 0.0713, 0.1633, 0.1787, 0.6006, 0.1001, 0.0058]
        ),
        (
            "hetrec2011-lastfm-2k/topn_user_holdout20_all_ratings_seed42",
            [0.0693, 0.0707, 0.0707, 0.0800, 0.3852, 0.0352, 0.0015]
        ),
    ]

    @Test(.enabled(if: splits != nil, "../shared/peers/splits is absent"), arguments: fullRanking)
    func popularityMatchesPeersFullRanking(folder: String, expected: [Double]) throws {
        let split = try SplitDirectory.load(try #require(Self.splits) + "/" + folder)
        let metrics: [MetricSpec] = [
            .precision(10), .recall(10), .recallCapped(10), .ndcg(10), .hitRate(10), .map(10), .coverage(10),
        ]
        let result = try FullRankingEvaluator(metrics: metrics).evaluate(
            try Popularity(fitting: split.train), train: split.train, test: split.test)
        #expect(
            result.metrics.count == expected.count,
            "\(folder): \(result.metrics.count) metrics for \(expected.count) values")
        for (metric, value) in zip(result.metrics, expected) {
            #expect(abs(metric.value - value) < 0.00005, "\(folder) \(metric.name): \(metric.value) vs \(value)")
        }
    }

    @Test(
        .enabled(if: splits != nil, "../shared/peers/splits is absent"),
        arguments: [
            ("ml-100k/ncf_leave_one_out_99neg_seed42", 0.3234, 0.1676),
            ("ml-latest-small-2016/ncf_leave_one_out_99neg_seed42", 0.5410, 0.3222),
        ])
    func popularityMatchesPeersSampled(folder: String, hitRate: Double, ndcg: Double) throws {
        let split = try SplitDirectory.load(try #require(Self.splits) + "/" + folder)
        let negatives = try #require(split.negatives)
        #expect(negatives.allSatisfy { $0.count == 99 || $0.isEmpty })
        let result = try SampledEvaluator().evaluate(
            try Popularity(fitting: split.train), train: split.train, test: split.test, negatives: negatives)
        #expect(abs(result["hr@10"]! - hitRate) < 0.00005)
        #expect(abs(result["ndcg@10"]! - ndcg) < 0.00005)
    }
}
