/// A model of explicit ratings: predicts the rating a user would give an item.
public protocol RatingPredictor: Sendable {
    var name: String { get }
    /// The predicted rating, clipped to the training ratings' range.
    func predict(user: Int32, item: Int32) -> Float
    /// The predicted rating at `time` (seconds, as the training timestamps) for models with time
    /// effects; others ignore the time.
    func predict(user: Int32, item: Int32, time: Int64?) -> Float
    /// Predictions for pairs: `users[i]` with `items[i]`, at `times[i]` when given (a model that
    /// predicts a batch faster than pair by pair implements it).
    func predict(users: [Int32], items: [Int32], times: [Int64]?) -> [Float]
    /// Whether predictions are probabilities of a positive label (a classifier) rather than ratings.
    var predictsProbabilities: Bool { get }
}

extension RatingPredictor {
    public func predict(user: Int32, item: Int32, time: Int64?) -> Float { predict(user: user, item: item) }

    public var predictsProbabilities: Bool { false }

    public func predict(users: [Int32], items: [Int32]) -> [Float] { predict(users: users, items: items, times: nil) }

    public func predict(users: [Int32], items: [Int32], times: [Int64]?) -> [Float] {
        precondition(
            users.count == items.count && (times?.count ?? users.count) == users.count,
            "predict: one item (and time) per user")
        return users.indices.map { predict(user: users[$0], item: items[$0], time: times?[$0]) }
    }
}
