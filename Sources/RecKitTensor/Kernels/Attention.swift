/// Scaled dot-product self-attention in one pass (Vaswani et al. 2017), the kernel of SASRec's
/// blocks: for each sequence b and head h, with Q, K, V the head's columns of the `[batch·length,
/// width]` projections, P = softmax(Q Kᵀ/√d + mask) and O = P V, written into the head's columns of
/// the output. The causal mask leaves each position only itself and earlier ones (P is exactly 0
/// above the diagonal). Heads are read in place through BLAS's row strides, so nothing is permuted;
/// (sequence, head) pairs run on the worker threads with BLAS on one thread each.
public enum SelfAttention {
    /// The output `[batch·length, width]` and the attention weights P `[batch·heads, length, length]`
    /// the backward pass needs.
    public static func forward(
        query: Tensor, key: Tensor, value: Tensor, batch: Int, length: Int, heads: Int, causal: Bool
    ) -> (output: Tensor, weights: Tensor) {
        let width = query.shape[1]
        precondition(
            query.shape == [batch * length, width] && key.shape == query.shape && value.shape == query.shape
                && width % heads == 0,
            "self-attention: query \(query.shape), key \(key.shape), value \(value.shape), \(heads) heads")
        let d = width / heads
        let scale = 1 / Float(d).squareRoot()
        var output = [Float](repeating: 0, count: batch * length * width)
        var weights = [Float](repeating: 0, count: batch * heads * length * length)
        query.scalars.withUnsafeBufferPointer { q in
            key.scalars.withUnsafeBufferPointer { k in
                value.scalars.withUnsafeBufferPointer { v in
                    output.withUnsafeMutableBufferPointer { o in
                        weights.withUnsafeMutableBufferPointer { w in
                            let pointers = Pointers(
                                q: q.baseAddress!, k: k.baseAddress!, v: v.baseAddress!, o: o.baseAddress!,
                                p: w.baseAddress!)
                            eachPair(batch: batch, heads: heads, length: length, d: d) { sequence, head in
                                let rows = sequence * length * width + head * d
                                let p = pointers.p + (sequence * heads + head) * length * length
                                BLAS.gemm(
                                    pointers.q + rows, pointers.k + rows, p, m: length, n: length, k: d,
                                    transposeA: false, transposeB: true, lda: width, ldb: width, ldc: length)
                                for i in 0..<length {
                                    let row = p + i * length
                                    let visible = causal ? i + 1 : length
                                    for j in 0..<visible { row[j] *= scale }
                                    let m = RowKernels.max(row, count: visible)
                                    let inverse =
                                        1 / RowKernels.sumOfExponentials(row, count: visible, minus: m, writingTo: row)
                                    for j in 0..<visible { row[j] *= inverse }
                                    for j in visible..<length { row[j] = 0 }
                                }
                                BLAS.gemm(
                                    p, pointers.v + rows, pointers.o + rows, m: length, n: d, k: length,
                                    transposeA: false, transposeB: false, lda: length, ldb: width, ldc: width)
                            }
                        }
                    }
                }
            }
        }
        return (
            Tensor(shape: [batch * length, width], scalars: output),
            Tensor(shape: [batch * heads, length, length], scalars: weights)
        )
    }

    /// The gradients of query, key and value from the output's gradient `g` and the forward pass's
    /// weights: dV = Pᵀ dO, dP = dO Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)) / √d, dQ = dS K, dK = dSᵀ Q.
    public static func backward(
        _ g: Tensor, query: Tensor, key: Tensor, value: Tensor, weights: Tensor, batch: Int, length: Int, heads: Int
    ) -> (query: Tensor, key: Tensor, value: Tensor) {
        let width = query.shape[1]
        let d = width / heads
        let scale = 1 / Float(d).squareRoot()
        var dq = [Float](repeating: 0, count: query.scalarCount)
        var dk = [Float](repeating: 0, count: query.scalarCount)
        var dv = [Float](repeating: 0, count: query.scalarCount)
        var scratch = [Float](repeating: 0, count: batch * heads * length * length)
        g.scalars.withUnsafeBufferPointer { go in
            query.scalars.withUnsafeBufferPointer { q in
                key.scalars.withUnsafeBufferPointer { k in
                    value.scalars.withUnsafeBufferPointer { v in
                        weights.scalars.withUnsafeBufferPointer { w in
                            dq.withUnsafeMutableBufferPointer { dqp in
                                dk.withUnsafeMutableBufferPointer { dkp in
                                    dv.withUnsafeMutableBufferPointer { dvp in
                                        scratch.withUnsafeMutableBufferPointer { s in
                                            let pointers = GradientPointers(
                                                g: go.baseAddress!, q: q.baseAddress!, k: k.baseAddress!,
                                                v: v.baseAddress!, p: w.baseAddress!, dq: dqp.baseAddress!,
                                                dk: dkp.baseAddress!, dv: dvp.baseAddress!, ds: s.baseAddress!)
                                            eachPair(batch: batch, heads: heads, length: length, d: d) {
                                                sequence, head in
                                                pointers.pair(
                                                    rows: sequence * length * width + head * d,
                                                    square: (sequence * heads + head) * length * length,
                                                    length: length, width: width, d: d, scale: scale)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let shape = query.shape
        return (
            Tensor(shape: shape, scalars: dq), Tensor(shape: shape, scalars: dk), Tensor(shape: shape, scalars: dv)
        )
    }

    /// Runs `body(sequence, head)` for every pair, on the worker threads (BLAS on one thread) when
    /// there is enough work.
    static func eachPair(batch: Int, heads: Int, length: Int, d: Int, _ body: @Sendable (Int, Int) -> Void) {
        let pairs = batch * heads
        let threads = pairs > 1 && pairs * length * length * d >= 1 << 18 ? Parallel.defaultThreadCount : 1
        guard threads > 1 else {
            for pair in 0..<pairs { body(pair / heads, pair % heads) }
            return
        }
        let chunks = Parallel.chunks(count: pairs, chunkCount: min(pairs, 4 * threads))
        BLASLibrary.singleThreaded {
            Parallel.forEach(chunkCount: chunks.count, threadCount: threads) { chunk in
                for pair in chunks[chunk] { body(pair / heads, pair % heads) }
            }
        }
    }

    struct Pointers: @unchecked Sendable {
        let q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>
        let o: UnsafeMutablePointer<Float>, p: UnsafeMutablePointer<Float>
    }

    /// Each pair writes only its own head's columns of dQ, dK, dV and its own square of `ds`.
    struct GradientPointers: @unchecked Sendable {
        let g: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>
        let p: UnsafePointer<Float>
        let dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>
        let ds: UnsafeMutablePointer<Float>

        func pair(rows: Int, square: Int, length: Int, width: Int, d: Int, scale: Float) {
            let p = self.p + square
            let ds = self.ds + square
            // dV = Pᵀ dO
            BLAS.gemm(
                p, g + rows, dv + rows, m: length, n: d, k: length, transposeA: true, transposeB: false,
                lda: length, ldb: width, ldc: width)
            // dP = dO Vᵀ
            BLAS.gemm(
                g + rows, v + rows, ds, m: length, n: length, k: d, transposeA: false, transposeB: true,
                lda: width, ldb: width, ldc: length)
            for i in 0..<length {
                let pRow = p + i * length
                let sRow = ds + i * length
                var dot: Float = 0
                for j in 0..<length { dot += sRow[j] * pRow[j] }
                for j in 0..<length { sRow[j] = pRow[j] * (sRow[j] - dot) * scale }
            }
            // dQ = dS K, dK = dSᵀ Q
            BLAS.gemm(
                ds, k + rows, dq + rows, m: length, n: d, k: length, transposeA: false, transposeB: false,
                lda: length, ldb: width, ldc: width)
            BLAS.gemm(
                ds, q + rows, dk + rows, m: length, n: d, k: length, transposeA: true, transposeB: false,
                lda: length, ldb: width, ldc: width)
        }
    }
}
