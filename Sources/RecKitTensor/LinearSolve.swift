/// Dense linear solves that models need outside tensors: small systems, in double precision (their
/// conditioning is more than Float32 carries), in plain Swift so that the result never depends on
/// the BLAS library's thread count or on other work in the process.
public enum LinearSolve {
    /// x with A x = b for a symmetric positive-definite `n × n` A (row-major; the lower triangle is
    /// read), by Cholesky: A = L Lᵀ, then L y = b and Lᵀ x = y. Nil when A is not positive definite.
    /// - Complexity: n³/6 multiply-adds, as dot products of contiguous row prefixes.
    public static func symmetricPositiveDefinite(_ matrix: [Double], n: Int, _ b: [Double]) -> [Double]? {
        precondition(matrix.count == n * n && b.count == n, "a \(n)×\(n) system needs n² and n values")
        guard let factor = cholesky(matrix, n: n) else { return nil }
        var x = b
        factor.withUnsafeBufferPointer { l in
            for i in 0..<n { // L y = b
                var sum = x[i]
                for k in 0..<i { sum -= l[i * n + k] * x[k] }
                x[i] = sum / l[i * n + i]
            }
            for i in stride(from: n - 1, through: 0, by: -1) { // Lᵀ x = y
                var sum = x[i]
                for k in (i + 1)..<max(i + 1, n) { sum -= l[k * n + i] * x[k] }
                x[i] = sum / l[i * n + i]
            }
        }
        return x
    }

    /// The lower-triangular L with A = L Lᵀ of a symmetric positive-definite `n × n` A (row-major;
    /// the lower triangle is read; L's upper triangle holds A's). Nil when A is not positive definite.
    public static func cholesky(_ matrix: [Double], n: Int) -> [Double]? {
        precondition(matrix.count == n * n, "a \(n)×\(n) matrix needs n² values")
        var factor = matrix
        let positive = factor.withUnsafeMutableBufferPointer { l -> Bool in
            for i in 0..<n {
                for j in 0...i {
                    var sum = l[i * n + j]
                    for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
                    if i == j {
                        guard sum > 0 else { return false }
                        l[i * n + i] = sum.squareRoot()
                    } else {
                        l[i * n + j] = sum / l[j * n + j]
                    }
                }
            }
            return true
        }
        return positive ? factor : nil
    }
}
