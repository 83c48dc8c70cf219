import Testing
import _RecKitTestSupport

@testable import RecKitTensor

@Suite struct BLASLibraryTests {
    /// OpenBLAS's generic fallback on a CPU it does not know is replaced by the family the CPU's
    /// flags support; its own choices and an explicit OPENBLAS_CORETYPE are kept.
    @Test func genericKernelsAreReplacedByWhatTheCPUSupports() {
        let avx512: Set = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq"]
        let avx2: Set = ["sse4_2", "avx", "avx2", "fma"]
        #expect(BLASLibrary.betterFamily(core: "Prescott", flags: avx512, environment: [:]) == "SkylakeX")
        #expect(BLASLibrary.betterFamily(core: "Prescott", flags: avx2, environment: [:]) == "Haswell")
        #expect(BLASLibrary.betterFamily(core: "Nehalem", flags: ["sse4_2", "avx"], environment: [:]) == nil)
        #expect(BLASLibrary.betterFamily(core: "Haswell", flags: avx512, environment: [:]) == nil)
        #expect(BLASLibrary.betterFamily(core: "SkylakeX", flags: avx512, environment: [:]) == nil)
        #expect(
            BLASLibrary.betterFamily(core: "Prescott", flags: avx512, environment: ["OPENBLAS_CORETYPE": "Prescott"])
                == nil)
    }

    /// A restart sets the kernels and the idle workers' timeout unless they are set, and nothing once
    /// both are (so the restarted program does not restart again).
    @Test func restartSetsOnlyWhatIsMissing() {
        let avx2: Set = ["sse4_2", "avx", "avx2", "fma"]
        #expect(
            BLASLibrary.environmentChanges(core: "Prescott", flags: avx2, environment: [:])
                == ["OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_THREAD_TIMEOUT": "4"])
        #expect(
            BLASLibrary.environmentChanges(core: "Haswell", flags: avx2, environment: [:])
                == ["OPENBLAS_THREAD_TIMEOUT": "4"])
        #expect(
            BLASLibrary.environmentChanges(core: "Haswell", flags: avx2, environment: ["OPENBLAS_THREAD_TIMEOUT": "20"])
                .isEmpty)
        let restarted = ["OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_THREAD_TIMEOUT": "4"]
        #expect(BLASLibrary.environmentChanges(core: "Prescott", flags: avx2, environment: restarted).isEmpty)
    }

    /// Σ w_j y_j y_jᵀ against a Double reference, with negative and zero weights.
    @Test func weightedGramMatchesTheDefinition() {
        let (count, width) = (37, 9)
        var generator = SplitMix64(seed: 4)
        let rows = (0..<(count * width)).map { _ in generator.nextUnitFloat() - 0.5 }
        let weights = (0..<count).map { j in j % 5 == 0 ? 0 : generator.nextUnitFloat() * 4 - 1 }
        var scratch = [Float](repeating: .nan, count: count * width)
        var out = [Float](repeating: .nan, count: width * width)
        WeightedGram.compute(
            rows: rows, weights: weights, count: count, width: width, scratch: &scratch, into: &out)
        for r in 0..<width {
            for c in 0..<width {
                var expected = 0.0
                for j in 0..<count {
                    expected += Double(weights[j]) * Double(rows[j * width + r]) * Double(rows[j * width + c])
                }
                #expect(abs(Double(out[r * width + c]) - expected) < 1e-4, "[\(r), \(c)]")
            }
        }
    }

    /// One BLAS thread inside, nested uses counted, the thread count restored after the last.
    @Test func singleThreadedRestoresTheThreadCount() {
        let before = BLASLibrary.threadCount
        BLASLibrary.singleThreaded {
            #expect(BLASLibrary.threadCount == 1)
            BLASLibrary.singleThreaded { #expect(BLASLibrary.threadCount == 1) }
            #expect(BLASLibrary.threadCount == 1)
        }
        #expect(BLASLibrary.threadCount == before)
        #expect(!BLASLibrary.coreName.isEmpty)
    }
}
