/// Partial selection of the best `k` scores with a bounded min-heap.
///
/// Order: higher score first; equal scores by lower index first (deterministic ties, as other
/// libraries break them). NaN scores are never selected.
enum TopK {
    /// `a` ranks before `b`.
    @inline(__always)
    static func better(_ a: ScoredIndex, _ b: ScoredIndex) -> Bool {
        a.score > b.score || (a.score == b.score && a.index < b.index)
    }

    /// The best `k` of `scores`, skipping indices in `excluding` (any order, may repeat).
    /// - Complexity: O(n log k) time, O(k + |excluding|) extra space.
    static func select(_ scores: UnsafeBufferPointer<Float>, k: Int, excluding: [Int32] = []) -> [ScoredIndex] {
        guard k > 0, scores.count > 0 else { return [] }
        var excluded = excluding.sorted()
        excluded.append(Int32.max)                    // sentinel
        var next = 0
        var heap: [ScoredIndex] = []                   // min-heap by `better`: root is the worst kept
        heap.reserveCapacity(k)
        for index in 0..<scores.count {
            while Int(excluded[next]) < index { next += 1 }
            if Int(excluded[next]) == index { continue }
            let score = scores[index]
            if score.isNaN { continue }
            let candidate = ScoredIndex(index: Int32(index), score: score)
            if heap.count < k {
                heap.append(candidate)
                siftUp(&heap, heap.count - 1)
            } else if better(candidate, heap[0]) {
                heap[0] = candidate
                siftDown(&heap, 0)
            }
        }
        return heap.sorted(by: better)
    }

    /// The best `k` of a dictionary-like sparse set of (index, score) pairs.
    static func select(_ candidates: [ScoredIndex], k: Int) -> [ScoredIndex] {
        guard k > 0 else { return [] }
        var heap: [ScoredIndex] = []
        heap.reserveCapacity(min(k, candidates.count))
        for candidate in candidates where !candidate.score.isNaN {
            if heap.count < k {
                heap.append(candidate)
                siftUp(&heap, heap.count - 1)
            } else if better(candidate, heap[0]) {
                heap[0] = candidate
                siftDown(&heap, 0)
            }
        }
        return heap.sorted(by: better)
    }

    // A min-heap under `better`: the parent is worse than (or equal to) its children.
    @inline(__always)
    static func siftUp(_ heap: inout [ScoredIndex], _ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            if better(heap[parent], heap[child]) {
                heap.swapAt(parent, child)
                child = parent
            } else {
                return
            }
        }
    }

    @inline(__always)
    static func siftDown(_ heap: inout [ScoredIndex], _ start: Int) {
        var parent = start
        let count = heap.count
        while true {
            let left = 2 * parent + 1, right = left + 1
            var worst = parent
            if left < count && better(heap[worst], heap[left]) { worst = left }
            if right < count && better(heap[worst], heap[right]) { worst = right }
            if worst == parent { return }
            heap.swapAt(parent, worst)
            parent = worst
        }
    }
}
