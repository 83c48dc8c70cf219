import Foundation
import Testing
import _RecKitTestSupport

@testable import RecKit

/// The cold-start policy the CLI and the server share: each path by hand.
@Suite struct RecommendationPolicyTests {
    static let trained: TrainedModel = {
        let dataset = SyntheticData.generate(preset: .tiny, seed: 8).ratings
        let ials = try! ConfiguredModel("ials", settings: ["factors": "8", "alpha": "10", "iterations": "3"])
        return try! TrainedModel(training: ials, on: dataset)
    }()

    func ids(_ indices: [Int32]) -> [String] { indices.map { Self.trained.items.id(at: $0) } }

    @Test func trendingScoresRankRecentCountsThenPopularity() throws {
        let trained = Self.trained
        #expect(RecommendationPolicy.trendingScores(["nothing-known": 4], model: trained) == nil)
        let (a, b) = (trained.items.id(at: 3), trained.items.id(at: 4))
        let scores = try #require(RecommendationPolicy.trendingScores([a: 2, b: 2, "unknown": 9], model: trained))
        let answer = RecommendationPolicy().recommend(.init(k: 6), with: trained, trending: scores)
        let first = trained.popularityScores[3] >= trained.popularityScores[4] ? [a, b] : [b, a]
        #expect(answer.path == .trending && Array(answer.recommendations.prefix(2).map(\.item)) == first)
        let popular = trained.popular(k: 6).map(\.item).filter { $0 != a && $0 != b }
        #expect(Array(answer.recommendations.dropFirst(2).map(\.item)) == Array(popular.prefix(4)))
        // Without counts (or for someone with a history) nothing changes.
        #expect(RecommendationPolicy().recommend(.init(k: 6), with: trained).path == .popular)
        let history = RecommendationPolicy().recommend(
            .init(history: [a, b, trained.items.id(at: 5)]), with: trained, trending: scores)
        #expect(history.path == .foldIn)
    }

    /// A newcomer known by features: a feature model scores them (`features`); a model without
    /// features, and a feature request with a history, take the other paths.
    @Test func userFeaturesGoToAFeatureModel() throws {
        let dataset = SyntheticData.generate(preset: .tiny, seed: 8).ratings
        let fm = try TrainedModel(
            training: try ConfiguredModel("fm", settings: ["epochs": "2", "threads": "1"]), on: dataset)
        let request = RecommendationPolicy.Request(k: 5, userFeatures: ["genres": "x"])
        let answer = RecommendationPolicy().recommend(request, with: fm)
        #expect(answer.path == .features && answer.recommendations.count == 5)
        let scores = (fm.model as! any FeatureAwareRecommender).scores(forUserFeatures: ["genres": "x"])
        let best = Tensor(shape: [1, scores.count], scalars: scores).topKPerRow(5, excluding: [[]])[0]
        #expect(answer.recommendations.map(\.item) == best.map { fm.items.id(at: $0.index) })
        #expect(RecommendationPolicy().recommend(request, with: Self.trained).path == .popular)
        var withHistory = request
        withHistory.history = ids([1, 2, 3])
        #expect(RecommendationPolicy().recommend(withHistory, with: fm).path == .foldIn)
    }

    @Test func eachRequestTakesItsPath() throws {
        let trained = Self.trained
        let policy = RecommendationPolicy(foldInThreshold: 3)
        let user = trained.users.id(at: 7)
        // A training user with nothing new: the model's own list, seen items excluded.
        let own = policy.recommend(.init(user: user, k: 10), with: trained)
        let direct = try trained.recommend(user: user, k: 10)
        #expect(own.path == .model && own.recommendations == direct)
        // Excluding more: the same list without those items.
        let excluded = policy.recommend(.init(user: user, k: 10, exclude: [own.recommendations[0].item]), with: trained)
        #expect(
            excluded.recommendations.map(\.item) == Array(own.recommendations.dropFirst().map(\.item)) + [
                excluded.recommendations[9].item
            ])
        // A training user with new events: fold-in over the training items and the new ones.
        let seen = Array(trained.seen.columns(inRow: 7))
        let fresh = try #require((0..<Int32(trained.items.count)).first { !seen.contains($0) })
        let live = policy.recommend(.init(user: user, history: ids([fresh]), k: 10), with: trained)
        let expected = Tensor(
            shape: [1, trained.items.count], scalars: trained.model.scores(forHistory: seen + [fresh])
        )
        .topKPerRow(10, excluding: [seen + [fresh]])[0].map { trained.items.id(at: $0.index) }
        #expect(live.path == .foldIn && live.recommendations.map(\.item) == expected)
        // A stranger: nothing → popular; two items → similar items; three → fold-in.
        let nothing = policy.recommend(.init(user: "stranger", history: ["no-such-item"], k: 5), with: trained)
        #expect(nothing.path == .popular && nothing.unknown == ["no-such-item"])
        #expect(nothing.recommendations == trained.popular(k: 5))
        let two = policy.recommend(.init(history: ids([1, 2]), k: 5), with: trained)
        #expect(two.path == .similarItems && !two.recommendations.contains { ids([1, 2]).contains($0.item) })
        // Similar items: the sum of each history item's similarity to the candidate.
        let similarity = try #require(trained.model as? any ItemSimilarity)
        var sums = [Float](repeating: 0, count: trained.items.count)
        for item: Int32 in [1, 2] {
            for neighbour in similarity.similarItems(to: item, k: 100) { sums[Int(neighbour.index)] += neighbour.score }
        }
        let best = sums.indices.filter { $0 != 1 && $0 != 2 }.max {
            sums[$0] < sums[$1] || (sums[$0] == sums[$1] && $0 > $1)
        }!
        #expect(two.recommendations[0].item == trained.items.id(at: Int32(best)))
        let three = policy.recommend(.init(history: ids([1, 2, 3]), k: 5), with: trained)
        #expect(three.path == .foldIn)
        #expect(three.recommendations == trained.recommend(history: ids([1, 2, 3]), k: 5).recommendations)
        // A session reads the clicks in order and may return a clicked item unless told not to.
        let session = policy.recommend(
            .init(history: ids([1, 2]), isSession: true, k: 5, excludeSeen: false), with: trained)
        #expect(session.path == .session)
        // k is bounded by the catalogue.
        #expect(policy.recommend(.init(k: 100_000), with: trained).recommendations.count == trained.items.count)
    }
}
