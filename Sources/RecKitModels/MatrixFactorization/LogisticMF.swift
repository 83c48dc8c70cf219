import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Logistic matrix factorisation (Johnson, "Logistic Matrix Factorization for Implicit Feedback
/// Data", NIPS 2014 workshop): P(u likes i) = σ(x_u·y_i + β_u + β_i), with each observed pair
/// weighted by confidence 1 + α·r_ui and unobserved pairs represented by sampled negatives.
///
/// Trained by alternating AdaGrad half-steps, as in the paper: all users with items fixed, then all
/// items with users fixed; each row's gradient sums its positives and `negativeCount` uniform
/// negatives per positive (weighted so their total matches the unobserved mass). Rows run in
/// parallel chunks with per-chunk seeded generators and each row writes only itself, so threads
/// never change the result.
public struct LogisticMF: FactorRecommender {
    public static let name = "lmf"
    public static let summary = "logistic MF (Johnson 2014) with sampled negatives, alternating AdaGrad"

    public struct Config: ModelConfig {
        public var factorCount = 30
        public var iterationCount = 30
        public var learningRate: Float = 1
        public var regularization: Float = 0.6
        public var alpha: Float = 1
        /// Sampled negatives per positive.
        public var negativeCount = 5
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case factorCount = "factors", iterationCount = "iterations", learningRate = "learning_rate"
            case regularization, alpha, negativeCount = "negatives", seed
        }

        public static let settings: [ModelSetting] = [
            .factors(.between(1, 4096), "latent dimensions (plus user and item biases)"),
            .iterations(),
            .learningRate("AdaGrad step"),
            .regularization(),
            .alpha,
            .negatives(),
            .seed,
        ]
    }

    public let config: Config
    /// `[users, factors + 2]` and `[items, factors + 2]`: the factors, then (bias, 1) for users and
    /// (1, bias) for items, so one dot product gives x·y + β_u + β_i.
    public let factors: FactorModel

    /// Trains on all cores unless the context says otherwise (threads never change the result);
    /// reports each iteration.
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        try train.checkNonNegativeValues(for: Self.name)
        let k = config.factorCount
        let width = k + 2
        let threadCount = context.threads(default: Parallel.defaultThreadCount)
        let byUser = InteractionMatrix.byUser(train.deduplicated(.sum))
        let byItem = byUser.transposed()
        var root = SplitMix64(seed: config.seed)
        var users = [Float](repeating: 0, count: train.userCount * width)
        var items = [Float](repeating: 0, count: train.itemCount * width)
        for row in 0..<train.userCount {
            for f in 0..<k { users[row * width + f] = (root.nextUnitFloat() - 0.5) * 0.02 }
            users[row * width + k + 1] = 1
        }
        for row in 0..<train.itemCount {
            for f in 0..<k { items[row * width + f] = (root.nextUnitFloat() - 0.5) * 0.02 }
            items[row * width + k] = 1
        }
        var userSquares = [Float](repeating: 0, count: users.count)
        var itemSquares = [Float](repeating: 0, count: items.count)
        for iteration in 0..<config.iterationCount {
            LogisticMF.halfStep(
                solving: &users, squares: &userSquares, fixed: items, matrix: byUser, biasColumn: k,
                config: config, seed: root.next(), threadCount: threadCount)
            LogisticMF.halfStep(
                solving: &items, squares: &itemSquares, fixed: users, matrix: byItem, biasColumn: k + 1,
                config: config, seed: root.next(), threadCount: threadCount)
            try context.report(TrainingUpdate(step: iteration + 1, total: config.iterationCount))
        }
        self.init(config: config, factors: FactorModel(name: Self.name, users: users, items: items, width: width))
    }

    public init(config: Config, factors: FactorModel) {
        self.config = config
        self.factors = factors
    }

    /// The factor tables carry the two bias columns.
    public static func factorWidth(_ config: Config) -> Int { config.factorCount + 2 }

    /// One AdaGrad step for every row of `solving`; `biasColumn` is the row's own bias (the other
    /// of the two extra columns is the fixed 1).
    static func halfStep(
        solving target: inout [Float], squares: inout [Float], fixed: [Float], matrix: InteractionMatrix,
        biasColumn: Int,
        config: Config, seed: UInt64, threadCount: Int
    ) {
        let k = config.factorCount
        let width = k + 2
        let fixedCount = fixed.count / width
        let chunks = Parallel.chunks(count: matrix.rowCount, chunkCount: max(1, min(matrix.rowCount, 64)))
        var seeder = SplitMix64(seed: seed)
        let seeds = chunks.map { _ in seeder.next() }
        target.withUnsafeMutableBufferPointer { targetBuffer in
            squares.withUnsafeMutableBufferPointer { squareBuffer in
                fixed.withUnsafeBufferPointer { fixedBuffer in
                    let shared = LMFBuffers(
                        target: targetBuffer.baseAddress!, squares: squareBuffer.baseAddress!,
                        fixed: fixedBuffer.baseAddress!)
                    Parallel.forEach(chunkCount: chunks.count, threadCount: threadCount) { chunk in
                        var generator = SplitMix64(seed: seeds[chunk])
                        var gradient = [Float](repeating: 0, count: width)
                        for row in chunks[chunk] {
                            let x = shared.target + row * width
                            for f in 0..<width { gradient[f] = 0 }
                            let range = matrix.rowOffsets[row]..<matrix.rowOffsets[row + 1]
                            guard !range.isEmpty else { continue }
                            // Positives: α·r·y − (1 + α·r)·σ(s)·y.
                            for position in range {
                                let y = shared.fixed + Int(matrix.columnIndices[position]) * width
                                let confidence = config.alpha * matrix.values[position]
                                let s = VectorKernels.dot(x, y, count: width)
                                let coefficient = confidence - (1 + confidence) / (1 + Foundation.exp(-s))
                                for f in 0..<width { gradient[f] += coefficient * y[f] }
                            }
                            // Negatives: −w·σ(s)·y, w spreading the unobserved pairs over the samples.
                            let samples = range.count * config.negativeCount
                            let weight = Float(max(0, fixedCount - range.count)) / Float(samples)
                            for _ in 0..<samples {
                                let y = shared.fixed + generator.nextIndex(below: fixedCount) * width
                                let s = VectorKernels.dot(x, y, count: width)
                                let coefficient = -weight / (1 + Foundation.exp(-s))
                                for f in 0..<width { gradient[f] += coefficient * y[f] }
                            }
                            for f in 0..<k { gradient[f] -= config.regularization * x[f] }
                            // AdaGrad on the factors and the row's own bias; the constant column stays 1.
                            for f in 0..<width where f < k || f == biasColumn {
                                shared.squares[row * width + f] += gradient[f] * gradient[f]
                                x[f] +=
                                    config.learningRate * gradient[f]
                                    / (shared.squares[row * width + f].squareRoot() + 1e-6)
                            }
                        }
                    }
                }
            }
        }
    }

    public func scores(forHistory history: [Int32]) -> [Float] { factors.scores(forHistory: history) }
}
