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
        excluded.append(Int32.max) // sentinel
        var next = 0
        var heap: [ScoredIndex] = [] // min-heap by `better`: root is the worst kept
        heap.reserveCapacity(k)
        // Fill the heap with the first k admissible items, then most items fail one comparison with
        // the worst kept score (a later item with an equal score never beats it: higher index).
        var index = 0
        let count = scores.count
        while index < count && heap.count < k {
            while Int(excluded[next]) < index { next += 1 }
            let score = scores[index]
            if Int(excluded[next]) != index && !score.isNaN {
                heap.append(ScoredIndex(index: Int32(index), score: score))
                siftUp(&heap, heap.count - 1)
            }
            index += 1
        }
        guard !heap.isEmpty else { return [] }
        var threshold = heap[0].score
        while index < count {
            // Eight at a time: most blocks hold nothing above the worst kept score. Plain comparisons
            // OR-ed as integers (NaN compares false, so it is never selected), which LLVM vectorises;
            // Swift's SIMD masks are scalarised here.
            if index + 8 <= count {
                let t = threshold
                let hit =
                    (scores[index] > t ? 1 : 0) | (scores[index + 1] > t ? 1 : 0) | (scores[index + 2] > t ? 1 : 0)
                    | (scores[index + 3] > t ? 1 : 0) | (scores[index + 4] > t ? 1 : 0)
                    | (scores[index + 5] > t ? 1 : 0)
                    | (scores[index + 6] > t ? 1 : 0) | (scores[index + 7] > t ? 1 : 0)
                if hit == 0 {
                    index += 8
                    continue
                }
            }
            let score = scores[index]
            if score > threshold { // false for NaN
                while Int(excluded[next]) < index { next += 1 }
                if Int(excluded[next]) != index {
                    heap[0] = ScoredIndex(index: Int32(index), score: score)
                    siftDown(&heap, 0)
                    threshold = heap[0].score
                }
            }
            index += 1
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
            let left = 2 * parent + 1
            let right = left + 1
            var worst = parent
            if left < count && better(heap[worst], heap[left]) { worst = left }
            if right < count && better(heap[worst], heap[right]) { worst = right }
            if worst == parent { return }
            heap.swapAt(parent, worst)
            parent = worst
        }
    }
}
