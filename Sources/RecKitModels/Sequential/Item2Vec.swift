import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Item embeddings learned from co-occurrence the way word2vec learns words: skip-gram with negative
/// sampling (Mikolov et al. 2013) over item sequences — prod2vec (Grbovic et al. 2015: a user's or
/// session's items in time order, context = the `window` items on each side) and item2vec / bagged
/// prod2vec (Barkan and Koenigstein 2016; Grbovic et al.: context = every other item of the same
/// sequence, its order ignored).
///
/// word2vec's training: negatives drawn ∝ count^0.75 (`negative_alpha`), frequent items subsampled
/// (kept with probability (√(f/(tN)) + 1)·tN/f, t = `subsample`), a learning rate falling linearly to
/// 0.01 % of its start, input and output tables. Sequences are cut into a fixed 64 chunks with their
/// own seeded generators, run in parallel without locks (Hogwild; Niu et al. 2011): with one thread a
/// seeded run repeats bit for bit, with more the results vary by floating-point reordering.
///
/// `similar` is the cosine of the input vectors; as a recommender an item scores the summed cosine
/// to the last `history` items of the sequence (`recommend --session`, a user's last items).
public struct Item2Vec: TrainableRecommender, ItemSimilarity {
    public static let name = "item2vec"
    public static let summary =
        "item2vec / prod2vec: skip-gram with negative sampling over item sequences, Hogwild threads"
    public static let details = "similar items by embedding cosine; recommends by similarity to the last items"

    public enum Variant: String, Codable, Sendable, CaseIterable {
        /// Context = `window` items on each side in time order.
        case prod2vec
        /// Context = every other item of the sequence (a basket).
        case bagged
    }

    public struct Config: ModelConfig {
        public var variant = Variant.prod2vec
        public var factorCount = 64
        public var window = 10
        public var negativeCount = 5
        public var negativeAlpha: Float = 0.75
        public var subsample: Float = 1e-3
        /// Items with fewer interactions are left out of training (zero vectors), as word2vec's min_count.
        public var minimumCount = 5
        public var epochCount = 20
        public var learningRate: Float = 0.025
        /// The most recent items a sequence is scored from.
        public var history = 5
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case variant, factorCount = "factors", window, negativeCount = "negatives"
            case negativeAlpha = "negative_alpha", subsample, minimumCount = "min_count", epochCount = "epochs"
            case learningRate = "learning_rate", history, seed
        }

        public static let settings: [ModelSetting] = [
            .choice("variant", Variant.self, "prod2vec (a window in time order) or bagged (the whole sequence)"),
            .factors(.between(1, 4096), "embedding width"),
            .integer("window", .atLeast(1), "prod2vec: context items on each side"),
            .negatives("negatives per (item, context) pair"),
            .number("negative_alpha", .between(0, 1), "negatives drawn ∝ count^alpha"),
            .number("subsample", .atLeast(0), "frequent-item subsampling threshold t (0: off)"),
            .integer("min_count", .atLeast(1), "items with fewer interactions are left out (zero vectors)"),
            .epochs("passes over the sequences"),
            .learningRate("starting SGD step, falling linearly"),
            .integer("history", .atLeast(1), "the most recent items a sequence is scored from"),
            .seed,
        ]
    }

    public let config: Config
    public let userCount: Int
    public let itemCount: Int
    /// Unit-length input vectors `[items, factors]` (zero for items never seen).
    public let vectors: Tensor
    /// Each training user's last `history` items.
    let recent: [[Int32]]
    /// (item, context) pairs trained, over all epochs (not saved).
    public private(set) var pairsTrained = 0

    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        let width = config.factorCount
        let itemCount = train.itemCount
        var counts = [Int](repeating: 0, count: itemCount)
        for item in train.items { counts[Int(item)] += 1 }
        for item in 0..<itemCount where counts[item] < config.minimumCount { counts[item] = 0 }
        let sequences = train.sequences().map { $0.filter { counts[Int($0)] > 0 } }
        guard counts.contains(where: { $0 > 0 }) else {
            throw ConfigError(
                model: Self.name, key: "min_count", "no item has \(config.minimumCount) interactions to learn from")
        }
        var root = SplitMix64(seed: config.seed)
        var input = (0..<(itemCount * width)).map { _ in (root.nextUnitFloat() - 0.5) / Float(width) }
        var output = [Float](repeating: 0, count: itemCount * width)
        let sampler = AliasTable(weights: counts.map { Foundation.pow(Double($0), Double(config.negativeAlpha)) })
        let total = Double(counts.reduce(0, +))
        let threshold = Double(config.subsample) * total
        let keep: [Float] = counts.map { count in
            guard config.subsample > 0, count > 0 else { return 1 }
            let f = Double(count)
            return Float(min(1, ((f / threshold).squareRoot() + 1) * threshold / f))
        }
        let usable = (0..<sequences.count).filter { sequences[$0].count >= 2 }
        let chunks = Parallel.chunks(count: usable.count, chunkCount: max(1, min(64, usable.count)))
        let threadCount = context.threads(default: Parallel.defaultThreadCount)
        var order = usable
        var pairs = 0
        for epoch in 0..<config.epochCount {
            root.shuffle(&order)
            let seeds = chunks.map { _ in root.next() }
            let shuffled = order
            let counted = input.withUnsafeMutableBufferPointer { inputBuffer in
                output.withUnsafeMutableBufferPointer { outputBuffer in
                    let tables = SkipGramTables(
                        input: inputBuffer.baseAddress!, output: outputBuffer.baseAddress!, width: width)
                    return Parallel.map(chunkCount: chunks.count, threadCount: threadCount) { chunk -> Int in
                        var generator = SplitMix64(seed: seeds[chunk])
                        var gradient = [Float](repeating: 0, count: width)
                        var done = 0
                        let range = chunks[chunk]
                        for (position, slot) in range.enumerated() {
                            // The rate falls linearly with the chunk's progress over all epochs.
                            let progress =
                                (Float(epoch) + Float(position) / Float(range.count))
                                / Float(
                                    config.epochCount)
                            let rate = config.learningRate * max(1e-4, 1 - progress)
                            let kept = sequences[shuffled[slot]].filter { generator.nextUnitFloat() < keep[Int($0)] }
                            guard kept.count >= 2 else { continue }
                            for (index, center) in kept.enumerated() {
                                let span =
                                    config.variant == .bagged
                                    ? 0..<kept.count
                                    : max(0, index - config.window)..<min(kept.count, index + config.window + 1)
                                for other in span where other != index {
                                    tables.step(
                                        center: Int(center), context: Int(kept[other]), negatives: config.negativeCount,
                                        sampler: sampler, rate: rate, gradient: &gradient, using: &generator)
                                    done += 1
                                }
                            }
                        }
                        return done
                    }
                }
            }
            pairs += counted.reduce(0, +)
            try context.report(TrainingUpdate(step: epoch + 1, total: config.epochCount))
        }
        for item in 0..<itemCount where counts[item] == 0 {
            for f in 0..<width { input[item * width + f] = 0 }
        }
        self.init(
            config: config, vectors: Self.normalised(input, width: width),
            recent: sequences.map { Array($0.suffix(config.history)) })
        pairsTrained = pairs
    }

    init(config: Config, vectors: Tensor, recent: [[Int32]]) {
        self.config = config
        self.vectors = vectors
        self.recent = recent
        self.userCount = recent.count
        self.itemCount = vectors.shape[0]
    }

    static func normalised(_ values: [Float], width: Int) -> Tensor {
        var values = values
        let rows = values.count / width
        for row in 0..<rows {
            let norm = (0..<width).reduce(Float(0)) { $0 + values[row * width + $1] * values[row * width + $1] }
                .squareRoot()
            if norm > 0 { for f in 0..<width { values[row * width + f] /= norm } }
        }
        return Tensor(shape: [rows, width], scalars: values)
    }

    public func save(into weights: inout ModelWeights) {
        weights.store(parameters: ["item_vectors": vectors])
        weights.store(sequences: recent, as: "recent")
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        let vectors = try weights.parameters(shapes: ["item_vectors": [itemCount, config.factorCount]])["item_vectors"]!
        self.init(
            config: config, vectors: vectors,
            recent: try weights.sequences("recent", count: userCount, itemCount: itemCount))
    }

    public func scores(forUsers users: [Int32]) -> Tensor {
        scores(forHistories: users.map { Int($0) < recent.count ? recent[Int($0)] : [] })
    }

    public func scores(forHistory history: [Int32]) -> [Float] { scores(forHistories: [history]).scalars }

    /// Σ over the last `history` items of the cosine to every item.
    public func scores(forHistories histories: [[Int32]]) -> Tensor {
        let width = config.factorCount
        var pooled = [Float](repeating: 0, count: histories.count * width)
        for (row, history) in histories.enumerated() {
            for item in history.suffix(config.history) where item >= 0 && Int(item) < itemCount {
                for f in 0..<width { pooled[row * width + f] += vectors.scalars[Int(item) * width + f] }
            }
        }
        return Tensor(shape: [histories.count, width], scalars: pooled).matmul(vectors, transposingOther: true)
    }

    public func similarItems(to item: Int32, k: Int) -> [ScoredIndex] {
        guard item >= 0 && Int(item) < itemCount else { return [] }
        let cosine = vectors.gathering(rows: [item]).matmul(vectors, transposingOther: true)
        return cosine.topKPerRow(min(k, itemCount), excluding: [[item]])[0]
    }
}

/// The input and output tables of skip-gram shared by Hogwild chunks: concurrent unsynchronised
/// updates are the algorithm (racy by design), never used elsewhere.
struct SkipGramTables: @unchecked Sendable {
    let input: UnsafeMutablePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let width: Int

    /// One (center, context) pair with `negatives` sampled items (word2vec's update): each target's
    /// output vector moves by g·v_center with g = (label − σ(v_center · u_target))·rate, and the
    /// center's input vector by the summed g·u_target.
    @inline(__always)
    func step(
        center: Int, context: Int, negatives: Int, sampler: AliasTable, rate: Float, gradient: inout [Float],
        using generator: inout SplitMix64
    ) {
        let v = input + center * width
        gradient.withUnsafeMutableBufferPointer { buffer in
            let g = buffer.baseAddress!
            for f in 0..<width { g[f] = 0 }
            for draw in 0...negatives {
                let target: Int
                let label: Float
                if draw == 0 {
                    target = context
                    label = 1
                } else {
                    target = sampler.sample(using: &generator)
                    if target == context { continue }
                    label = 0
                }
                let u = output + target * width
                let score = VectorKernels.dot(v, u, count: width)
                let step = (label - Activation.sigmoid(score)) * rate
                for f in 0..<width {
                    g[f] += step * u[f]
                    u[f] += step * v[f]
                }
            }
            for f in 0..<width { v[f] += g[f] }
        }
    }
}
