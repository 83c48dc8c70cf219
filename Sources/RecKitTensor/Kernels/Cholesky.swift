/// Dense symmetric positive-definite solves in Double for the small systems of alternating least
/// squares (one per user or item, k ≤ a few hundred), where a LAPACK call per row costs more than
/// the arithmetic.
public enum Cholesky {
    /// Solves A x = b in place: `a` (row-major `n × n`, lower triangle read) becomes L of A = L Lᵀ and
    /// `b` becomes x. A pivot that is not positive (a singular or indefinite A) is replaced by 1e-6
    /// rather than failing, which regularised ALS systems never need.
    /// - Complexity: O(n³ / 3).
    @inlinable
    public static func solve(_ a: UnsafeMutablePointer<Double>, _ b: UnsafeMutablePointer<Double>, n: Int) {
        for column in 0..<n {
            let columnRow = a + column * n
            let diagonal = a[column * n + column] - dot(columnRow, columnRow, count: column)
            let root = diagonal > 1e-12 ? diagonal.squareRoot() : 1e-6
            a[column * n + column] = root
            for row in (column + 1)..<max(column + 1, n) {
                a[row * n + column] = (a[row * n + column] - dot(a + row * n, columnRow, count: column)) / root
            }
        }
        // L z = b, then Lᵀ x = z.
        for row in 0..<n {
            b[row] = (b[row] - dot(a + row * n, b, count: row)) / a[row * n + row]
        }
        for row in stride(from: n - 1, through: 0, by: -1) {
            var value = b[row]
            for p in (row + 1)..<max(row + 1, n) { value -= a[p * n + row] * b[p] }
            b[row] = value / a[row * n + row]
        }
    }

    /// Σ a[i]·b[i] with eight partial sums in two vector registers (a fixed order: the same result
    /// on every run).
    @inlinable @inline(__always)
    static func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, count: Int) -> Double {
        var low = SIMD4<Double>()
        var high = SIMD4<Double>()
        let rawA = UnsafeRawPointer(a)
        let rawB = UnsafeRawPointer(b)
        var index = 0
        while index + 8 <= count {
            low +=
                rawA.loadUnaligned(fromByteOffset: index * 8, as: SIMD4<Double>.self)
                * rawB.loadUnaligned(fromByteOffset: index * 8, as: SIMD4<Double>.self)
            high +=
                rawA.loadUnaligned(fromByteOffset: index * 8 + 32, as: SIMD4<Double>.self)
                * rawB.loadUnaligned(fromByteOffset: index * 8 + 32, as: SIMD4<Double>.self)
            index += 8
        }
        let lanes = low + high
        var total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
        while index < count {
            total += a[index] * b[index]
            index += 1
        }
        return total
    }
}
