import Foundation

/// Who gets which answer: the one cold-start policy that `reckit recommend` and `reckit serve` share.
///
/// - a training user with no events since training → the model's own recommendations (`model`);
/// - anyone with a history (a training user's items plus new events, or an anonymous history):
///   at least `foldInThreshold` known items → the model folds the history in (`fold-in`); fewer
///   → the items most similar to them (`similar-items`, when the model has a notion of similar
///   items; else fold-in);
/// - an ordered session → the model reads it as a sequence (`session`);
/// - no history but user features (`age=25`, `occupation=writer`) and a feature-aware model (fm,
///   deepfm, widedeep) → the model scores the user from the features (`features`);
/// - nothing known → the items most interacted with recently when the caller counts them
///   (`trending`: a server's stored events over a window), else the most popular training items
///   (`popular`).
///
/// Items already in the history and any `exclude`d ones are never recommended; every answer says
/// which path produced it.
public struct RecommendationPolicy: Sendable, Equatable {
    /// The path an answer took.
    public enum Path: String, Codable, Sendable, CaseIterable {
        case model
        case foldIn = "fold-in"
        case similarItems = "similar-items"
        case session
        case features
        case trending
        case popular
    }

    /// What a request asks for.
    public struct Request: Sendable, Equatable {
        /// A user ID (a training user, or one known only by `history`).
        public var user: String?
        /// Items the user interacted with beyond what the model was trained on, oldest first.
        public var history: [String]
        /// Whether `history` is an ordered session (next-item models read the order).
        public var isSession: Bool
        public var k: Int
        /// Items never to recommend.
        public var exclude: [String]
        /// Whether items the user has interacted with are left out (sessions often revisit items:
        /// the server's default for them is false).
        public var excludeSeen: Bool
        /// Raw feature values of a user known by features only (`age: 25`; several values `a|b`).
        public var userFeatures: [String: String]

        public init(
            user: String? = nil, history: [String] = [], isSession: Bool = false, k: Int = 10,
            exclude: [String] = [], excludeSeen: Bool = true, userFeatures: [String: String] = [:]
        ) {
            self.userFeatures = userFeatures
            self.user = user
            self.history = history
            self.isSession = isSession
            self.k = k
            self.exclude = exclude
            self.excludeSeen = excludeSeen
        }
    }

    /// The recommendations, the path that produced them, and the history's IDs the model does not know.
    public struct Answer: Sendable, Equatable {
        public var recommendations: [Recommendation]
        public var path: Path
        public var unknown: [String]

        public init(recommendations: [Recommendation], path: Path, unknown: [String]) {
            self.recommendations = recommendations
            self.path = path
            self.unknown = unknown
        }
    }

    /// Fewer known history items than this are answered by item similarity (default 3).
    public var foldInThreshold: Int

    public init(foldInThreshold: Int = 3) { self.foldInThreshold = max(1, foldInThreshold) }

    /// What answering `request` takes: the model's top items for a training user (which a server may
    /// find for many users in one `topItems(forUsers:)` call), or an answer computed here.
    public enum Route: Sendable {
        /// The best `k` of the model's items for `user` without `excluded` (`topItems(forUsers:)`).
        case userScores(user: Int32, excluded: [Int32], k: Int)
        /// Fold-in: the best `k` of `model.scores(forHistory: history)` without `excluded`.
        case historyScores(history: [Int32], excluded: [Int32], k: Int, unknown: [String])
        case answered(Answer)
    }

    /// The answer for `request` from `model`.
    public func recommend(_ request: Request, with model: TrainedModel, trending: [Float]? = nil) -> Answer {
        switch route(request, with: model, trending: trending) {
        case .answered(let answer): return answer
        case .userScores(let user, let excluded, let k):
            let list = model.model.topItems(forUsers: [user], k: k, excluding: [excluded])[0]
            return Answer(recommendations: model.recommendations(list), path: .model, unknown: [])
        case .historyScores(let history, let excluded, let k, let unknown):
            let scores = model.model.scores(forHistory: history)
            let list = Tensor(shape: [1, scores.count], scalars: scores).topKPerRow(k, excluding: [excluded])[0]
            return Answer(recommendations: model.recommendations(list), path: .foldIn, unknown: unknown)
        }
    }

    /// Which path answers `request`, computed unless it is a training user's own list. `trending`,
    /// one score per model item (see `trendingScores`), answers those with nothing known.
    public func route(_ request: Request, with model: TrainedModel, trending: [Float]? = nil) -> Route {
        let knownUser = request.user.flatMap { model.users.index(of: $0) }
        let k = min(max(0, request.k), model.items.count)
        if let knownUser, request.history.isEmpty, request.exclude.isEmpty {
            // The common request, a training user's own list: their training items are the exclusions.
            let excluded = request.excludeSeen ? Array(model.seen.columns(inRow: Int(knownUser))) : []
            return .userScores(user: knownUser, excluded: excluded, k: k)
        }
        let known = request.history.compactMap { model.items.index(of: $0) }
        let unknown = request.history.filter { model.items.index(of: $0) == nil }
        var excluded = Set(request.exclude.compactMap { model.items.index(of: $0) })
        var history = known
        if let knownUser {
            let trained = model.seen.columns(inRow: Int(knownUser))
            if request.excludeSeen { excluded.formUnion(trained) }
            history = Array(trained) + known.filter { !trained.contains($0) }
        }
        if request.excludeSeen { excluded.formUnion(known) }
        if let knownUser, known.isEmpty { return .userScores(user: knownUser, excluded: Array(excluded), k: k) }
        func answer(_ scores: [Float], _ path: Path) -> Route {
            let list = Tensor(shape: [1, scores.count], scalars: scores).topKPerRow(k, excluding: [Array(excluded)])[0]
            return .answered(Answer(recommendations: model.recommendations(list), path: path, unknown: unknown))
        }
        if history.isEmpty {
            if !request.userFeatures.isEmpty, let featureModel = model.model as? any FeatureAwareRecommender {
                return answer(featureModel.scores(forUserFeatures: request.userFeatures), .features)
            }
            if let trending, trending.count == model.items.count { return answer(trending, .trending) }
            return answer(model.popularityScores, .popular)
        }
        if request.isSession { return answer(model.model.scores(forHistory: history), .session) }
        if history.count < foldInThreshold, let similarity = model.model as? any ItemSimilarity {
            return answer(Self.similarityScores(of: history, similarity, itemCount: model.items.count), .similarItems)
        }
        return .historyScores(history: history, excluded: Array(excluded), k: k, unknown: unknown)
    }

    /// Scores for the `trending` path: each item's recent interaction count (`counts`, by item ID;
    /// IDs the model does not know are skipped), ties broken by training popularity; nil when none
    /// of the counted items is known.
    public static func trendingScores(_ counts: [String: Int], model: TrainedModel) -> [Float]? {
        let popularity = model.popularityScores
        let tieBreak = 1 / ((popularity.max() ?? 0) + 1)
        var scores = popularity.map { $0 * tieBreak }
        var any = false
        for (item, count) in counts where count > 0 {
            guard let index = model.items.index(of: item) else { continue }
            scores[Int(index)] += Float(count)
            any = true
        }
        return any ? scores : nil
    }

    /// Σ over the history of each item's similarity to it (its 100 nearest neighbours each); items
    /// near none of them score 0.
    static func similarityScores(of history: [Int32], _ similarity: any ItemSimilarity, itemCount: Int) -> [Float] {
        var scores = [Float](repeating: 0, count: itemCount)
        for item in history {
            for neighbour in similarity.similarItems(to: item, k: min(100, itemCount)) {
                scores[Int(neighbour.index)] += neighbour.score
            }
        }
        return scores
    }
}
