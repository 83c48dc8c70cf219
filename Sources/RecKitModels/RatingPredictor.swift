/// A model of explicit ratings: predicts the rating a user would give an item.
public protocol RatingPredictor: Sendable {
    var name: String { get }
    /// The predicted rating, clipped to the training ratings' range.
    func predict(user: Int32, item: Int32) -> Float
}

extension RatingPredictor {
    /// Predictions for pairs: `users[i]` with `items[i]`.
    public func predict(users: [Int32], items: [Int32]) -> [Float] {
        precondition(users.count == items.count, "predict: one item per user")
        return zip(users, items).map { predict(user: $0, item: $1) }
    }
}
