import Foundation

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
        gemm(
            a, b, c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, lda: transposeA ? m : k,
            ldb: transposeB ? k : n, ldc: n, beta: beta)
    }

    /// `gemm` on blocks inside larger row-major matrices: row strides `lda`, `ldb`, `ldc` (one head's
    /// columns of a `[rows, width]` matrix have stride `width`).
    static func gemm(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, lda: Int, ldb: Int, ldc: Int, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            if beta == 0 { for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) } }
            return
        }
        BLASLibrary.call(work: m * n * k) {
            cblas_sgemm(
                CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }
}

/// Σ_j w_j · y_j y_jᵀ over rows y_j, through one sgemm: the rank-n update at the heart of exact ALS
/// solves (Yᵀ C Y), where a scalar loop costs n·k² multiply-adds one at a time.
public enum WeightedGram {
    /// Writes Σ_j weights[j] · rows[j] rows[j]ᵀ (`width × width`, row-major) into `out`, for the
    /// `count` rows of `width` floats at `rows`; `scratch` holds at least `count · width` floats.
    /// Negative weights are allowed.
    public static func compute(
        rows: UnsafePointer<Float>, weights: UnsafePointer<Float>, count: Int, width: Int,
        scratch: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>
    ) {
        for j in 0..<count {
            let w = weights[j]
            let source = rows + j * width
            let target = scratch + j * width
            for f in 0..<width { target[f] = w * source[f] }
        }
        BLAS.gemm(rows, scratch, out, m: width, n: width, k: count, transposeA: true, transposeB: false)
    }
}

/// What the BLAS library is running on. Optimised BLAS kernels differ by CPU (OpenBLAS picks AVX2
/// "Haswell" kernels on AMD Zen and older Intel, AVX-512 "SkylakeX"/"Cooperlake" ones on newer Intel),
/// and different kernels sum in different orders: a network trained for many epochs through sgemm
/// (NCF's MLP) ends a few thousandths apart from one kernel to another, bit-identical on each.
/// `OPENBLAS_CORETYPE=Haswell` (set before the process starts) picks the kernels explicitly.
public enum BLASLibrary {
    /// The kernel family in use (`Haswell`, `SkylakeX`, …; `Accelerate` on macOS).
    public static var coreName: String {
        #if canImport(Accelerate)
            return "Accelerate"
        #else
            return openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        #endif
    }

    /// BLAS's own worker threads (1 with Accelerate, which manages its own).
    public static var threadCount: Int {
        #if canImport(Accelerate)
            return 1
        #else
            return Int(openblas_get_num_threads())
        #endif
    }

    // BLAS calls made from inside our own parallel loops (one small product per row, per worker) must
    // not start BLAS threads of their own: two workers each waking OpenBLAS's pool oversubscribe the
    // cores (exact iALS solves on ml-20m-like: 11.8 s an iteration, 5.0 s with BLAS on one thread).
    //
    // Threaded OpenBLAS calls from several threads at once can wait on each other forever (OpenBLAS
    // 0.3.21: two trainings' threaded sgemm calls hung in exec_blas in a test run), and so can a call
    // in flight while another thread changes the thread count. So a product large enough for BLAS to
    // thread runs under `callLock`, one at a time (each still on all of BLAS's threads), and the
    // thread count only changes under that lock too. Inside `singleThreaded` (BLAS on one thread),
    // calls run concurrently without the lock, counted, and the count is restored once they are done.
    private static let state = NSCondition()
    private static let callLock = NSLock()
    nonisolated(unsafe) private static var depth = 0
    nonisolated(unsafe) private static var unlockedCalls = 0
    nonisolated(unsafe) private static var saved: Int32 = 0
    /// OpenBLAS runs products of m·n·k up to 65536 · GEMM_MULTITHREAD_THRESHOLD (4 by default) on the
    /// caller's thread; below the smallest such bound no call touches its thread pool.
    private static let threadedWork = 65_536

    /// Runs one BLAS call of `work` multiply-adds under the rules above.
    static func call(work: Int, _ body: () -> Void) {
        #if canImport(Accelerate)
            body()
        #else
            guard work > threadedWork else {
                body()
                return
            }
            state.lock()
            if depth > 0 {
                unlockedCalls += 1
                state.unlock()
                body()
                state.lock()
                unlockedCalls -= 1
                if unlockedCalls == 0 { state.broadcast() }
                state.unlock()
            } else {
                state.unlock()
                callLock.lock()
                body()
                callLock.unlock()
            }
        #endif
    }

    /// Sets BLAS's own worker threads for the rest of the process (a server's start-up), once no
    /// threaded call is in flight; not inside `singleThreaded`.
    public static func setThreadCount(_ count: Int) {
        #if !canImport(Accelerate)
            state.lock()
            defer { state.unlock() }
            precondition(depth == 0, "setThreadCount inside singleThreaded")
            callLock.lock()
            openblas_set_num_threads(Int32(max(1, count)))
            callLock.unlock()
        #endif
    }

    /// Runs `body` with the BLAS library on one thread, restoring its thread count afterwards
    /// (nested and concurrent uses are counted; the last one out restores, once the calls made on one
    /// thread have returned). Other BLAS callers in the process run on one thread meanwhile.
    public static func singleThreaded<T>(_ body: () throws -> T) rethrows -> T {
        #if canImport(Accelerate)
            return try body()
        #else
            state.lock()
            if depth == 0 {
                callLock.lock() // no threaded call is in flight while the count changes
                saved = openblas_get_num_threads()
                openblas_set_num_threads(1)
                callLock.unlock()
            }
            depth += 1
            state.unlock()
            defer {
                state.lock()
                depth -= 1
                if depth == 0 {
                    while unlockedCalls > 0 { state.wait() }
                    callLock.lock()
                    openblas_set_num_threads(saved)
                    callLock.unlock()
                }
                state.unlock()
            }
            return try body()
        #endif
    }
}

extension BLASLibrary {
    /// Kernel families OpenBLAS falls back to on a CPU it does not know (pre-AVX designs).
    static let genericFamilies: Set<String> = [
        "prescott", "core2", "penryn", "dunnington", "nehalem", "katmai", "coppermine", "northwood", "banias",
        "unknown",
    ]

    /// The kernel family to ask OpenBLAS for, or nil to keep its own choice: only when it fell back to
    /// generic kernels (`core`; OpenBLAS 0.3.21 does not know CPUs newer than itself, such as Intel's
    /// family 6 model 207) on a CPU whose `flags` support AVX-512 (SkylakeX) or AVX2 with FMA
    /// (Haswell), and nobody chose with `OPENBLAS_CORETYPE`.
    static func betterFamily(core: String, flags: Set<String>, environment: [String: String]) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil, genericFamilies.contains(core.lowercased()) else { return nil }
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// How long, as a power of two of CPU cycles, OpenBLAS's idle workers spin (calling sched_yield)
    /// before they sleep: its least. By default (2^28 cycles) they spin on between products and take the
    /// cores from RecKit's own threads, which run the element-wise work in between (a fifth of a SASRec
    /// epoch's samples were in sched_yield); sleeping at once took a SASRec epoch on ml-latest-small from
    /// 1.15× to 0.95× PyTorch's and GRU4Rec's on YooChoose from 0.73× to 0.62× (2 threads each).
    static let threadTimeout = "4"

    /// The variables to set before OpenBLAS loads: `OPENBLAS_CORETYPE` when it fell back to generic
    /// kernels (`betterFamily`) and `OPENBLAS_THREAD_TIMEOUT` (`threadTimeout`); a variable already set is
    /// left alone.
    static func environmentChanges(core: String, flags: Set<String>, environment: [String: String]) -> [String: String]
    {
        var changes: [String: String] = [:]
        if let family = betterFamily(core: core, flags: flags, environment: environment) {
            changes["OPENBLAS_CORETYPE"] = family
        }
        if environment["OPENBLAS_THREAD_TIMEOUT"] == nil { changes["OPENBLAS_THREAD_TIMEOUT"] = threadTimeout }
        return changes
    }

    /// Starts this program again with the `environmentChanges` OpenBLAS reads only when it is loaded:
    /// the kernels the CPU supports (several times faster matrix products, and the kernels RecKit's
    /// BLAS-dependent numbers were measured with) and workers that sleep when idle. Call first thing in
    /// `main`; returns when nothing needs changing (or the restart fails).
    public static func restartWithOpenBLASSettingsIfNeeded() {
        #if os(Linux)
            var flags: Set<String> = []
            #if arch(x86_64)
                if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
                    let line = cpu.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
                {
                    flags = Set(
                        line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" }).map(String.init))
                }
            #endif
            let changes = environmentChanges(
                core: coreName, flags: flags, environment: ProcessInfo.processInfo.environment)
            guard !changes.isEmpty else { return }
            for (name, value) in changes { setenv(name, value, 1) }
            execv("/proc/self/exe", CommandLine.unsafeArgv)
        #endif
    }
}
