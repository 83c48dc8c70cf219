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
            var accumulator = SIMD16<Float>()
            let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
            while index + 16 <= count {
                let x = rawA.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
                let y = rawB.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
                accumulator += x * y
                index += 16
            }
            // Pairwise halving keeps the reduction in vector registers.
            total = reduce(accumulator)
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
        rows: UnsafePointer<Float>, rowCount: Int, vector: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>
    ) {
        var row = 0
        let vectorEnd = count & ~15
        if count >= 16 {
            let rawVector = UnsafeRawPointer(vector)
            while row + 4 <= rowCount {
                let a0 = UnsafeRawPointer(rows + row * count), a1 = UnsafeRawPointer(rows + (row + 1) * count)
                let a2 = UnsafeRawPointer(rows + (row + 2) * count), a3 = UnsafeRawPointer(rows + (row + 3) * count)
                var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), s2 = SIMD16<Float>(), s3 = SIMD16<Float>()
                var offset = 0
                while offset < vectorEnd * 4 {
                    let v = rawVector.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                    s0 += a0.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self) * v
                    s1 += a1.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self) * v
                    s2 += a2.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self) * v
                    s3 += a3.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self) * v
                    offset += 64
                }
                out[row] = tail(reduce(s0), rows + row * count, vector, from: vectorEnd, count: count)
                out[row + 1] = tail(reduce(s1), rows + (row + 1) * count, vector, from: vectorEnd, count: count)
                out[row + 2] = tail(reduce(s2), rows + (row + 2) * count, vector, from: vectorEnd, count: count)
                out[row + 3] = tail(reduce(s3), rows + (row + 3) * count, vector, from: vectorEnd, count: count)
                row += 4
            }
        }
        while row < rowCount {
            out[row] = dot(rows + row * count, vector, count: count)
            row += 1
        }
    }

    /// The pairwise horizontal sum `dot` ends its vector part with.
    @inlinable @inline(__always)
    static func reduce(_ accumulator: SIMD16<Float>) -> Float {
        let eight = accumulator.lowHalf + accumulator.highHalf
        let four = eight.lowHalf + eight.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    /// `total` plus the scalar products from `start` to `count`, in order (the tail of `dot`).
    @inlinable @inline(__always)
    static func tail(_ total: Float, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, from start: Int, count: Int) -> Float {
        var total = total
        for index in start..<count { total += a[index] * b[index] }
        return total
    }

    /// y[i] += alpha · x[i] for i in 0..<count.
    @inlinable @inline(__always)
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for index in 0..<count { y[index] += alpha * x[index] }
    }
}
