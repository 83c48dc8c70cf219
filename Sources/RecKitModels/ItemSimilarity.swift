import RecKitTensor

/// Models that can say which items are alike (for "more like this" and the `similar` command).
public protocol ItemSimilarity: Sendable {
    /// The `k` items most similar to `item`, best first, `item` itself excluded.
    func similarItems(to item: Int32, k: Int) -> [ScoredIndex]
}

extension FactorModel: ItemSimilarity {
    /// Cosine similarity of item factor vectors.
    public func similarItems(to item: Int32, k: Int) -> [ScoredIndex] {
        guard item >= 0 && Int(item) < itemCount else { return [] }
        let f = factorCount
        let norms = (0..<itemCount).map { index in
            (0..<f).reduce(Float(0)) { $0 + itemFactors.scalars[index * f + $1] * itemFactors.scalars[index * f + $1] }
                .squareRoot()
        }
        let dots = itemFactors.gathering(rows: [item]).matmul(itemFactors, transposingOther: true).scalars
        let cosine = (0..<itemCount).map { index in
            norms[index] * norms[Int(item)] > 0 ? dots[index] / (norms[index] * norms[Int(item)]) : 0
        }
        return Tensor(shape: [1, itemCount], scalars: cosine).topKPerRow(min(k, itemCount), excluding: [[item]])[0]
    }
}
