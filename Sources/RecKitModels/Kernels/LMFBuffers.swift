import RecKitTensor

/// Pointers for the parallel half-steps: each chunk writes only its own rows.
struct LMFBuffers: @unchecked Sendable {
    let target: UnsafeMutablePointer<Float>
    let squares: UnsafeMutablePointer<Float>
    let fixed: UnsafePointer<Float>
}
