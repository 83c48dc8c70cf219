import RecKitData
import RecKitTensor

/// Why iALS recommends an item (Hu, Koren and Volinsky 2008, section 5): with
/// W = (YᵀC_uY + λI)⁻¹, the exact user vector is x_u = W·Σ_j c_uj y_j, so the score of item i splits
/// into one term per history item, c_uj · y_iᵀ W y_j.
public struct Explanation: Sendable, Equatable {
    /// The score from the exact solve (the sum of all contributions).
    public var score: Float
    /// History items by decreasing contribution.
    public var contributions: [ScoredIndex]
}

extension ImplicitALS {
    /// The `k` history items that contribute most to `item`'s score for someone with `history`
    /// (item indices with their values, e.g. a user's training row).
    public func explain(item: Int32, history: [(item: Int32, value: Float)], k: Int = 10) -> Explanation {
        let f = config.factorCount
        let y = factors.itemFactors.scalars
        let known = history.filter { $0.item >= 0 && Int($0.item) < itemCount }
        guard item >= 0, Int(item) < itemCount, !known.isEmpty else { return Explanation(score: 0, contributions: []) }
        let extra = ImplicitALS.confidences(known.map(\.value), config)
        // A = YᵀY + λI + Σ c'_j y_j y_jᵀ.
        var a = factors.itemFactors.gram().scalars
        let lambda = ImplicitALS.rowRegularization(count: known.count, columns: itemCount, config)
        for d in 0..<f { a[d * f + d] += lambda }
        for (index, entry) in known.enumerated() {
            let row = Int(entry.item) * f
            for r in 0..<f { for c in 0..<f { a[r * f + c] += extra[index] * y[row + r] * y[row + c] } }
        }
        guard let inverse = Tensor(shape: [f, f], scalars: a).invertedSymmetricPositiveDefinite() else {
            return Explanation(score: 0, contributions: [])
        }
        // z = W y_i, then contribution_j = (1 + c'_j) · y_j · z.
        let target = Tensor(shape: [1, f], scalars: Array(y[(Int(item) * f)..<((Int(item) + 1) * f)]))
        let z = target.matmul(inverse).scalars // W is symmetric: y_iᵀW = (W y_i)ᵀ
        var contributions: [ScoredIndex] = []
        var total: Float = 0
        for (index, entry) in known.enumerated() {
            let row = Int(entry.item) * f
            var dot: Float = 0
            for d in 0..<f { dot += y[row + d] * z[d] }
            let value = (1 + extra[index]) * dot
            total += value
            contributions.append(ScoredIndex(index: entry.item, score: value))
        }
        return Explanation(score: total, contributions: contributions.topK(k))
    }
}
