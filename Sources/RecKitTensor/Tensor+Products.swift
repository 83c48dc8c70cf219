import Foundation

extension Tensor {
    /// The matrix product with either operand transposed, through BLAS: `[m, k] · [k, n]`.
    public func matmul(_ other: Tensor, transposingSelf: Bool, transposingOther: Bool = false) -> Tensor {
        precondition(rank == 2 && other.rank == 2, "matmul needs 2-D tensors: \(shape) × \(other.shape)")
        let m = transposingSelf ? shape[1] : shape[0]
        let k = transposingSelf ? shape[0] : shape[1]
        let n = transposingOther ? other.shape[0] : other.shape[1]
        precondition((transposingOther ? other.shape[1] : other.shape[0]) == k, "matmul: \(shape) × \(other.shape)")
        var result = [Float](unsafeUninitializedCapacity: m * n) { _, count in count = m * n }
        scalars.withUnsafeBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    if m > 0 && n > 0 {
                        BLAS.gemm(
                            a.baseAddress!, b.baseAddress!, c.baseAddress!, m: m, n: n, k: k,
                            transposeA: transposingSelf, transposeB: transposingOther)
                    }
                }
            }
        }
        return Tensor(shape: [m, n], scalars: result)
    }

    /// `self · weight + bias` for `[m, k] · [k, n] + [n]`: the bias rows are written first and the
    /// product added onto them by one BLAS call (no separate broadcast pass).
    public func affine(weight: Tensor, bias: Tensor) -> Tensor {
        precondition(
            rank == 2 && weight.rank == 2 && shape[1] == weight.shape[0] && bias.shape == [weight.shape[1]],
            "affine: \(shape) · \(weight.shape) + \(bias.shape)")
        let m = shape[0]
        let k = shape[1]
        let n = weight.shape[1]
        var result = [Float](unsafeUninitializedCapacity: m * n) { buffer, count in
            for row in 0..<m {
                _ = UnsafeMutableBufferPointer(rebasing: buffer[(row * n)..<((row + 1) * n)]).initialize(
                    fromContentsOf: bias.scalars)
            }
            count = m * n
        }
        scalars.withUnsafeBufferPointer { a in
            weight.scalars.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    if m > 0 && n > 0 {
                        BLAS.gemm(
                            a.baseAddress!, b.baseAddress!, c.baseAddress!, m: m, n: n, k: k, transposeB: false, beta: 1
                        )
                    }
                }
            }
        }
        return Tensor(shape: [m, n], scalars: result)
    }

    /// Batched matrix products of 3-D tensors: `[b, m, k] · [b, k, n]` (either side transposed per
    /// batch entry), one BLAS call per entry.
    public func batchedMatmul(_ other: Tensor, transposingSelf: Bool = false, transposingOther: Bool = false) -> Tensor
    {
        precondition(
            rank == 3 && other.rank == 3 && shape[0] == other.shape[0], "batchedMatmul: \(shape) × \(other.shape)")
        let batch = shape[0]
        let m = transposingSelf ? shape[2] : shape[1]
        let k = transposingSelf ? shape[1] : shape[2]
        let n = transposingOther ? other.shape[1] : other.shape[2]
        precondition(
            (transposingOther ? other.shape[2] : other.shape[1]) == k, "batchedMatmul: \(shape) × \(other.shape)")
        let aSize = shape[1] * shape[2]
        let bSize = other.shape[1] * other.shape[2]
        var result = [Float](repeating: 0, count: batch * m * n)
        scalars.withUnsafeBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    guard m > 0 && n > 0 else { return }
                    for entry in 0..<batch {
                        BLAS.gemm(
                            a.baseAddress! + entry * aSize, b.baseAddress! + entry * bSize,
                            c.baseAddress! + entry * m * n, m: m, n: n, k: k, transposeA: transposingSelf,
                            transposeB: transposingOther)
                    }
                }
            }
        }
        return Tensor(shape: [batch, m, n], scalars: result)
    }
}
