#if canImport(Glibc)
    import Glibc
#endif

/// Process-wide allocator settings for training loops.
///
/// A training step allocates and frees the same large tensors (activations, gradients, a softmax's
/// logits) over and over. glibc returns freed blocks above its thresholds to the kernel and faults
/// them back in on the next step; in the Linear benchmark (batch 1024, 256 → 256) that page-fault
/// traffic costs a third of the step. Worse, a thread other than the main one gets a heap of its own
/// that never holds a block over 64 MiB: such blocks are mapped from the kernel on every call, whatever
/// the threshold (an async command's work runs on such threads; SASRec's cross-entropy over ml-100k's
/// items faulted in 330 MB a step, and the kernel's time equalled the training's).
/// `retainFreedMemory` puts every thread on the main heap, raises the threshold and stops trimming,
/// so that freed blocks stay in the heap for reuse; RSS then plateaus at the working set's peak
/// instead of breathing with every step.
public enum AllocatorTuning {
    /// Blocks up to `bytes` come from (and return to) the one shared heap, which is not trimmed below
    /// its peak. A no-op off glibc. Call before other threads allocate (first thing in `main`): a thread
    /// that already has a heap of its own keeps it.
    public static func retainFreedMemory(upTo bytes: Int = 1 << 30) {
        #if canImport(Glibc)
            // mallopt lives in <malloc.h>, which Swift's Glibc module does not export: look it up.
            // Parameter numbers from glibc's malloc.h: M_TRIM_THRESHOLD −1, M_MMAP_THRESHOLD −3,
            // M_ARENA_MAX −8.
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
            let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
            _ = mallopt(-8, 1)
            _ = mallopt(-3, Int32(clamping: bytes))
            _ = mallopt(-1, Int32.max)
        #endif
    }
}
