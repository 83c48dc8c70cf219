import Foundation
import RecKitTensor

/// Approximate maximum-inner-product search by an inverted file of flat lists (IVF-flat, the
/// structure of FAISS's IndexIVFFlat): k-means cuts the vectors into `lists` cells; a query scores
/// the cells' centroids and then, exactly, every vector of the `probes` cells whose centroids score
/// highest. The vectors are stored cell by cell, so a probe reads one contiguous block.
///
/// On factor vectors (iALS item vectors of the ml-20m-like preset copied with noise to 1M, user
/// vectors as queries) this finds the true top 10 far more often than an inner-product graph at the
/// same speed: the cells follow the vectors' clusters, and the best items of a query lie in the few
/// cells whose centroids point its way. k-means is Lloyd's on the squared Euclidean distance over a
/// seeded sample (`sample` vectors), `iterations` rounds, seeded first centroids, an emptied cell
/// re-seeded from a sampled vector; then every vector joins its nearest centroid. The same vectors,
/// settings and seed give the same index. Searching only reads.
public struct IVFIndex: Sendable {
    public let count: Int
    public let dimension: Int
    public let listCount: Int
    /// `[lists, width]` centroids, zero-padded like the vectors.
    let centroids: [Float]
    /// The vectors cell by cell, `width` floats each (zero-padded to a multiple of 16 for the dot
    /// kernel), and each one's index in the indexed matrix.
    let vectors: [Float]
    let ids: [Int32]
    /// Cell c holds rows `offsets[c]..<offsets[c + 1]` of `vectors`.
    let offsets: [Int]
    let width: Int

    /// Indexes the rows of `vectors` (`[count, dimension]`) in `lists` cells (at most one per vector).
    public init(
        vectors matrix: Tensor, lists: Int = 1024, iterations: Int = 10, sample: Int = 200_000, seed: UInt64 = 0
    ) {
        precondition(matrix.rank == 2 && lists >= 1 && iterations >= 0, "IVFIndex: bad shape or settings")
        let (count, dimension) = (matrix.shape[0], matrix.shape[1])
        let listCount = max(1, min(lists, count))
        let width = (dimension + 15) / 16 * 16
        self.count = count
        self.dimension = dimension
        self.listCount = listCount
        self.width = width
        var generator = Xoshiro256(seed: seed)
        // The sample: a seeded partial shuffle of the rows.
        var rows = Array(0..<count)
        let sampleCount = min(count, max(sample, listCount))
        for position in 0..<sampleCount {
            rows.swapAt(position, position + generator.nextIndex(below: count - position))
        }
        let sampled = matrix.gathering(rows: rows.prefix(sampleCount).map { Int32($0) })
        var centroids =
            count == 0 ? Tensor.zeros([listCount, dimension]) : sampled.gathering(rows: Array(0..<Int32(listCount)))
        for _ in 0..<iterations where count > 0 {
            let assignment = Self.nearest(sampled, centroids)
            var sums = [Float](repeating: 0, count: listCount * dimension)
            var sizes = [Int](repeating: 0, count: listCount)
            for (row, cell) in assignment.enumerated() {
                sizes[cell] += 1
                for j in 0..<dimension { sums[cell * dimension + j] += sampled.scalars[row * dimension + j] }
            }
            for cell in 0..<listCount {
                if sizes[cell] == 0 {
                    let row = generator.nextIndex(below: sampleCount)
                    for j in 0..<dimension { sums[cell * dimension + j] = sampled.scalars[row * dimension + j] }
                } else {
                    for j in 0..<dimension { sums[cell * dimension + j] /= Float(sizes[cell]) }
                }
            }
            centroids = Tensor(shape: [listCount, dimension], scalars: sums)
        }
        let assignment = count == 0 ? [] : Self.nearest(matrix, centroids)
        var offsets = [Int](repeating: 0, count: listCount + 1)
        for cell in assignment { offsets[cell + 1] += 1 }
        for cell in 0..<listCount { offsets[cell + 1] += offsets[cell] }
        var next = Array(offsets.dropLast())
        var ids = [Int32](repeating: 0, count: count)
        var grouped = [Float](repeating: 0, count: count * width)
        for (row, cell) in assignment.enumerated() {
            let slot = next[cell]
            next[cell] += 1
            ids[slot] = Int32(row)
            for j in 0..<dimension { grouped[slot * width + j] = matrix.scalars[row * dimension + j] }
        }
        var padded = [Float](repeating: 0, count: listCount * width)
        for cell in 0..<listCount {
            for j in 0..<dimension { padded[cell * width + j] = centroids.scalars[cell * dimension + j] }
        }
        self.centroids = padded
        self.vectors = grouped
        self.ids = ids
        self.offsets = offsets
    }

    /// How many vectors each cell holds.
    public var listSizes: [Int] { (0..<listCount).map { offsets[$0 + 1] - offsets[$0] } }

    /// The `k` vectors of largest inner product with `query` (`dimension` floats), best first (ties to
    /// the lower index), among the vectors of the `probes` cells whose centroids have the largest
    /// inner product with it (all cells: exact search); `excluded` vectors are passed over.
    public func search(_ query: [Float], k: Int, probes: Int = 16, excluding excluded: Set<Int32> = [])
        -> [ScoredIndex]
    {
        precondition(query.count == dimension, "IVFIndex.search: \(query.count) values for \(dimension) dimensions")
        guard count > 0, k > 0 else { return [] }
        var padded = [Float](repeating: 0, count: width)
        for j in 0..<dimension { padded[j] = query[j] }
        return padded.withUnsafeBufferPointer { q in
            var cells = TopList(capacity: min(max(1, probes), listCount))
            centroids.withUnsafeBufferPointer { c in
                for cell in 0..<listCount {
                    cells.offer(
                        VectorKernels.dot(q.baseAddress!, c.baseAddress! + cell * width, count: width), Int32(cell))
                }
            }
            var best = TopList(capacity: k)
            vectors.withUnsafeBufferPointer { v in
                for (_, cell) in cells.entries {
                    for slot in offsets[Int(cell)]..<offsets[Int(cell) + 1] {
                        let id = ids[slot]
                        if !excluded.isEmpty && excluded.contains(id) { continue }
                        best.offer(VectorKernels.dot(q.baseAddress!, v.baseAddress! + slot * width, count: width), id)
                    }
                }
            }
            return best.entries.map { ScoredIndex(index: $0.1, score: $0.0) }
        }
    }

    /// Each row's nearest centroid by squared Euclidean distance: the largest x·c − |c|²/2 (ties to
    /// the lower centroid), in blocks of rows, one matrix product each.
    static func nearest(_ matrix: Tensor, _ centroids: Tensor) -> [Int] {
        let (count, dimension) = (matrix.shape[0], matrix.shape[1])
        let cells = centroids.shape[0]
        let halfNorms = (0..<cells).map { cell in
            (0..<dimension).reduce(Float(0)) {
                $0 + centroids.scalars[cell * dimension + $1] * centroids.scalars[cell * dimension + $1]
            } / 2
        }
        var assignment = [Int](repeating: 0, count: count)
        let block = 8192
        for start in stride(from: 0, to: count, by: block) {
            let end = min(count, start + block)
            let scores = matrix.gathering(rows: Array(Int32(start)..<Int32(end))).matmul(
                centroids, transposingOther: true)
            for row in 0..<(end - start) {
                var bestCell = 0
                var bestValue = -Float.infinity
                for cell in 0..<cells {
                    let value = scores.scalars[row * cells + cell] - halfNorms[cell]
                    if value > bestValue {
                        bestValue = value
                        bestCell = cell
                    }
                }
                assignment[start + row] = bestCell
            }
        }
        return assignment
    }
}

/// The `capacity` best (score, index) pairs offered, best first, ties to the lower index.
struct TopList {
    let capacity: Int
    private(set) var entries: [(Float, Int32)] = []

    init(capacity: Int) {
        self.capacity = capacity
        entries.reserveCapacity(capacity + 1)
    }

    @inline(__always)
    mutating func offer(_ score: Float, _ index: Int32) {
        if entries.count == capacity, let last = entries.last, !Self.before((score, index), last) { return }
        var position = entries.count
        while position > 0 && Self.before((score, index), entries[position - 1]) { position -= 1 }
        entries.insert((score, index), at: position)
        if entries.count > capacity { entries.removeLast() }
    }

    @inline(__always)
    static func before(_ a: (Float, Int32), _ b: (Float, Int32)) -> Bool { a.0 != b.0 ? a.0 > b.0 : a.1 < b.1 }
}

extension IVFIndex {
    /// The cell count for `count` vectors when none is given: 4·√count, FAISS's rule of thumb
    /// (between 4·√n and 16·√n), at least one.
    public static func defaultListCount(for count: Int) -> Int {
        max(1, Int((4 * Double(count).squareRoot()).rounded()))
    }

    /// `search` for each row of `queries` (`[rows, dimension]`) with `excluding[i]` passed over for
    /// the i-th (nothing when `excluding` is empty), in parallel over the rows; a row whose probed
    /// cells hold fewer than `k` eligible vectors gets nil (its caller searches exactly).
    public func search(queries: Tensor, k: Int, probes: Int, excluding: [[Int32]]) -> [[ScoredIndex]?] {
        precondition(queries.rank == 2 && queries.shape[1] == dimension, "IVFIndex.search: queries \(queries.shape)")
        let rows = queries.shape[0]
        let wanted = min(max(0, k), count)
        // A server's few users are not worth the threads' start-up; an evaluation's many are.
        return Parallel.map(chunkCount: rows, threadCount: rows >= 64 ? Parallel.defaultThreadCount : 1) { row in
            let query = Array(queries.scalars[(row * dimension)..<((row + 1) * dimension)])
            let skipped: Set<Int32> = excluding.isEmpty ? [] : Set(excluding[row].filter { $0 >= 0 && $0 < count })
            let found = search(query, k: wanted, probes: probes, excluding: skipped)
            return found.count >= min(wanted, count - skipped.count) ? found : nil
        }
    }
}

/// An `IVFIndex` made on first use and then shared: a model that retrieves through one (`index=ivf`)
/// builds it from its item vectors when it first serves, not when it is trained or loaded.
public final class LazyIVFIndex: @unchecked Sendable { // `built` is guarded by `lock`
    private let make: @Sendable () -> IVFIndex
    private let lock = NSLock()
    private var built: IVFIndex?

    public init(_ make: @escaping @Sendable () -> IVFIndex) { self.make = make }

    public var index: IVFIndex {
        lock.lock()
        defer { lock.unlock() }
        if let built { return built }
        let made = make()
        built = made
        return made
    }
}
