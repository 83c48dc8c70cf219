import Foundation
import RecKit

/// The `trending` path's scores: each item's stored events over the last `window` seconds (see
/// `RecommendationPolicy.trendingScores`), recounted from the store at most every `refresh` seconds
/// and again when another model version is served. One request recounts at a time; meanwhile the
/// others use the previous counts (none yet: the popular items).
final class TrendingCache: @unchecked Sendable { // `cached` and `refreshing` are guarded by `lock`
    let window: Int64
    let refresh: TimeInterval
    private let lock = NSLock()
    private var cached: (generation: Int, at: Date, scores: [Float]?)?
    private var refreshing = false

    init(window: Int64, refresh: TimeInterval) {
        self.window = window
        self.refresh = refresh
    }

    func scores(for served: ServedModel, store: any EventStore) async -> [Float]? {
        let now = Date()
        let (current, stale) = lock.withLock { () -> ([Float]?, Bool) in
            guard let cached, cached.generation == served.generation else { return (nil, true) }
            return (cached.scores, now.timeIntervalSince(cached.at) >= refresh)
        }
        guard stale else { return current }
        let mine = lock.withLock {
            if refreshing { return false }
            refreshing = true
            return true
        }
        guard mine else { return current }
        defer { lock.withLock { refreshing = false } }
        guard let counts = try? await store.itemCounts(since: Int64(now.timeIntervalSince1970) - window) else {
            return current // the store does not answer: keep the last counts
        }
        let scores = RecommendationPolicy.trendingScores(counts, model: served.trained)
        lock.withLock { cached = (served.generation, now, scores) }
        return scores
    }
}
