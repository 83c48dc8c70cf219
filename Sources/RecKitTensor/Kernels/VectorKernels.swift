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
            let eight = accumulator.lowHalf + accumulator.highHalf
            let four = eight.lowHalf + eight.highHalf
            let two = four.lowHalf + four.highHalf
            total = two[0] + two[1]
        }
        while index < count {
            total += a[index] * b[index]
            index += 1
        }
        return total
    }

    /// y[i] += alpha · x[i] for i in 0..<count.
    @inlinable @inline(__always)
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for index in 0..<count { y[index] += alpha * x[index] }
    }
}
