import Foundation
import RecKitTensor

/// Pointers for the parallel half-sweep: each chunk writes only its own rows of `target`.
struct ALSBuffers: @unchecked Sendable {
    let target: UnsafeMutableBufferPointer<Float>
    let fixed: UnsafeBufferPointer<Float>
}

/// Per-thread scratch vectors and the per-row solvers.
struct ALSWorkspace {
    let k: Int
    var r: [Float], p: [Float], ap: [Float], a: [Double], b: [Double]
    /// The row's fixed vectors copied side by side: the conjugate-gradient passes after the first
    /// stream through them (or find them cached) instead of gathering scattered rows again. On the
    /// ml-20m-like set this halves an iteration (3.2 → 1.7 s, 2 threads), mostly on popular items.
    var packed: [Float] = []
    /// One dot product per packed row.
    var products: [Float] = []
    /// Rows whose copy would exceed this many floats (default 16 MB) are read in place, bounding the scratch.
    let packLimit: Int

    init(k: Int, packLimit: Int = 1 << 22) {
        self.k = k
        self.packLimit = packLimit
        r = [Float](repeating: 0, count: k)
        p = [Float](repeating: 0, count: k)
        ap = [Float](repeating: 0, count: k)
        a = [Double](repeating: 0, count: k * k)
        b = [Double](repeating: 0, count: k)
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ k: Int) -> Float {
        VectorKernels.dot(a, b, count: k)
    }

    /// `out = gram · v` for a symmetric `k × k` gram.
    @inline(__always)
    static func multiply(
        _ gram: UnsafePointer<Float>, _ v: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ k: Int
    ) {
        for row in 0..<k { out[row] = dot(gram + row * k, v, k) }
    }

    /// A few conjugate-gradient steps on (YᵀY + λI + ρI + Σ c'_i y_i y_iᵀ) x = Σ (1 + c'_i) y_i,
    /// warm-started from the current x (c'_i = c_i − 1; `gram` holds YᵀY + λI, `ridge` is this row's ρ).
    mutating func conjugateGradient(
        x: UnsafeMutablePointer<Float>, gram: [Float], fixed: UnsafePointer<Float>, columns: [Int32], extra: [Float],
        range: Range<Int>, steps: Int, ridge: Float = 0
    ) {
        let k = self.k
        let count = range.count
        let pack = count * k <= packLimit
        if pack && packed.count < count * k {
            packed = [Float](repeating: 0, count: max(count * k, 2 * packed.count))
            products = [Float](repeating: 0, count: packed.count / k)
        }
        gram.withUnsafeBufferPointer { gramBuffer in
            r.withUnsafeMutableBufferPointer { rBuffer in
                p.withUnsafeMutableBufferPointer { pBuffer in
                    ap.withUnsafeMutableBufferPointer { apBuffer in
                        packed.withUnsafeMutableBufferPointer { packedBuffer in
                            products.withUnsafeMutableBufferPointer { productBuffer in
                                let g = gramBuffer.baseAddress!
                                let r = rBuffer.baseAddress!
                                let p = pBuffer.baseAddress!
                                let ap = apBuffer.baseAddress!
                                let lower = range.lowerBound
                                // Σ_i c'_i (y_i·v) y_i for each stored i, added to `out`. Small rows are
                                // packed once and their dot products taken four rows at a time; the
                                // arithmetic is the same either way, so packing never changes a result.
                                @inline(__always) func addWeighted(
                                    _ v: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, offset: Float
                                ) {
                                    if pack {
                                        let copies = UnsafePointer(packedBuffer.baseAddress!)
                                        let dots = productBuffer.baseAddress!
                                        VectorKernels.dots(
                                            rows: copies, rowCount: count, vector: v, count: k, into: dots)
                                        for j in 0..<count {
                                            let c = extra[lower + j]
                                            VectorKernels.axpy(
                                                offset * (1 + c) - c * dots[j], copies + j * k, out, count: k)
                                        }
                                    } else {
                                        for position in range {
                                            let y = fixed + Int(columns[position]) * k
                                            let c = extra[position]
                                            VectorKernels.axpy(
                                                offset * (1 + c) - c * ALSWorkspace.dot(y, v, k), y, out, count: k)
                                        }
                                    }
                                }
                                if pack {
                                    for j in 0..<count {
                                        (packedBuffer.baseAddress! + j * k).update(
                                            from: fixed + Int(columns[lower + j]) * k, count: k)
                                    }
                                }
                                // r = b − A x = Σ (1 + c')y − YᵀY x − Σ c' (y·x) y
                                ALSWorkspace.multiply(g, x, ap, k)
                                if ridge != 0 { for f in 0..<k { ap[f] += ridge * x[f] } }
                                for f in 0..<k { r[f] = -ap[f] }
                                addWeighted(x, into: r, offset: 1)
                                for f in 0..<k { p[f] = r[f] }
                                var rsOld = ALSWorkspace.dot(r, r, k)
                                if rsOld < 1e-20 { return }
                                for _ in 0..<steps {
                                    // A p = YᵀY p + Σ c' (y·p) y
                                    ALSWorkspace.multiply(g, p, ap, k)
                                    if ridge != 0 { for f in 0..<k { ap[f] += ridge * p[f] } }
                                    for f in 0..<k { ap[f] = -ap[f] }
                                    addWeighted(p, into: ap, offset: 0)
                                    for f in 0..<k { ap[f] = -ap[f] }
                                    let denominator = ALSWorkspace.dot(p, ap, k)
                                    guard denominator > 0 else { return }
                                    let step = rsOld / denominator
                                    for f in 0..<k {
                                        x[f] += step * p[f]
                                        r[f] -= step * ap[f]
                                    }
                                    let rsNew = ALSWorkspace.dot(r, r, k)
                                    if rsNew < 1e-20 { return }
                                    let beta = rsNew / rsOld
                                    for f in 0..<k { p[f] = r[f] + beta * p[f] }
                                    rsOld = rsNew
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The exact solution, by a Cholesky factorisation in Double. Rows with at least
    /// `gemmThreshold` items form Σ c'_i y_i y_iᵀ with one sgemm (`WeightedGram`) over their packed
    /// vectors; shorter rows accumulate it in Double. On the ml-20m-like set (64 factors, 2 threads)
    /// this takes an iteration from 36 s to 4.6 s.
    mutating func cholesky(
        x: UnsafeMutablePointer<Float>, gram: [Float], fixed: UnsafePointer<Float>, columns: [Int32], extra: [Float],
        range: Range<Int>, ridge: Float = 0
    ) {
        let k = self.k
        let count = range.count
        for f in 0..<k { b[f] = 0 }
        if count >= ALSWorkspace.gemmThreshold {
            // Packed rows, their weighted copies, then the weights.
            let needed = 2 * count * k + count
            if packed.count < needed { packed = [Float](repeating: 0, count: max(needed, 2 * packed.count)) }
            if products.count < max(count, k * k) { products = [Float](repeating: 0, count: max(count, k * k)) }
            packed.withUnsafeMutableBufferPointer { packedBuffer in
                products.withUnsafeMutableBufferPointer { productBuffer in
                    let rows = packedBuffer.baseAddress!
                    for (j, position) in range.enumerated() {
                        let y = fixed + Int(columns[position]) * k
                        (rows + j * k).update(from: y, count: k)
                        let c = Double(extra[position])
                        for f in 0..<k { b[f] += (1 + c) * Double(y[f]) }
                    }
                    // The k × k result goes to `products`.
                    let weights = rows + 2 * count * k
                    for (j, position) in range.enumerated() { weights[j] = extra[position] }
                    let weighted = rows + count * k
                    WeightedGram.compute(
                        rows: rows, weights: weights, count: count, width: k, scratch: weighted,
                        into: productBuffer.baseAddress!)
                    for index in 0..<(k * k) { a[index] = Double(gram[index]) + Double(productBuffer[index]) }
                }
            }
        } else {
            for index in 0..<(k * k) { a[index] = Double(gram[index]) }
            for position in range {
                let y = fixed + Int(columns[position]) * k
                let c = Double(extra[position])
                for row in 0..<k {
                    let yr = Double(y[row])
                    b[row] += (1 + c) * yr
                    if c != 0 {
                        let scaled = c * yr
                        for column in 0...row { a[row * k + column] += scaled * Double(y[column]) }
                    }
                }
            }
        }
        for f in 0..<k { a[f * k + f] += Double(ridge) }
        a.withUnsafeMutableBufferPointer { a in
            b.withUnsafeMutableBufferPointer { b in Cholesky.solve(a.baseAddress!, b.baseAddress!, n: k) }
        }
        for f in 0..<k { x[f] = Float(b[f]) }
    }

    /// Rows with at least this many items take the sgemm path of `cholesky`.
    static let gemmThreshold = 16
}
