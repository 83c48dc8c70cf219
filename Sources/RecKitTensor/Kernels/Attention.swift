import Foundation

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

/// Causal self-attention over sequences packed without their left padding: sequence b's `lengths[b]`
/// real rows follow one another in `[Σ lengths, width]`, and its `padding[b]` padded positions (all
/// left of the real ones) are summarised by one shared key and value row, the projections of what a
/// padded position holds. The padded positions of a window are identical, so a real position's
/// softmax over them equals one logit weighted by their count: position i of b sees
/// p·exp(s₀ᵢ) for the padding (s₀ᵢ = qᵢ·k₀/√d, p = padding[b]) and exp(sᵢⱼ) for real
/// j ≤ i. This is the padded window's attention for every real position, at the cost of the real
/// rows only (the padded positions' own outputs, which a padded model masks away, are not computed).
public struct PackedSelfAttention: Sendable {
    public let lengths: [Int]
    public let padding: [Int]
    public let heads: Int
    /// The first row of each sequence (one more entry than sequences).
    public let offsets: [Int]
    /// Where each sequence's `heads` weight squares start.
    let squares: [Int]

    public init(lengths: [Int], padding: [Int], heads: Int) {
        precondition(lengths.count == padding.count && heads > 0, "packed attention: one padding per sequence")
        self.lengths = lengths
        self.padding = padding
        self.heads = heads
        offsets = lengths.reduce(into: [0]) { $0.append($0.last! + $1) }
        squares = lengths.reduce(into: [0]) { $0.append($0.last! + heads * $1 * $1) }
    }

    public var rowCount: Int { offsets.last! }

    /// The attention weights the backward pass needs: each sequence's squares (real positions) and
    /// each row's weight on the padding, per head.
    public struct Weights: Sendable {
        let real: [Float]
        let padding: [Float]
    }

    /// The output `[rows, width]` for packed query, key and value and the padding's key and value
    /// `[1, width]`.
    public func forward(
        query: Tensor, key: Tensor, value: Tensor, paddingKey: Tensor, paddingValue: Tensor
    ) -> (output: Tensor, weights: Weights) {
        let width = query.shape[1]
        precondition(
            query.shape == [rowCount, width] && key.shape == query.shape && value.shape == query.shape
                && paddingKey.shape == [1, width] && paddingValue.shape == [1, width] && width % heads == 0,
            "packed attention: query \(query.shape), key \(key.shape), value \(value.shape), \(rowCount) rows")
        let d = width / heads
        var output = [Float](repeating: 0, count: rowCount * width)
        var real = [Float](repeating: 0, count: squares.last!)
        var sink = [Float](repeating: 0, count: rowCount * heads)
        query.scalars.withUnsafeBufferPointer { q in
            key.scalars.withUnsafeBufferPointer { k in
                value.scalars.withUnsafeBufferPointer { v in
                    paddingKey.scalars.withUnsafeBufferPointer { k0 in
                        paddingValue.scalars.withUnsafeBufferPointer { v0 in
                            output.withUnsafeMutableBufferPointer { o in
                                real.withUnsafeMutableBufferPointer { w in
                                    sink.withUnsafeMutableBufferPointer { w0 in
                                        let at = Pointers(
                                            q: q.baseAddress!, k: k.baseAddress!, v: v.baseAddress!,
                                            k0: k0.baseAddress!, v0: v0.baseAddress!, o: o.baseAddress!,
                                            p: w.baseAddress!, p0: w0.baseAddress!)
                                        eachPair(d: d) { sequence, head in
                                            forwardPair(sequence, head, at, width: width, d: d)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (Tensor(shape: [rowCount, width], scalars: output), Weights(real: real, padding: sink))
    }

    /// One (sequence, head) pair's forward pass: its weight squares, its rows' weights on the padding and
    /// its head's columns of its rows of the output.
    private func forwardPair(_ sequence: Int, _ head: Int, _ at: Pointers, width: Int, d: Int) {
        let scale = 1 / Float(d).squareRoot()
        let n = lengths[sequence]
        let count = Float(padding[sequence])
        let column = head * d
        let first = offsets[sequence]
        let rows = first * width + column
        let p = at.p + squares[sequence] + head * n * n
        BLAS.gemm(
            at.q + rows, at.k + rows, p, m: n, n: n, k: d, transposeA: false, transposeB: true, lda: width,
            ldb: width, ldc: n)
        for i in 0..<n {
            let row = p + i * n
            let qRow = at.q + rows + i * width
            var s0: Float = 0
            for c in 0..<d { s0 += qRow[c] * at.k0[column + c] }
            s0 *= scale
            for j in 0...i { row[j] *= scale }
            var m = RowKernels.max(row, count: i + 1)
            if count > 0 { m = Swift.max(m, s0) }
            var total = RowKernels.sumOfExponentials(row, count: i + 1, minus: m, writingTo: row)
            let padded = count > 0 ? count * Foundation.exp(s0 - m) : 0
            total += padded
            let inverse = 1 / total
            for j in 0...i { row[j] *= inverse }
            for j in (i + 1)..<n { row[j] = 0 }
            at.p0[(first + i) * heads + head] = padded * inverse
        }
        BLAS.gemm(
            p, at.v + rows, at.o + rows, m: n, n: d, k: n, transposeA: false, transposeB: false, lda: n,
            ldb: width, ldc: width)
        guard count > 0 else { return }
        for i in 0..<n {
            let weight = at.p0[(first + i) * heads + head]
            let oRow = at.o + rows + i * width
            for c in 0..<d { oRow[c] += weight * at.v0[column + c] }
        }
    }

    /// The gradients of the packed query, key and value and of the padding's key and value from the
    /// output's gradient: as the padded attention's, with the padding's p identical logits summed
    /// (dS = P ⊙ (dP − rowsum(dP ⊙ P)) / √d, the padding's column weighted by its total weight).
    public func backward(
        _ g: Tensor, query: Tensor, key: Tensor, value: Tensor, paddingKey: Tensor, paddingValue: Tensor,
        weights: Weights
    ) -> (query: Tensor, key: Tensor, value: Tensor, paddingKey: Tensor, paddingValue: Tensor) {
        let width = query.shape[1]
        let d = width / heads
        var dq = [Float](repeating: 0, count: query.scalarCount)
        var dk = [Float](repeating: 0, count: query.scalarCount)
        var dv = [Float](repeating: 0, count: query.scalarCount)
        var scratch = [Float](repeating: 0, count: squares.last! + rowCount * heads)
        // Each (sequence, head) pair's share of the padding's gradients, summed in order afterwards.
        var shares = [Float](repeating: 0, count: 2 * lengths.count * width)
        g.scalars.withUnsafeBufferPointer { go in
            query.scalars.withUnsafeBufferPointer { q in
                key.scalars.withUnsafeBufferPointer { k in
                    value.scalars.withUnsafeBufferPointer { v in
                        paddingKey.scalars.withUnsafeBufferPointer { k0 in
                            paddingValue.scalars.withUnsafeBufferPointer { v0 in
                                weights.real.withUnsafeBufferPointer { w in
                                    weights.padding.withUnsafeBufferPointer { w0 in
                                        dq.withUnsafeMutableBufferPointer { dqp in
                                            dk.withUnsafeMutableBufferPointer { dkp in
                                                dv.withUnsafeMutableBufferPointer { dvp in
                                                    scratch.withUnsafeMutableBufferPointer { s in
                                                        shares.withUnsafeMutableBufferPointer { sh in
                                                            let at = GradientPointers(
                                                                g: go.baseAddress!, q: q.baseAddress!,
                                                                k: k.baseAddress!, v: v.baseAddress!,
                                                                k0: k0.baseAddress!, v0: v0.baseAddress!,
                                                                p: w.baseAddress!, p0: w0.baseAddress!,
                                                                dq: dqp.baseAddress!, dk: dkp.baseAddress!,
                                                                dv: dvp.baseAddress!, ds: s.baseAddress!,
                                                                ds0: s.baseAddress! + squares.last!,
                                                                shares: sh.baseAddress!)
                                                            eachPair(d: d) { sequence, head in
                                                                backwardPair(sequence, head, at, width: width, d: d)
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
                    }
                }
            }
        }
        var paddingKeyGradient = [Float](repeating: 0, count: width)
        var paddingValueGradient = [Float](repeating: 0, count: width)
        for sequence in 0..<lengths.count {
            for c in 0..<width {
                paddingKeyGradient[c] += shares[2 * sequence * width + c]
                paddingValueGradient[c] += shares[(2 * sequence + 1) * width + c]
            }
        }
        let shape = query.shape
        return (
            Tensor(shape: shape, scalars: dq), Tensor(shape: shape, scalars: dk), Tensor(shape: shape, scalars: dv),
            Tensor(shape: [1, width], scalars: paddingKeyGradient),
            Tensor(shape: [1, width], scalars: paddingValueGradient)
        )
    }

    /// One (sequence, head) pair's backward pass: it writes only its head's columns of its rows of dQ,
    /// dK, dV, its own weight squares of dS, and its own share of the padding's gradients.
    private func backwardPair(_ sequence: Int, _ head: Int, _ at: GradientPointers, width: Int, d: Int) {
        let scale = 1 / Float(d).squareRoot()
        let n = lengths[sequence]
        let column = head * d
        let first = offsets[sequence]
        let rows = first * width + column
        let square = squares[sequence] + head * n * n
        let p = at.p + square
        let ds = at.ds + square
        let keyShare = at.shares + 2 * sequence * width + column
        let valueShare = keyShare + width
        let padded = padding[sequence] > 0
        // dV = Pᵀ dO, dP = dO Vᵀ
        BLAS.gemm(
            p, at.g + rows, at.dv + rows, m: n, n: d, k: n, transposeA: true, transposeB: false, lda: n,
            ldb: width, ldc: width)
        BLAS.gemm(
            at.g + rows, at.v + rows, ds, m: n, n: n, k: d, transposeA: false, transposeB: true, lda: width,
            ldb: width, ldc: n)
        for i in 0..<n {
            let pRow = p + i * n
            let sRow = ds + i * n
            let gRow = at.g + rows + i * width
            let w0 = at.p0[(first + i) * heads + head]
            // The padding's column: its weight w0 = Σ of its p identical weights, dP₀ = dOᵢ · v₀.
            var dp0: Float = 0
            if padded {
                for c in 0..<d {
                    dp0 += gRow[c] * at.v0[column + c]
                    valueShare[c] += w0 * gRow[c]
                }
            }
            var dot = w0 * dp0
            for j in 0...i { dot += sRow[j] * pRow[j] }
            for j in 0..<n { sRow[j] = pRow[j] * (sRow[j] - dot) * scale }
            let ds0 = w0 * (dp0 - dot) * scale
            at.ds0[(first + i) * heads + head] = ds0
            if padded {
                let qRow = at.q + rows + i * width
                for c in 0..<d { keyShare[c] += ds0 * qRow[c] }
            }
        }
        // dQ = dS K + ds0 k₀, dK = dSᵀ Q
        BLAS.gemm(
            ds, at.k + rows, at.dq + rows, m: n, n: d, k: n, transposeA: false, transposeB: false, lda: n,
            ldb: width, ldc: width)
        BLAS.gemm(
            ds, at.q + rows, at.dk + rows, m: n, n: d, k: n, transposeA: true, transposeB: false, lda: n,
            ldb: width, ldc: width)
        guard padded else { return }
        for i in 0..<n {
            let ds0 = at.ds0[(first + i) * heads + head]
            let dqRow = at.dq + rows + i * width
            for c in 0..<d { dqRow[c] += ds0 * at.k0[column + c] }
        }
    }

    /// Runs `body(sequence, head)` for every pair with a real row, on the worker threads (BLAS on one
    /// thread) when there is enough work; pairs are split into chunks of about equal work.
    func eachPair(d: Int, _ body: @Sendable (Int, Int) -> Void) {
        let pairs = (0..<(lengths.count * heads)).filter { lengths[$0 / heads] > 0 }
        let work = squares.last! * d
        let threads = pairs.count > 1 && work >= 1 << 18 ? Parallel.defaultThreadCount : 1
        guard threads > 1 else {
            for pair in pairs { body(pair / heads, pair % heads) }
            return
        }
        // Chunks of consecutive pairs holding about equal shares of Σ n² (a pair's cost).
        let chunkCount = min(pairs.count, 4 * threads)
        var bounds = [0]
        var done = 0
        for (index, pair) in pairs.enumerated() {
            let n = lengths[pair / heads]
            done += n * n
            if done * chunkCount >= squares.last! * bounds.count && bounds.count < chunkCount {
                bounds.append(index + 1)
            }
        }
        if bounds.last! != pairs.count { bounds.append(pairs.count) }
        let chunks = bounds
        BLASLibrary.singleThreaded {
            Parallel.forEach(chunkCount: chunks.count - 1, threadCount: threads) { chunk in
                for pair in pairs[chunks[chunk]..<chunks[chunk + 1]] { body(pair / heads, pair % heads) }
            }
        }
    }

    struct Pointers: @unchecked Sendable {
        let q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>
        let k0: UnsafePointer<Float>, v0: UnsafePointer<Float>
        let o: UnsafeMutablePointer<Float>, p: UnsafeMutablePointer<Float>, p0: UnsafeMutablePointer<Float>
    }

    struct GradientPointers: @unchecked Sendable {
        let g: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>
        let k0: UnsafePointer<Float>, v0: UnsafePointer<Float>
        let p: UnsafePointer<Float>, p0: UnsafePointer<Float>
        let dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>
        let ds: UnsafeMutablePointer<Float>, ds0: UnsafeMutablePointer<Float>
        let shares: UnsafeMutablePointer<Float>
    }
}
