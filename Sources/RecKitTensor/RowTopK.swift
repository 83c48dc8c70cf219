/// The best `k` (index, score) pairs of many rows at once, for candidates that arrive scattered
/// over rows (e.g. each similarity of a symmetric pair offered to both its rows). One bounded
/// min-heap per row in flat storage, with each row's admission threshold kept apart so that most
/// offers cost one comparison.
///
/// Order as everywhere in RecKit: higher score first, equal scores by lower index; NaN is never kept.
/// The kept set is the same whatever order the offers come in, so independently filled
/// accumulators can be merged into the same result.
public struct RowTopK: Sendable {
    public let rowCount: Int
    public let k: Int
    var entries: [ScoredIndex]
    var counts: [Int32]
    /// −∞ until a row is full, then its worst kept score.
    @usableFromInline var thresholds: [Float]

    public init(rowCount: Int, k: Int) {
        precondition(rowCount >= 0 && k >= 0, "RowTopK needs non-negative sizes")
        self.rowCount = rowCount
        self.k = k
        entries = [ScoredIndex](repeating: ScoredIndex(index: 0, score: 0), count: rowCount * k)
        counts = [Int32](repeating: 0, count: rowCount)
        thresholds = [Float](repeating: -.infinity, count: rowCount)
    }

    /// Offers `index` with `score` to `row`.
    @inlinable
    public mutating func offer(row: Int, index: Int32, score: Float) {
        if score < thresholds[row] || k == 0 || score.isNaN { return }
        insert(row: row, ScoredIndex(index: index, score: score))
    }

    @usableFromInline
    mutating func insert(row: Int, _ candidate: ScoredIndex) {
        let k = self.k
        let count = Int(counts[row])
        entries.withUnsafeMutableBufferPointer { buffer in
            let heap = UnsafeMutableBufferPointer(rebasing: buffer[(row * k)..<(row * k + k)])
            if count < k {
                heap[count] = candidate
                var child = count
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard TopK.better(heap[parent], heap[child]) else { break }
                    heap.swapAt(parent, child)
                    child = parent
                }
                counts[row] = Int32(count + 1)
            } else {
                guard TopK.better(candidate, heap[0]) else { return }
                heap[0] = candidate
                var parent = 0
                while true {
                    let left = 2 * parent + 1
                    let right = left + 1
                    var worst = parent
                    if left < k && TopK.better(heap[worst], heap[left]) { worst = left }
                    if right < k && TopK.better(heap[worst], heap[right]) { worst = right }
                    if worst == parent { break }
                    heap.swapAt(parent, worst)
                    parent = worst
                }
            }
            if Int(counts[row]) == k { thresholds[row] = heap[0].score }
        }
    }

    /// Adds every pair kept by `other` (same shape).
    public mutating func merge(_ other: RowTopK) {
        precondition(other.rowCount == rowCount && other.k == k, "RowTopK.merge: shapes differ")
        for row in 0..<rowCount {
            for slot in 0..<Int(other.counts[row]) {
                offer(row: row, index: other.entries[row * k + slot].index, score: other.entries[row * k + slot].score)
            }
        }
    }

    /// The kept pairs of `row`, best first.
    public func best(row: Int) -> [ScoredIndex] {
        Array(entries[(row * k)..<(row * k + Int(counts[row]))]).sorted(by: TopK.better)
    }
}
