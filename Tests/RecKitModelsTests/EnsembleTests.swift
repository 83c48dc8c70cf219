import Foundation
import RecKitNN
import RecKitTensor
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitModels

@Suite struct EnsembleTests {
    let train = SyntheticData.generate(preset: .tiny, seed: 21).ratings.interactions

    func ensemble(_ settings: [String: String]) throws -> Ensemble {
        try Ensemble(fitting: train, config: Ensemble.config(from: settings), context: TrainingContext(threadCount: 1))
    }

    /// (x − mean) / sd over a row.
    func standardised(_ row: [Float]) -> [Double] {
        let mean = row.reduce(0.0) { $0 + Double($1) } / Double(row.count)
        let sd = (row.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(row.count)).squareRoot()
        return row.map { (Double($0) - mean) / sd }
    }

    @Test func scoreFusionIsTheWeightedSumOfPerUserZScores() throws {
        let model = try ensemble(["members": "popularity,ease:regularization=50", "weights": "1,3"])
        let popularity = model.members[0].scores(forUsers: [0, 5]).scalars
        let ease = model.members[1].scores(forUsers: [0, 5]).scalars
        let fused = model.scores(forUsers: [0, 5]).scalars
        let n = model.itemCount
        for row in 0..<2 {
            let a = standardised(Array(popularity[(row * n)..<((row + 1) * n)]))
            let b = standardised(Array(ease[(row * n)..<((row + 1) * n)]))
            for item in 0..<n { #expect(abs(Double(fused[row * n + item]) - (a[item] + 3 * b[item])) < 1e-4) }
        }
        // A fold-in history fuses the members' fold-in scores the same way.
        let history: [Int32] = [1, 4, 9]
        let a = standardised(model.members[0].scores(forHistory: history))
        let b = standardised(model.members[1].scores(forHistory: history))
        for (item, value) in model.scores(forHistory: history).enumerated() {
            #expect(abs(Double(value) - (a[item] + 3 * b[item])) < 1e-4)
        }
    }

    @Test func rankFusionByHand() throws {
        let model = try ensemble(["members": "popularity,ease:regularization=50", "fusion": "rank", "weights": "2,1"])
        let n = model.itemCount
        var expected = [Double](repeating: 0, count: n)
        for (member, weight) in zip(model.members, [2.0, 1.0]) {
            let scores = member.scores(forUsers: [3]).scalars
            let order = (0..<n).sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
            for (rank, item) in order.enumerated() { expected[item] += weight / Double(60 + rank + 1) }
        }
        for (item, value) in model.scores(forUsers: [3]).scalars.enumerated() {
            #expect(abs(Double(value) - expected[item]) < 1e-6)
        }
        // A weight of 0 leaves the other member's order.
        let alone = try ensemble(["members": "popularity,ease:regularization=50", "weights": "0,1"])
        let ease = alone.members[1].recommend(user: 3, k: 10).map(\.index)
        #expect(alone.recommend(user: 3, k: 10).map(\.index) == ease)
    }

    @Test func badMembersAndWeightsAreClearErrors() {
        for (settings, phrase) in [
            (["members": "ease"], "two or more"),
            (["members": "ease,nosuchmodel"], "nosuchmodel"),
            (["members": "ease,ials:factors=0"], "factors"),
            (["members": "ease,ials:factors"], "key=value"),
            (["members": "ease,ensemble"], "does not name a model"),
            (["members": "ease,ials", "weights": "1"], "give 2 numbers"),
            (["members": "ease,ials", "weights": "0,0"], "give 2 numbers"),
        ] {
            do {
                _ = try Ensemble.config(from: settings)
                Issue.record("accepted \(settings)")
            } catch {
                #expect("\(error)".contains(phrase), "\(settings): \(error)")
            }
        }
    }

    @Test func itsSeedReachesSeededMembersThatGiveNone() throws {
        #expect(try ConfiguredModel("ensemble", settings: ["members": "ease,ials"]).isSeeded)
        #expect(try !ConfiguredModel("ensemble", settings: ["members": "ease,rp3beta"]).isSeeded)
        #expect(try !ConfiguredModel("ensemble", settings: ["members": "ease,ials:seed=3"]).isSeeded)
        let scores = { (seed: String, members: String) -> [Float] in
            let model = try self.ensemble(["members": members, "seed": seed])
            return model.scores(forUsers: [0, 1]).scalars
        }
        #expect(try scores("1", "ease,ials") != scores("2", "ease,ials"))
        #expect(try scores("1", "ease,ials") == scores("1", "ease,ials"))
        #expect(try scores("1", "ease,ials:seed=3") == scores("2", "ease,ials:seed=3"))
    }
}
