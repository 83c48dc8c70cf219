#if canImport(Accelerate)
    import Accelerate
#else
    import CBLAS
#endif

/// The only caller of LAPACK.
enum LAPACK {
    /// Inverts a symmetric positive-definite `n × n` matrix in place (both triangles filled).
    /// - Returns: false when the matrix is not positive definite.
    /// - Complexity: O(n³).
    static func invertSymmetricPositiveDefinite(_ matrix: inout [Float], n: Int) -> Bool {
        guard n > 0 else { return true }
        var info: Int32 = 0
        var order = Int32(n)
        var lead = Int32(n)
        // Row-major data seen as column-major is the transpose, which for a symmetric matrix is
        // itself: ask for the upper triangle of the column-major view and mirror afterwards.
        var uplo = CChar(UInt8(ascii: "U"))
        matrix.withUnsafeMutableBufferPointer { buffer in
            spotrf_(&uplo, &order, buffer.baseAddress!, &lead, &info)
            if info == 0 { spotri_(&uplo, &order, buffer.baseAddress!, &lead, &info) }
        }
        guard info == 0 else { return false }
        // Column-major upper = row-major lower: copy it to the upper triangle.
        for row in 0..<n {
            for column in (row + 1)..<max(row + 1, n) { matrix[row * n + column] = matrix[column * n + row] }
        }
        return true
    }
}

extension Tensor {
    /// The inverse of a symmetric positive-definite matrix (Cholesky), or nil if it is not one.
    public func invertedSymmetricPositiveDefinite() -> Tensor? {
        precondition(shape.count == 2 && shape[0] == shape[1], "inverse of a non-square tensor \(shape)")
        var values = scalars
        guard LAPACK.invertSymmetricPositiveDefinite(&values, n: shape[0]) else { return nil }
        return Tensor(shape: shape, scalars: values)
    }
}
