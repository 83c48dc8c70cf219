import Testing

@testable import RecKitEval

@Suite struct AveragedResultTests {
    func run(_ ndcg: Double, _ recall: Double, fit: Double) -> EvaluationResult {
        EvaluationResult(
            model: "m", protocolKind: .fullRanking, protocolDescription: "full",
            metrics: [
                .init(name: "ndcg@10", value: ndcg, definition: "d"),
                .init(name: "recall@10", value: recall, definition: "r"),
            ], evaluatedUserCount: 3, userCount: 4, itemCount: 5, trainInteractionCount: 6, testInteractionCount: 7,
            fitSeconds: fit, evaluateSeconds: 1, context: [:])
    }

    @Test func meansAndSampleStandardDeviationsByHand() {
        // ndcg 0.1, 0.2, 0.3: mean 0.2, sample sd √(0.02 / 2) = 0.1; recall 0.5 ×3: sd 0.
        let averaged = EvaluationResult.averaged(over: [
            run(0.1, 0.5, fit: 1), run(0.2, 0.5, fit: 2), run(0.3, 0.5, fit: 6),
        ])
        #expect(abs(averaged["ndcg@10"]! - 0.2) < 1e-12 && abs(averaged.standardDeviations!["ndcg@10"]! - 0.1) < 1e-12)
        #expect(averaged["recall@10"] == 0.5 && averaged.standardDeviations!["recall@10"] == 0)
        #expect(averaged.runCount == 3 && averaged.fitSeconds == 3 && averaged.evaluateSeconds == 1)
        #expect(averaged.formatted("ndcg@10") == "0.2000 ± 0.1000")
        // One run stays as it was: no spread, no count.
        let single = EvaluationResult.averaged(over: [run(0.1, 0.5, fit: 1)])
        #expect(single == run(0.1, 0.5, fit: 1) && single.formatted("ndcg@10") == "0.1000")
        #expect(Report.markdown([averaged]).contains("| m | 0.2000 ± 0.1000 | 0.5000 ± 0.0000 |"))
    }
}
