import RecKitTensor

/// A recommender that scores by dot products of user and item factors: `score(u, i) = p_u · q_i`.
///
/// The scoring half of every matrix-factorisation model: batched scores are one GEMM,
/// `[users, factors] · [items, factors]ᵀ`.
public struct FactorModel: Recommender {
    public let name: String
    /// `[userCount, factorCount]`.
    public let userFactors: Tensor
    /// `[itemCount, factorCount]`.
    public let itemFactors: Tensor
    /// The item table packed for `topItems`, on first use.
    private let packedItems: LazyPackedRows

    /// - Precondition: both are 2-D with the same number of columns.
    public init(name: String = "factors", userFactors: Tensor, itemFactors: Tensor) {
        precondition(
            userFactors.shape.count == 2 && itemFactors.shape.count == 2
                && userFactors.shape[1] == itemFactors.shape[1],
            "factor shapes \(userFactors.shape) and \(itemFactors.shape) do not match")
        self.name = name
        self.userFactors = userFactors
        self.itemFactors = itemFactors
        packedItems = LazyPackedRows(itemFactors)
    }

    /// Row-major tables of `width` columns: `users` holds every user's row, `items` every item's.
    public init(name: String = "factors", users: [Float], items: [Float], width: Int) {
        self.init(
            name: name, userFactors: Tensor(shape: [users.count / width, width], scalars: users),
            itemFactors: Tensor(shape: [items.count / width, width], scalars: items))
    }

    public var userCount: Int { userFactors.shape[0] }
    public var itemCount: Int { itemFactors.shape[0] }
    public var factorCount: Int { itemFactors.shape[1] }

    public func scores(forUsers users: [Int32]) -> Tensor {
        userFactors.gathering(rows: users).matmul(itemFactors, transposingOther: true)
    }

    /// The best `k` items of each user without `excluding[i]`, scored from the packed item table a
    /// block at a time (see `PackedRows`): a few users at a time, as a server asks, without the
    /// per-call packing of a GEMM.
    public func topItems(forUsers users: [Int32], k: Int, excluding: [[Int32]]) -> [[ScoredIndex]] {
        packedItems.rows.topK(queries: userFactors.gathering(rows: users), k: k, excluding: excluding)
    }

    /// The mean of the history's item factors as the user vector (a simple fold-in).
    public func scores(forHistory history: [Int32]) -> [Float] {
        guard !history.isEmpty else { return [Float](repeating: 0, count: itemCount) }
        let rows = itemFactors.gathering(rows: history)
        var mean = [Float](repeating: 0, count: factorCount)
        for row in 0..<history.count { for f in 0..<factorCount { mean[f] += rows.scalars[row * factorCount + f] } }
        return Tensor(shape: [1, factorCount], scalars: mean.map { $0 / Float(history.count) })
            .matmul(itemFactors, transposingOther: true).scalars
    }
}
