#if canImport(Glibc)
    import Glibc
#endif

/// Process-wide allocator settings for training loops.
///
/// A training step allocates and frees the same large tensors (activations, gradients) over and
/// over. glibc returns freed blocks above its thresholds to the kernel and faults them back in on
/// the next step; in the Linear benchmark (batch 1024, 256 → 256) that page-fault traffic costs a
/// third of the step. `retainFreedMemory` raises both thresholds so that freed blocks stay in the
/// heap for reuse; RSS then plateaus at the working set instead of breathing with every step.
public enum AllocatorTuning {
    /// Blocks up to `bytes` come from (and return to) the heap, and the heap is trimmed only when
    /// more than `2 · bytes` is free. A no-op off glibc.
    public static func retainFreedMemory(upTo bytes: Int = 256 << 20) {
        #if canImport(Glibc)
            // mallopt lives in <malloc.h>, which Swift's Glibc module does not export: look it up.
            // Parameter numbers from glibc's malloc.h: M_TRIM_THRESHOLD −1, M_MMAP_THRESHOLD −3.
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
            let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
            _ = mallopt(-3, Int32(clamping: bytes))
            _ = mallopt(-1, Int32(clamping: 2 * bytes))
        #endif
    }
}
