/// A dense Float32 array with a shape, stored row-major; a value type (the storage is an `Array`,
/// which is already copy-on-write).
///
/// Element-wise arithmetic broadcasts as NumPy does (TensorMath.swift); matrix products go through
/// BLAS; the kernels behind them stay internal.
public struct Tensor: Sendable, Equatable {
    public private(set) var shape: [Int]
    public var scalars: [Float]

    /// - Precondition: the product of `shape` equals `scalars.count`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(
            shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == scalars.count,
            "Tensor: \(scalars.count) scalars do not fill shape \(shape)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of `shape` filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public var scalarCount: Int { scalars.count }

    /// Row `index` of a 2-D tensor.
    public func row(_ index: Int) -> ArraySlice<Float> {
        precondition(shape.count == 2 && index >= 0 && index < shape[0], "row \(index) of a tensor shaped \(shape)")
        return scalars[(index * shape[1])..<((index + 1) * shape[1])]
    }

    /// The matrix product `self · other` of 2-D tensors (`[m, k] · [k, n]`), or `self · otherᵀ` when
    /// `transposingOther` (`[m, k] · [n, k]ᵀ`), through BLAS.
    public func matmul(_ other: Tensor, transposingOther: Bool = false) -> Tensor {
        matmul(other, transposingSelf: false, transposingOther: transposingOther)
    }

    /// The Gram matrix `selfᵀ · self` of a 2-D tensor `[n, k]`: `[k, k]`, through BLAS.
    public func gram() -> Tensor {
        precondition(shape.count == 2, "gram needs a 2-D tensor, not \(shape)")
        let n = shape[0]
        let k = shape[1]
        var result = [Float](repeating: 0, count: k * k)
        scalars.withUnsafeBufferPointer { a in
            result.withUnsafeMutableBufferPointer { c in
                if n > 0 {
                    BLAS.gemm(
                        a.baseAddress!, a.baseAddress!, c.baseAddress!, m: k, n: k, k: n, transposeA: true,
                        transposeB: false)
                }
            }
        }
        return Tensor(shape: [k, k], scalars: result)
    }

    /// The rows at `indices` of a 2-D tensor: `[indices.count, columns]`.
    public func gathering(rows indices: [Int32]) -> Tensor {
        precondition(shape.count == 2, "gathering(rows:) needs a 2-D tensor, not \(shape)")
        let columns = shape[1]
        var result: [Float] = []
        result.reserveCapacity(indices.count * columns)
        for index in indices {
            precondition(index >= 0 && Int(index) < shape[0], "row \(index) of \(shape[0])")
            result.append(contentsOf: scalars[(Int(index) * columns)..<((Int(index) + 1) * columns)])
        }
        return Tensor(shape: [indices.count, columns], scalars: result)
    }

    /// The top `k` columns of each row of a 2-D tensor, best first, never listing a column in that
    /// row's `excluding` set; ties go to the lower column index.
    /// - Complexity: O(columns · log k) per row, with a bounded heap (no full sort).
    ///   Rows run in parallel chunks on `threadCount` threads; the result does not depend on it.
    public func topKPerRow(_ k: Int, excluding: [[Int32]] = [], threadCount: Int = Parallel.defaultThreadCount)
        -> [[ScoredIndex]]
    {
        precondition(shape.count == 2, "topKPerRow needs a 2-D tensor, not \(shape)")
        precondition(excluding.isEmpty || excluding.count == shape[0], "one exclusion list per row")
        let rows = shape[0]
        let columns = shape[1]
        let chunks = Parallel.chunks(count: rows, chunkCount: max(1, min(rows / 16, 4 * threadCount)))
        return scalars.withUnsafeBufferPointer { buffer in
            let source = FloatReadBuffer(buffer)
            return Parallel.map(chunkCount: chunks.count, threadCount: columns * rows < 1 << 16 ? 1 : threadCount) {
                chunk in
                chunks[chunk].map { row in
                    TopK.select(
                        UnsafeBufferPointer(rebasing: source.buffer[(row * columns)..<((row + 1) * columns)]), k: k,
                        excluding: excluding.isEmpty ? [] : excluding[row])
                }
            }.flatMap { $0 }
        }
    }
}

/// An index with its score, as top-k selection returns them.
public struct ScoredIndex: Sendable, Equatable, Hashable {
    public var index: Int32
    public var score: Float
    public init(index: Int32, score: Float) {
        self.index = index
        self.score = score
    }
}

/// A read-only buffer shared by parallel chunks.
struct FloatReadBuffer: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<Float>
    init(_ buffer: UnsafeBufferPointer<Float>) { self.buffer = buffer }
}

extension Array where Element == ScoredIndex {
    /// The best `k` entries, best first (ties to the lower index; NaN never selected).
    /// - Complexity: O(n log k).
    public func topK(_ k: Int) -> [ScoredIndex] { TopK.select(self, k: k) }
}
