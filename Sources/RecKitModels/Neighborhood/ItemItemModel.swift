import RecKitData
import RecKitTensor

/// A model that scores through a sparse item × item weight table: a user's score for item j is
/// Σ_{i ∈ history} r_ui · W[i, j], with W's row i holding item i's kept neighbours. ItemKNN, RP3beta
/// and SLIM differ only in how they learn W; scoring, fold-in and `similar` are shared here.
public protocol ItemItemModel: Recommender, ItemSimilarity {
    /// Row i: the items j with W[i, j].
    var neighbours: InteractionMatrix { get }
    /// Each user's training row (the values are the r_ui above).
    var history: InteractionMatrix { get }
}

extension ItemItemModel {
    /// W and the training rows (`ModelWeights.neighbourhood` reads them back).
    public func save(into weights: inout ModelWeights) { weights.store(neighbours: neighbours, history: history) }

    public func scores(forUsers users: [Int32]) -> Tensor {
        var scalars = [Float](repeating: 0, count: users.count * itemCount)
        for (row, user) in users.enumerated() where Int(user) < history.rowCount {
            let base = row * itemCount
            for (item, value) in zip(history.columns(inRow: Int(user)), history.values(inRow: Int(user))) {
                for (neighbour, weight) in zip(
                    neighbours.columns(inRow: Int(item)), neighbours.values(inRow: Int(item)))
                {
                    scalars[base + Int(neighbour)] += value * weight
                }
            }
        }
        return Tensor(shape: [users.count, itemCount], scalars: scalars)
    }

    /// A history's items count once each (r = 1).
    public func scores(forHistory items: [Int32]) -> [Float] {
        var scores = [Float](repeating: 0, count: itemCount)
        for item in items where item >= 0 && Int(item) < itemCount {
            for (neighbour, weight) in zip(neighbours.columns(inRow: Int(item)), neighbours.values(inRow: Int(item))) {
                scores[Int(neighbour)] += weight
            }
        }
        return scores
    }

    /// The `k` largest W[item, j], the item itself excluded.
    public func similarItems(to item: Int32, k: Int) -> [ScoredIndex] {
        guard item >= 0 && Int(item) < itemCount else { return [] }
        return zip(neighbours.columns(inRow: Int(item)), neighbours.values(inRow: Int(item)))
            .filter { $0.0 != item }.map { ScoredIndex(index: $0.0, score: $0.1) }.topK(k)
    }
}
