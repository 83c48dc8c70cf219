/// Row reductions and the exponential for softmax-shaped work: a `[batch, items]` tensor of logits
/// over a whole catalogue is tens of millions of elements per step, and scalar loops over it (one
/// dependent add at a time, one libm `expf` call per element) cost more than the GEMM that made it.
///
/// Sums keep sixteen partial sums, as `VectorKernels.dot` does, so they differ from a sequential sum
/// by rounding only and are the same on every run.
public enum RowKernels {
    /// Σ a[i] for i in 0..<count.
    @inlinable
    public static func sum(_ a: UnsafePointer<Float>, count: Int) -> Float {
        var index = 0
        var total: Float = 0
        if count >= 16 {
            var low = SIMD8<Float>()
            var high = SIMD8<Float>()
            let raw = UnsafeRawPointer(a)
            while index + 16 <= count {
                low += raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self)
                high += raw.loadUnaligned(fromByteOffset: index * 4 + 32, as: SIMD8<Float>.self)
                index += 16
            }
            total = VectorKernels.reduce(low, high)
        }
        while index < count {
            total += a[index]
            index += 1
        }
        return total
    }

    /// The largest of a[0..<count] (−∞ for none).
    @inlinable
    public static func max(_ a: UnsafePointer<Float>, count: Int) -> Float {
        var index = 0
        var best = -Float.infinity
        if count >= 8 {
            var lanes = SIMD8<Float>(repeating: -.infinity)
            let raw = UnsafeRawPointer(a)
            while index + 8 <= count {
                let values = raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self)
                lanes.replace(with: values, where: values .> lanes)
                index += 8
            }
            best = lanes.max()
        }
        while index < count {
            best = Swift.max(best, a[index])
            index += 1
        }
        return best
    }

    /// Σ exp(a[i] − shift), and, when `out` is given, out[i] = exp(a[i] − shift) (`out` may be `a`).
    @inlinable
    public static func sumOfExponentials(
        _ a: UnsafePointer<Float>, count: Int, minus shift: Float, writingTo out: UnsafeMutablePointer<Float>? = nil
    ) -> Float {
        var index = 0
        var lanes = SIMD8<Float>()
        let raw = UnsafeRawPointer(a)
        let shifts = SIMD8<Float>(repeating: shift)
        while index + 8 <= count {
            let e = exp(raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self) - shifts)
            if let out {
                UnsafeMutableRawPointer(out).storeBytes(of: e, toByteOffset: index * 4, as: SIMD8<Float>.self)
            }
            lanes += e
            index += 8
        }
        if index < count {
            // The tail through the same vector code, padded with −∞ (exp = 0).
            var tail = SIMD8<Float>(repeating: -.infinity)
            for lane in 0..<(count - index) { tail[lane] = a[index + lane] }
            let e = exp(tail - shifts)
            if let out { for lane in 0..<(count - index) { out[index + lane] = e[lane] } }
            lanes += e
        }
        return lanes.sum()
    }

    /// eˣ for eight lanes: Cody–Waite reduction x = n·ln 2 + r with |r| ≤ ½ ln 2, Cephes' degree-6
    /// polynomial for eʳ, and 2ⁿ from the exponent bits (applied in two halves so that every
    /// intermediate stays normal). Within 2 ulp of the correctly rounded result over the whole
    /// range (test against libm); 0 below −104, +∞ above 88.72, NaN for NaN. Written out so that the
    /// result is the same on every platform, unlike libm's.
    @inlinable
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let limitHigh: Float = 88.722_84
        let limitLow: Float = -104
        var clamped = x // (SIMD `clamped` goes through generic pointwise min/max)
        clamped.replace(with: SIMD8(repeating: limitHigh), where: x .> limitHigh)
        clamped.replace(with: SIMD8(repeating: limitLow), where: x .< limitLow)
        clamped.replace(with: 0, where: x .!= x)
        // n = round(x / ln 2) without a float→int conversion (which Swift's SIMD types do lane by
        // lane): adding 1.5·2²³ leaves n in the low mantissa bits, rounded to nearest even.
        let magic: Float = 12_582_912
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        var r = clamped - n * 0.693_359_375 // ln 2, high part (exact in n·ln2_hi)
        r = r + n * 2.121_944_4e-4 // minus ln 2's low part (−2.12194440e-4)
        let r2 = r * r
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 0.166_666_655
        p = p * r + 0.500_000_012
        let y = p * r2 + r + 1
        let exponent =
            unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- SIMD8(repeating: Int32(bitPattern: magic.bitPattern))
        let half = exponent &>> SIMD8(repeating: 1)
        let rest = exponent &- half
        let scaleA = unsafeBitCast((half &+ SIMD8(repeating: 127)) &<< SIMD8(repeating: 23), to: SIMD8<Float>.self)
        let scaleB = unsafeBitCast((rest &+ SIMD8(repeating: 127)) &<< SIMD8(repeating: 23), to: SIMD8<Float>.self)
        var result = y * scaleA * scaleB
        result.replace(with: SIMD8(repeating: .infinity), where: x .> limitHigh)
        result.replace(with: SIMD8(repeating: 0), where: x .< limitLow)
        result.replace(with: x, where: x .!= x)
        return result
    }
}
