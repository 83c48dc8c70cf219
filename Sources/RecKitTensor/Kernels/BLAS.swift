#if canImport(Accelerate)
    import Accelerate
#else
    import CBLAS
#endif

/// The only caller of BLAS. Row-major single precision.
enum BLAS {
    /// C[m×n] = A[m×k] · B (B is [k×n], or [n×k] when `transposeB`), overwriting C (or added to
    /// `beta`·C).
    /// - Complexity: O(m·n·k), multithreaded by the BLAS library.
    static func gemm(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            if beta == 0 { c.update(repeating: 0, count: m * n) }
            return
        }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), 1, a, Int32(transposeA ? m : k), b, Int32(transposeB ? k : n), beta, c,
            Int32(n))
    }
}
