import ArgumentParser
import Foundation
import RecKit

#if canImport(Accelerate)
    import Accelerate
#else
    import CBLAS
#endif

/// The deep-learning engine: a Linear layer's forward + backward against raw sgemm in the same
/// run, an EmbeddingBag + MLP training step, and memory over many steps.
struct NNBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nn",
        abstract:
            "Linear forward+backward vs cblas_sgemm GFLOP/s; EmbeddingBag + 3-layer MLP steps/s; RSS over many steps.")

    @Option var batch = 1024
    @Option var width = 256
    @Option(help: "Timed repetitions of the Linear step (and of sgemm ×3).") var repeats = 200
    @Option(help: "Training steps of the EmbeddingBag + MLP model.") var steps = 200
    @Option(help: "Steps for the memory check (RSS at 10 % and at the end).") var memorySteps = 10_000
    @Option(help: "Catalogue-softmax head: items (the Last.fm catalogue by default).") var headItems = 17_632
    @Option(help: "Catalogue-softmax head: users per batch and hidden width (Mult-VAE's 500 and 600).") var headBatch =
        500
    @Option var headWidth = 600
    @Option(help: "Timed steps of the catalogue-softmax head.") var headSteps = 20

    func run() throws {
        // First with the allocator's defaults, then retaining freed memory (see AllocatorTuning).
        try linear(tuned: false)
        AllocatorTuning.retainFreedMemory()
        try linear(tuned: true)
        try softmaxHead()
        try embeddingModel(steps: steps, reportMemory: false)
        if memorySteps > 0 { try embeddingModel(steps: memorySteps, reportMemory: true) }
    }

    func linear(tuned: Bool) throws {
        let m = batch
        let n = width
        let k = width
        var generator = SplitMix64(seed: 1)
        let a = (0..<(m * k)).map { _ in generator.nextUnitFloat() - 0.5 }
        let b = (0..<(k * n)).map { _ in generator.nextUnitFloat() - 0.5 }
        var c = [Float](repeating: 0, count: m * n)
        let flopsPerGemm = 2.0 * Double(m * n * k)
        // Reference: three raw sgemm calls per repetition (the forward and the two backward products).
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a.baseAddress,
                        Int32(k), b.baseAddress, Int32(n), 0, c.baseAddress, Int32(n))
                }
            }
        }
        let gemmSeconds = time {
            for _ in 0..<(3 * repeats) {
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        c.withUnsafeMutableBufferPointer { c in
                            cblas_sgemm(
                                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                                a.baseAddress, Int32(k), b.baseAddress, Int32(n), 0, c.baseAddress, Int32(n))
                        }
                    }
                }
            }
        }
        let layer = Linear(k, n, seed: 2)
        let x = Variable(Tensor(shape: [m, k], scalars: a), requiresGradient: true)
        let seed = Tensor(repeating: 1, shape: [m, n])
        func step() {
            layer.zeroGradients()
            x.zeroGradient()
            layer(x).backward(seed: seed)
        }
        step()
        let layerSeconds = time { for _ in 0..<repeats { step() } }
        let gemmRate = flopsPerGemm * 3 * Double(repeats) / gemmSeconds / 1e9
        let layerRate = flopsPerGemm * 3 * Double(repeats) / layerSeconds / 1e9
        emit([
            "benchmark": "nn-linear", "allocator": tuned ? "retain freed memory" : "default", "batch": m, "inputs": k,
            "outputs": n, "repeats": repeats,
            "sgemm_gflops": gemmRate, "linear_forward_backward_gflops": layerRate,
            "ratio_to_sgemm": layerRate / gemmRate,
            "linear_step_seconds": layerSeconds / Double(repeats),
        ])
    }

    /// A softmax over the whole catalogue, as Mult-VAE's decoder (and any sampled-free next-item
    /// model) trains it: Linear(width → items), multinomial log-likelihood against sparse counts,
    /// backward. The reference is the step's three GEMMs as raw sgemm in the same run; the gap is
    /// what the element-wise passes over the [batch, items] logits cost.
    func softmaxHead() throws {
        let m = headBatch
        let k = headWidth
        let n = headItems
        var generator = SplitMix64(seed: 7)
        let hidden = Tensor(shape: [m, k], scalars: (0..<(m * k)).map { _ in generator.nextUnitFloat() - 0.5 })
        var counts = Tensor.zeros([m, n])
        for row in 0..<m { for _ in 0..<40 { counts.scalars[row * n + generator.nextIndex(below: n)] = 1 } }
        let layer = Linear(k, n, seed: 8)
        let x = Variable(hidden, requiresGradient: true)
        func step() {
            layer.zeroGradients()
            x.zeroGradient()
            Loss.multinomialLogLikelihood(logits: layer(x), counts: counts).backward()
        }
        step()
        let stepSeconds = time { for _ in 0..<headSteps { step() } }
        let weights = layer.weight.value.scalars
        var logits = [Float](repeating: 0, count: m * n)
        var weightGradient = [Float](repeating: 0, count: k * n)
        var inputGradient = [Float](repeating: 0, count: m * k)
        let gemmSeconds = time {
            for _ in 0..<headSteps {
                hidden.scalars.withUnsafeBufferPointer { a in
                    weights.withUnsafeBufferPointer { b in
                        logits.withUnsafeMutableBufferPointer { c in
                            weightGradient.withUnsafeMutableBufferPointer { gw in
                                inputGradient.withUnsafeMutableBufferPointer { gx in
                                    // Forward [m,k]·[k,n]; weight gradient [k,m]·[m,n]; input gradient [m,n]·[n,k].
                                    cblas_sgemm(
                                        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                                        a.baseAddress, Int32(k), b.baseAddress, Int32(n), 0, c.baseAddress, Int32(n))
                                    cblas_sgemm(
                                        CblasRowMajor, CblasTrans, CblasNoTrans, Int32(k), Int32(n), Int32(m), 1,
                                        a.baseAddress, Int32(k), c.baseAddress, Int32(n), 0, gw.baseAddress, Int32(n))
                                    cblas_sgemm(
                                        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(k), Int32(n), 1,
                                        c.baseAddress, Int32(n), b.baseAddress, Int32(n), 0, gx.baseAddress, Int32(k))
                                }
                            }
                        }
                    }
                }
            }
        }
        emit([
            "benchmark": "nn-softmax-head", "batch": m, "inputs": k, "items": n, "steps": headSteps,
            "step_seconds": stepSeconds / Double(headSteps), "three_sgemm_seconds": gemmSeconds / Double(headSteps),
            "ratio_to_sgemm": gemmSeconds / stepSeconds,
        ])
    }

    /// Users and items (two 100k × 64 tables): a user embedding, the mean of 20 history items and
    /// the candidate item (both from the item table), concatenated into a 3-layer MLP with a
    /// logistic loss; lazy Adam on the sparse rows.
    func embeddingModel(steps: Int, reportMemory: Bool) throws {
        let rows = 100_000
        let dimension = 64
        let history = 20
        let users = Embedding(rows, dimension, seed: 1)
        let items = EmbeddingBag(rows, dimension, pooling: .mean, seed: 2)
        let mlp = MLP([3 * dimension, 256, 128, 1], seed: 4)
        let parameters = (users.parameters + items.parameters + mlp.parameters).map(\.variable)
        let optimizer = Adam(parameters, learningRate: 0.001)
        var generator = SplitMix64(seed: 5)
        var rssAtTenth = 0
        var losses: [Float] = []
        let seconds = time {
            for step in 0..<steps {
                let userIndices = (0..<batch).map { _ in Int32(generator.nextIndex(below: rows)) }
                let bags = (0..<(batch * history)).map { _ in Int32(generator.nextIndex(below: rows)) }
                let offsets = (0...batch).map { $0 * history }
                let candidates = (0..<batch).map { _ in Int32(generator.nextIndex(below: rows)) }
                let labels = Tensor(
                    shape: [batch, 1], scalars: (0..<batch).map { _ in Float(generator.nextIndex(below: 2)) })
                optimizer.zeroGradients()
                let features = Variable.concatenatingColumns([
                    users(userIndices), items(bags, offsets: offsets), items.table.gathering(rows: candidates),
                ])
                let loss = Loss.binaryCrossEntropy(logits: mlp(features), targets: labels)
                loss.backward()
                optimizer.step()
                if step == steps / 10 { rssAtTenth = currentRSS() }
                if step % max(1, steps / 10) == 0 { losses.append(loss.value.scalar) }
            }
        }
        var result: [String: Any] = [
            "benchmark": reportMemory ? "nn-memory" : "nn-embedding-bag-mlp", "batch": batch,
            "tables": "2 × 100000 × 64",
            "history": history, "mlp": [3 * dimension, 256, 128, 1], "steps": steps,
            "steps_per_second": Double(steps) / seconds,
            "examples_per_second": Double(steps * batch) / seconds,
        ]
        if reportMemory {
            let end = currentRSS()
            result["rss_bytes_at_10_percent"] = rssAtTenth
            result["rss_bytes_at_end"] = end
            result["rss_growth_bytes"] = end - rssAtTenth
        }
        emit(result)
    }
}

/// The resident set size now (Linux /proc; 0 elsewhere).
func currentRSS() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
        let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
    else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
