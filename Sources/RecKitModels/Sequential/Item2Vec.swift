import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Item embeddings learned from co-occurrence the way word2vec learns words: skip-gram with negative
/// sampling (Mikolov et al. 2013) over item sequences — prod2vec (Grbovic et al. 2015: a user's or
/// session's items in time order, context = the `window` items on each side) and item2vec / bagged
/// prod2vec (Barkan and Koenigstein 2016; Grbovic et al.: context = every other item of the same
/// sequence, its order ignored); user-prod2vec (Grbovic et al. 2015, the paragraph-vector form: a
/// vector per user, trained to predict each of its items beside the items' own pairs, in the same
/// space as the item vectors); Meta-Prod2vec (Vasile et al. 2016: item metadata — genres and tags —
/// as tokens in the input and in the context, with the paper's combined loss).
///
/// word2vec's training: negatives drawn ∝ count^0.75 (`negative_alpha`), frequent items subsampled
/// (kept with probability (√(f/(tN)) + 1)·tN/f, t = `subsample`), a learning rate falling linearly to
/// 0.01 % of its start, input and output tables. Sequences are cut into a fixed 64 chunks with their
/// own seeded generators, run in parallel without locks (Hogwild; Niu et al. 2011): with one thread a
/// seeded run repeats bit for bit, with more the results vary by floating-point reordering.
///
/// Meta-Prod2vec's loss for a pair (item i, context item j) is L(j|i) + λ·(L(M(j)|i) + L(j|M(i)) +
/// L(M(j)|M(i)) + L(i|M(i))), λ = `meta_weight`, each term a skip-gram pair with negatives of the
/// target's kind (items or tokens, ∝ count^alpha). An item with several tokens contributes one drawn
/// at random per pair (proportional in expectation to their mean, at the cost of one). With
/// `meta_cold`, an item too rare to train (`min_count`) but with metadata gets the mean of its tokens'
/// vectors: the cold-start use the paper argues for. Off by default, which keeps prod2vec's zero
/// vectors for untrained items (where rare items seldom come next, the thousands so placed crowd
/// the rankings).
///
/// `similar` is the cosine of the input vectors; as a recommender an item scores the summed cosine
/// to the last `history` items of the sequence (`recommend --session`, a user's last items), or for
/// a training user of `variant=user` the cosine to the user's vector (the paper's nearest products).
public struct Item2Vec: SideDataModel, ItemSimilarity {
    public static let name = "item2vec"
    public static let summary =
        "item2vec / prod2vec / user-prod2vec / Meta-Prod2vec: skip-gram with negative sampling over item sequences"
    public static let details = "similar items by embedding cosine; recommends by similarity to the last items"

    public enum Variant: String, Codable, Sendable, CaseIterable {
        /// Context = `window` items on each side in time order.
        case prod2vec
        /// Context = every other item of the sequence (a basket).
        case bagged
        /// prod2vec plus a user vector that predicts each of the user's items (user-prod2vec).
        case user
        /// prod2vec with item metadata tokens in the input and the context (Meta-Prod2vec).
        case meta
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
        /// λ of Meta-Prod2vec's metadata terms.
        public var metaWeight: Float = 1
        /// Meta-Prod2vec: items too rare to train get the mean of their tokens' vectors.
        public var metaCold = false
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case variant, factorCount = "factors", window, negativeCount = "negatives"
            case negativeAlpha = "negative_alpha", subsample, minimumCount = "min_count", epochCount = "epochs"
            case learningRate = "learning_rate", history, metaWeight = "meta_weight", metaCold = "meta_cold", seed
        }

        public static let settings: [ModelSetting] = [
            .choice(
                "variant", Variant.self,
                "prod2vec (a window in time order), bagged (the whole sequence), user (plus user vectors) or meta "
                    + "(plus genre and tag tokens)"),
            .factors(.between(1, 4096), "embedding width"),
            .integer("window", .atLeast(1), "prod2vec: context items on each side"),
            .negatives("negatives per (item, context) pair"),
            .number("negative_alpha", .between(0, 1), "negatives drawn ∝ count^alpha"),
            .number("subsample", .atLeast(0), "frequent-item subsampling threshold t (0: off)"),
            .integer("min_count", .atLeast(1), "items with fewer interactions are left out (zero vectors)"),
            .epochs("passes over the sequences"),
            .learningRate("starting SGD step, falling linearly"),
            .integer("history", .atLeast(1), "the most recent items a sequence is scored from"),
            .number("meta_weight", .atLeast(0), "variant=meta: λ of the metadata terms"),
            .boolean("meta_cold", "variant=meta: items under min_count get their tokens' mean vector (else zero)"),
            .seed,
        ]
    }

    public let config: Config
    public let userCount: Int
    public let itemCount: Int
    /// Unit-length input vectors `[items, factors]` (zero for items never seen).
    public let vectors: Tensor
    /// `variant=user`: unit-length user vectors `[users, factors]` (zero for users never trained).
    public let userVectors: Tensor?
    /// Each training user's last `history` items.
    let recent: [[Int32]]
    /// (item, context) pairs trained, over all epochs (not saved).
    public private(set) var pairsTrained = 0

    public init(fitting train: Interactions, side: SideData, config: Config, context: TrainingContext) throws {
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
        let tokens = config.variant == .meta ? try Self.tokens(side, itemCount: itemCount, counts: counts) : nil
        let tokenCount = tokens?.vocabulary.count ?? 0
        // Input rows: items, then users (variant user) or tokens (variant meta); output rows: items, tokens.
        let extraRows = config.variant == .user ? train.userCount : tokenCount
        var root = SplitMix64(seed: config.seed)
        var input = (0..<((itemCount + extraRows) * width)).map { _ in (root.nextUnitFloat() - 0.5) / Float(width) }
        var output = [Float](repeating: 0, count: (itemCount + tokenCount) * width)
        let weight = { (count: Int) in Foundation.pow(Double(count), Double(config.negativeAlpha)) }
        let sampler = AliasTable(weights: counts.map(weight))
        let tokenSampler = tokens.map { tokens in
            var tokenCounts = [Int](repeating: 0, count: tokenCount)
            for item in 0..<itemCount {
                for token in tokens.codes(of: item) { tokenCounts[Int(token)] += counts[item] }
            }
            return AliasTable(weights: tokenCounts.map(weight))
        }
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
                        input: inputBuffer.baseAddress!, output: outputBuffer.baseAddress!, width: width,
                        negatives: config.negativeCount, items: sampler, tokens: tokenSampler, itemCount: itemCount)
                    return Parallel.map(chunkCount: chunks.count, threadCount: threadCount) { chunk -> Int in
                        var generator = SplitMix64(seed: seeds[chunk])
                        var gradient = [Float](repeating: 0, count: width)
                        var done = 0
                        let range = chunks[chunk]
                        for (position, slot) in range.enumerated() {
                            // The rate falls linearly with the chunk's progress over all epochs.
                            let progress =
                                (Float(epoch) + Float(position) / Float(range.count)) / Float(config.epochCount)
                            let rate = config.learningRate * max(1e-4, 1 - progress)
                            let sequence = shuffled[slot]
                            let kept = sequences[sequence].filter { generator.nextUnitFloat() < keep[Int($0)] }
                            guard kept.count >= 2 else { continue }
                            for (index, center) in kept.enumerated() {
                                let span =
                                    config.variant == .bagged
                                    ? 0..<kept.count
                                    : max(0, index - config.window)..<min(kept.count, index + config.window + 1)
                                let centerToken = tokens?.draw(of: Int(center), using: &generator)
                                for other in span where other != index {
                                    tables.step(
                                        Int(center), Int(kept[other]), rate: rate, gradient: &gradient,
                                        using: &generator)
                                    done += 1
                                    if let tokens {
                                        done += tables.metaSteps(
                                            center: Int(center), centerToken: centerToken, context: Int(kept[other]),
                                            contextToken: tokens.draw(of: Int(kept[other]), using: &generator),
                                            rate: rate * config.metaWeight, gradient: &gradient, using: &generator)
                                    }
                                }
                                if config.variant == .user {
                                    // The user's vector predicts each of its items (paragraph vectors' DBOW).
                                    tables.step(
                                        itemCount + sequence, Int(center), rate: rate, gradient: &gradient,
                                        using: &generator)
                                    done += 1
                                } else if let centerToken {
                                    // L(i | M(i)): the item's own metadata predicts it.
                                    tables.step(
                                        itemCount + centerToken, Int(center), rate: rate * config.metaWeight,
                                        gradient: &gradient, using: &generator)
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
            // Untrained: the mean of its metadata tokens' vectors (variant meta), else zero.
            let codes = config.metaCold ? tokens?.codes(of: item) ?? [] : []
            for f in 0..<width {
                input[item * width + f] =
                    codes.reduce(Float(0)) { $0 + input[(itemCount + Int($1)) * width + f] }
                    / Float(max(1, codes.count))
            }
        }
        var users: Tensor?
        if config.variant == .user {
            var values = Array(input[(itemCount * width)...])
            for user in 0..<train.userCount where sequences[user].count < 2 {
                for f in 0..<width { values[user * width + f] = 0 }
            }
            users = Self.normalised(values, width: width)
        }
        self.init(
            config: config, vectors: Self.normalised(Array(input[..<(itemCount * width)]), width: width),
            userVectors: users, recent: sequences.map { Array($0.suffix(config.history)) })
        pairsTrained = pairs
    }

    /// Meta-Prod2vec's tokens (genres and tags) of the training items.
    /// - Throws: `ConfigError` when the data has none for any trained item.
    static func tokens(_ side: SideData, itemCount: Int, counts: [Int]) throws(ConfigError) -> MultiValuedColumn {
        guard let tokens = side.items?.metadataTokens(), tokens.entityCount == itemCount,
            (0..<itemCount).contains(where: { counts[$0] > 0 && !tokens.codes(of: $0).isEmpty })
        else {
            throw ConfigError(
                model: name, key: "variant",
                "meta needs item genres or tags (MovieLens, Last.fm), and this data has none for its trained items")
        }
        return tokens
    }

    init(config: Config, vectors: Tensor, userVectors: Tensor?, recent: [[Int32]]) {
        self.config = config
        self.vectors = vectors
        self.userVectors = userVectors
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
        if let userVectors { weights.store(parameters: ["user_vectors": userVectors]) }
        weights.store(sequences: recent, as: "recent")
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        var shapes = ["item_vectors": [itemCount, config.factorCount]]
        if config.variant == .user { shapes["user_vectors"] = [userCount, config.factorCount] }
        let parameters = try weights.parameters(shapes: shapes)
        self.init(
            config: config, vectors: parameters["item_vectors"]!, userVectors: parameters["user_vectors"],
            recent: try weights.sequences("recent", count: userCount, itemCount: itemCount))
    }

    /// A training user's scores: with user vectors the cosine to each item, else (and for a user
    /// without a trained vector) the similarity to its last items.
    public func scores(forUsers users: [Int32]) -> Tensor {
        let histories = users.map { Int($0) < recent.count ? recent[Int($0)] : [] }
        guard let userVectors else { return scores(forHistories: histories) }
        let untrained = users.indices.filter { row in
            Int(users[row]) >= userCount || userVectors.row(Int(users[row])).allSatisfy { $0 == 0 }
        }
        var result = userVectors.gathering(rows: users.map { Int($0) < userCount ? $0 : 0 })
            .matmul(vectors, transposingOther: true)
        guard !untrained.isEmpty else { return result }
        let fallback = scores(forHistories: untrained.map { histories[$0] })
        for (slot, row) in untrained.enumerated() {
            for item in 0..<itemCount {
                result.scalars[row * itemCount + item] = fallback.scalars[slot * itemCount + item]
            }
        }
        return result
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
/// updates are the algorithm (racy by design), never used elsewhere. Rows from `itemCount` on are
/// extra input rows (users or metadata tokens) and, in the output table, metadata tokens.
struct SkipGramTables: @unchecked Sendable {
    let input: UnsafeMutablePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let width: Int
    let negatives: Int
    /// Item negatives (∝ count^alpha).
    let items: AliasTable
    /// Token negatives, for token targets.
    let tokens: AliasTable?
    let itemCount: Int

    /// One (center, context) pair with `negatives` sampled targets of the context's kind (word2vec's
    /// update): each target's output vector moves by g·v_center with g = (label − σ(v_center ·
    /// u_target))·rate, and the center's input vector by the summed g·u_target.
    @inline(__always)
    func step(_ center: Int, _ context: Int, rate: Float, gradient: inout [Float], using generator: inout SplitMix64) {
        let v = input + center * width
        let isToken = context >= itemCount
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
                    target = isToken ? itemCount + tokens!.sample(using: &generator) : items.sample(using: &generator)
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

    /// Meta-Prod2vec's metadata terms of the pair (center i, context j), one drawn token standing
    /// for each item's: L(M(j)|i), L(j|M(i)), L(M(j)|M(i)). Returns the pairs trained.
    @inline(__always)
    func metaSteps(
        center: Int, centerToken: Int?, context: Int, contextToken: Int?, rate: Float, gradient: inout [Float],
        using generator: inout SplitMix64
    ) -> Int {
        var done = 0
        if let contextToken {
            step(center, itemCount + contextToken, rate: rate, gradient: &gradient, using: &generator)
            done += 1
        }
        if let centerToken {
            step(itemCount + centerToken, context, rate: rate, gradient: &gradient, using: &generator)
            done += 1
            if let contextToken {
                step(
                    itemCount + centerToken, itemCount + contextToken, rate: rate, gradient: &gradient,
                    using: &generator)
                done += 1
            }
        }
        return done
    }
}

extension MultiValuedColumn {
    /// One of `entity`'s values drawn uniformly, nil when it has none.
    fileprivate func draw(of entity: Int, using generator: inout SplitMix64) -> Int? {
        let count = offsets[entity + 1] - offsets[entity]
        guard count > 0 else { return nil }
        return Int(values[offsets[entity] + (count == 1 ? 0 : Int(generator.next() % UInt64(count)))])
    }
}
