import RecKitData
import RecKitTensor

/// A trained top-N recommender: scores for every item, for a batch of known users.
///
/// Top-k selection, seen-item exclusion and tie-breaking (lower item index first) are written once,
/// in the extension below, so every model ranks the same way. A trained model is an immutable value.
public protocol Recommender: Sendable {
    /// The name used on the command line and in reports (`popularity`, `ials`, …).
    var name: String { get }
    /// Users known at training time (dense indices `0..<userCount`).
    var userCount: Int { get }
    /// Items that can be recommended (dense indices `0..<itemCount`).
    var itemCount: Int { get }
    /// Scores of every item for each user: `[users.count, itemCount]`; higher is better.
    func scores(forUsers users: [Int32]) -> Tensor
    /// Scores of every item for a user known only by a history of items (fold-in): `[itemCount]`.
    func scores(forHistory history: [Int32]) -> [Float]
    /// Scores for several histories at once, `[histories.count, itemCount]` (a model that scores a
    /// batch faster than one by one overrides it; the rows equal `scores(forHistory:)`).
    func scores(forHistories histories: [[Int32]]) -> Tensor
    /// The best `k` items of each of `users`, skipping `excluding[i]` for the i-th (or nothing when
    /// empty): the lists `scores(forUsers:)` and `topKPerRow` give, which is the default. A model
    /// that selects faster than it writes every score overrides it (factor models: `PackedRows`).
    func topItems(forUsers users: [Int32], k: Int, excluding: [[Int32]]) -> [[ScoredIndex]]
}

/// A sequence model that also reads each click's context (its time: hour, weekday, gap), as Latent
/// Cross does. Without contexts it scores through `scores(forHistories:)`.
public protocol ContextualSequenceModel: Recommender {
    /// `contexts[i]` holds one context per click of `histories[i]`.
    func scores(forHistories histories: [[Int32]], contexts: [[ClickContext]]) -> Tensor
}

extension Recommender {
    /// Scores of next-item cases: with their click contexts when the model reads them and every
    /// case has them, else from the items alone.
    public func scores(forCases cases: [NextItemCase]) -> Tensor {
        if let contextual = self as? any ContextualSequenceModel, let contexts = NextItemCase.contexts(of: cases) {
            return contextual.scores(forHistories: cases.map(\.prefix), contexts: contexts)
        }
        return scores(forHistories: cases.map(\.prefix))
    }
}

extension Recommender {
    /// The best `k` items for `user`, skipping the items `seen` holds in the user's row.
    public func recommend(user: Int32, k: Int, excludingSeen seen: InteractionMatrix? = nil) -> [ScoredIndex] {
        let excluded = seen.map { Array($0.columns(inRow: Int(user))) } ?? []
        return topItems(forUsers: [user], k: k, excluding: [excluded])[0]
    }

    public func topItems(forUsers users: [Int32], k: Int, excluding: [[Int32]]) -> [[ScoredIndex]] {
        exactTopItems(forUsers: users, k: k, excluding: excluding)
    }

    /// `topItems` from every item's score (`scores(forUsers:)` and `topKPerRow`): the default, and
    /// what a model with an approximate path (`index=ivf`) answers exactly with.
    public func exactTopItems(forUsers users: [Int32], k: Int, excluding: [[Int32]]) -> [[ScoredIndex]] {
        scores(forUsers: users).topKPerRow(min(max(0, k), itemCount), excluding: excluding)
    }

    /// The best `k` items for each of `users`, skipping each user's items in `seen`: one scoring pass
    /// in batches of `batchSize` users and a parallel top-k per batch.
    public func recommend(users: [Int32], k: Int, excludingSeen seen: InteractionMatrix? = nil, batchSize: Int = 256)
        -> [[ScoredIndex]]
    {
        var lists: [[ScoredIndex]] = []
        lists.reserveCapacity(users.count)
        var start = 0
        while start < users.count {
            let batch = Array(users[start..<min(users.count, start + batchSize)])
            lists += ranking(users: batch, k: k, excludingSeen: seen).lists
            start += batchSize
        }
        return lists
    }

    /// All scores of `users` and their best `k` items, the items in `seen` skipped (ties to the
    /// lower item index): what `recommend(users:)` and the evaluators share.
    public func ranking(users: [Int32], k: Int, excludingSeen seen: InteractionMatrix?) -> (
        scores: Tensor, lists: [[ScoredIndex]]
    ) {
        let scores = scores(forUsers: users)
        let excluded = users.map { user in seen.map { Array($0.columns(inRow: Int(user))) } ?? [] }
        return (scores, scores.topKPerRow(min(k, itemCount), excluding: excluded))
    }

    public func scores(forHistories histories: [[Int32]]) -> Tensor {
        var scalars: [Float] = []
        scalars.reserveCapacity(histories.count * itemCount)
        for history in histories { scalars += scores(forHistory: history) }
        return Tensor(shape: [histories.count, itemCount], scalars: scalars)
    }

    /// The scores of each history and its best `k` items, the history's own items skipped (ties to
    /// the lower item index): how users who were not in training are ranked (fold-in).
    public func ranking(histories: [[Int32]], k: Int) -> (scores: Tensor, lists: [[ScoredIndex]]) {
        let scores = scores(forHistories: histories)
        return (scores, scores.topKPerRow(min(k, itemCount), excluding: histories))
    }

    /// The best `k` items for someone who interacted with `history`, excluding those items.
    public func recommend(history: [Int32], k: Int) -> [ScoredIndex] {
        let scores = scores(forHistory: history)
        return Tensor(shape: [1, itemCount], scalars: scores).topKPerRow(min(k, itemCount), excluding: [history])[0]
    }
}

/// A bad model configuration, found when the model is made (before any training).
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var model: String
    public var key: String
    public var message: String

    public init(model: String, key: String, _ message: String) {
        self.model = model
        self.key = key
        self.message = message
    }

    public var description: String { "\(model): \(key): \(message)" }
}
