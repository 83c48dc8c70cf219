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
        guard k > 0, let base = scores.baseAddress, scores.count > 0 else { return [] }
        var stream = TopKStream(k: k, excluding: excluding)
        stream.offer(base, count: scores.count, from: 0)
        return stream.best()
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

/// `TopK.select` over scores that arrive in pieces, in increasing index order: a kernel offers each
/// block of scores while it is still in cache, and the kept set, order and ties are `select`'s.
struct TopKStream {
    let k: Int
    /// Min-heap by `better`: the root is the worst kept.
    var heap: [ScoredIndex] = []
    /// The exclusions sorted, with a sentinel; `next` is the first not below the next index offered.
    var excluded: [Int32]
    var next = 0

    /// - Precondition: k > 0.
    init(k: Int, excluding: [Int32]) {
        self.k = k
        heap.reserveCapacity(k)
        excluded = excluding.sorted()
        excluded.append(Int32.max) // sentinel
    }

    /// Offers `scores[0..<count]` as the scores of indices `first..<first + count`; `first` must be
    /// past every index offered before.
    @inline(__always)
    mutating func offer(_ scores: UnsafePointer<Float>, count: Int, from first: Int) {
        var position = 0
        // Fill the heap with the first k admissible items, then most items fail one comparison with
        // the worst kept score (a later item with an equal score never beats it: higher index).
        while position < count && heap.count < k {
            let index = first + position
            while Int(excluded[next]) < index { next += 1 }
            let score = scores[position]
            if Int(excluded[next]) != index && !score.isNaN {
                heap.append(ScoredIndex(index: Int32(index), score: score))
                TopK.siftUp(&heap, heap.count - 1)
            }
            position += 1
        }
        guard heap.count == k else { return }
        var threshold = heap[0].score
        while position < count {
            // Sixteen at a time: most blocks hold nothing above the worst kept score (NaN compares
            // false, so it is never selected). Two vector compares and one test.
            if position + 16 <= count {
                let t = SIMD8<Float>(repeating: threshold)
                let raw = UnsafeRawPointer(scores + position)
                let low = raw.loadUnaligned(as: SIMD8<Float>.self)
                let high = raw.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                if !any((low .> t) .| (high .> t)) {
                    position += 16
                    continue
                }
            }
            let score = scores[position]
            if score > threshold { // false for NaN
                let index = first + position
                while Int(excluded[next]) < index { next += 1 }
                if Int(excluded[next]) != index {
                    heap[0] = ScoredIndex(index: Int32(index), score: score)
                    TopK.siftDown(&heap, 0)
                    threshold = heap[0].score
                }
            }
            position += 1
        }
    }

    /// The kept pairs, best first.
    func best() -> [ScoredIndex] { heap.sorted(by: TopK.better) }
}
