/// Small dense-vector kernels for the hot loops of SGD and ALS, where a BLAS call per 64-element
/// vector would cost more than the arithmetic.
///
/// Floating-point sums are not reassociated by the compiler, so a plain `for` loop computes a dot
/// product one add at a time; these keep sixteen partial sums in a SIMD register instead. Results
/// therefore differ from a sequential sum by rounding only, and are the same on every run.
public enum VectorKernels {
    /// Σ a[i]·b[i] for i in 0..<count.
    /// - Complexity: O(count), 16 lanes at a time.
    @inlinable @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var index = 0
        var total: Float = 0
        if count >= 16 {
            // Sixteen lanes as two 8-lane halves: the shape of an AVX register, which SIMD16 code
            // does not always get (it shuffled lanes inside the loop). Same sums as one SIMD16.
            var low = SIMD8<Float>()
            var high = SIMD8<Float>()
            let rawA = UnsafeRawPointer(a)
            let rawB = UnsafeRawPointer(b)
            while index + 16 <= count {
                low +=
                    rawA.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self)
                    * rawB.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self)
                high +=
                    rawA.loadUnaligned(fromByteOffset: index * 4 + 32, as: SIMD8<Float>.self)
                    * rawB.loadUnaligned(fromByteOffset: index * 4 + 32, as: SIMD8<Float>.self)
                index += 16
            }
            // Pairwise halving keeps the reduction in vector registers.
            total = reduce(low, high)
        }
        while index < count {
            total += a[index] * b[index]
            index += 1
        }
        return total
    }

    /// `out[r] = dot(rows + r·count, vector)` for r in 0..<rowCount: a small matrix–vector product over
    /// contiguous rows. Four rows share each pass over `vector`, so their sums advance together
    /// instead of waiting on one another's additions; each result is bit-identical to `dot`.
    /// - Complexity: O(rowCount · count).
    @inlinable @inline(__always)
    public static func dots(
        rows: UnsafePointer<Float>, rowCount: Int, vector: UnsafePointer<Float>, count: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        var row = 0
        let vectorEnd = count & ~15
        if count >= 16 {
            let rawVector = UnsafeRawPointer(vector)
            while row + 4 <= rowCount {
                let a0 = UnsafeRawPointer(rows + row * count)
                let a1 = UnsafeRawPointer(rows + (row + 1) * count)
                let a2 = UnsafeRawPointer(rows + (row + 2) * count)
                let a3 = UnsafeRawPointer(rows + (row + 3) * count)
                var l0 = SIMD8<Float>()
                var l1 = SIMD8<Float>()
                var l2 = SIMD8<Float>()
                var l3 = SIMD8<Float>()
                var h0 = SIMD8<Float>()
                var h1 = SIMD8<Float>()
                var h2 = SIMD8<Float>()
                var h3 = SIMD8<Float>()
                var offset = 0
                while offset < vectorEnd * 4 {
                    let v = rawVector.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                    let w = rawVector.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self)
                    l0 += a0.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) * v
                    h0 += a0.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self) * w
                    l1 += a1.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) * v
                    h1 += a1.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self) * w
                    l2 += a2.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) * v
                    h2 += a2.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self) * w
                    l3 += a3.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) * v
                    h3 += a3.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self) * w
                    offset += 64
                }
                out[row] = tail(reduce(l0, h0), rows + row * count, vector, from: vectorEnd, count: count)
                out[row + 1] = tail(reduce(l1, h1), rows + (row + 1) * count, vector, from: vectorEnd, count: count)
                out[row + 2] = tail(reduce(l2, h2), rows + (row + 2) * count, vector, from: vectorEnd, count: count)
                out[row + 3] = tail(reduce(l3, h3), rows + (row + 3) * count, vector, from: vectorEnd, count: count)
                row += 4
            }
        }
        while row < rowCount {
            out[row] = dot(rows + row * count, vector, count: count)
            row += 1
        }
    }

    /// The pairwise horizontal sum `dot` ends its vector part with: lanes 0–7 plus lanes 8–15, then halves.
    @inlinable @inline(__always)
    static func reduce(_ low: SIMD8<Float>, _ high: SIMD8<Float>) -> Float {
        let eight = low + high
        let four = eight.lowHalf + eight.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    /// `total` plus the scalar products from `start` to `count`, in order (the tail of `dot`).
    @inlinable @inline(__always)
    static func tail(_ total: Float, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, from start: Int, count: Int)
        -> Float
    {
        var total = total
        for index in start..<count { total += a[index] * b[index] }
        return total
    }

    /// The SGD step of a factor pair on a squared (or any) loss with gradient `error`:
    /// p ← p + rate·(error·q − reg·p) and q ← q + rate·(error·p − reg·q), both from the old values.
    /// Explicit vectors because the compiler cannot prove `p` and `q` apart and would not vectorise
    /// the loop; every lane computes exactly the scalar expression, so results equal the scalar loop's.
    @inlinable @inline(__always)
    public static func updatePair(
        _ p: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>, count: Int, error: Float, rate: Float,
        regularization reg: Float
    ) {
        var index = 0
        let rawP = UnsafeMutableRawPointer(p)
        let rawQ = UnsafeMutableRawPointer(q)
        let e = SIMD16<Float>(repeating: error)
        let r = SIMD16<Float>(repeating: rate)
        let l = SIMD16<Float>(repeating: reg)
        while index + 16 <= count {
            let pv = rawP.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            let qv = rawQ.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            rawP.storeBytes(of: pv + r * (e * qv - l * pv), toByteOffset: index * 4, as: SIMD16<Float>.self)
            rawQ.storeBytes(of: qv + r * (e * pv - l * qv), toByteOffset: index * 4, as: SIMD16<Float>.self)
            index += 16
        }
        while index < count {
            let pf = p[index]
            let qf = q[index]
            p[index] = pf + rate * (error * qf - reg * pf)
            q[index] = qf + rate * (error * pf - reg * qf)
            index += 1
        }
    }

    /// y[i] += alpha · x[i] for i in 0..<count.
    @inlinable @inline(__always)
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for index in 0..<count { y[index] += alpha * x[index] }
    }
}
