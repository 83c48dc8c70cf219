import Foundation
import RecKitData
import RecKitTensor

/// Bayesian personalised ranking (Rendle et al., UAI 2009): matrix factorisation with an item bias,
/// trained by SGD on (user, liked item i, sampled item j) triples to rank i above j.
///
/// Each epoch draws as many triples as there are training pairs: a uniform training pair (u, i) and
/// a uniform item j, skipped when u has j. With several threads the samples are cut into chunks with
/// their own seeded generators and updates race without locks (Hogwild; Niu et al. 2011): results
/// then vary by floating-point reordering only. One thread is bit-identical run to run.
public struct BPR: Recommender {
    public struct Config: Codable, Sendable, Equatable {
        public var factorCount = 64
        public var epochCount = 100
        public var learningRate: Float = 0.01
        public var regularization: Float = 0.01
        public var seed: UInt64 = 0
        public init() {}

        public func validate() throws(ConfigError) {
            if factorCount < 1 || factorCount > 4096 { throw ConfigError(model: "bpr", key: "factors", "must be in 1...4096") }
            if epochCount < 1 { throw ConfigError(model: "bpr", key: "epochs", "must be at least 1") }
            if !(learningRate > 0) || !learningRate.isFinite { throw ConfigError(model: "bpr", key: "learning_rate", "must be > 0") }
            if !(regularization >= 0) { throw ConfigError(model: "bpr", key: "regularization", "must be ≥ 0") }
        }
    }

    public let config: Config
    /// `[userCount, factorCount + 1]` (the last column is 1, pairing with the item bias) and
    /// `[itemCount, factorCount + 1]` (the last column is the item bias).
    public let factors: FactorModel
    public var name: String { "bpr" }
    public var userCount: Int { factors.userCount }
    public var itemCount: Int { factors.itemCount }

    public init(
        fitting train: Interactions, config: Config = Config(), threadCount: Int = 1, progress: ((Int, Int) -> Void)? = nil
    ) throws(ConfigError) {
        try config.validate()
        let k = config.factorCount, width = k + 1
        let byUser = InteractionMatrix.byUser(train.deduplicated(.max))
        var root = SplitMix64(seed: config.seed)
        var users = [Float](repeating: 0, count: train.userCount * width)
        var items = [Float](repeating: 0, count: train.itemCount * width)
        for user in 0..<train.userCount {
            for f in 0..<k { users[user * width + f] = (root.nextUnitFloat() - 0.5) / Float(k) }
            users[user * width + k] = 1
        }
        for item in 0..<train.itemCount {
            for f in 0..<k { items[item * width + f] = (root.nextUnitFloat() - 0.5) / Float(k) }
        }
        // Row of each stored pair, to sample pairs uniformly.
        var userOfPair = [Int32](repeating: 0, count: byUser.nonzeroCount)
        for user in 0..<byUser.rowCount { for position in byUser.rowOffsets[user]..<byUser.rowOffsets[user + 1] { userOfPair[position] = Int32(user) } }
        let pairUsers = userOfPair
        let sampleCount = byUser.nonzeroCount
        let chunkCount = 64      // fixed: the samples and their generators never depend on threads
        let chunks = Parallel.chunks(count: sampleCount, chunkCount: max(1, min(chunkCount, sampleCount)))
        let itemTotal = train.itemCount
        let offsets = byUser.rowOffsets, columns = byUser.columnIndices
        for epoch in 0..<config.epochCount {
            let seeds = chunks.map { _ in root.next() }
            users.withUnsafeMutableBufferPointer { userBuffer in
                items.withUnsafeMutableBufferPointer { itemBuffer in
                    pairUsers.withUnsafeBufferPointer { pairBuffer in
                        offsets.withUnsafeBufferPointer { offsetBuffer in
                            columns.withUnsafeBufferPointer { columnBuffer in
                                let shared = HogwildFactors(
                                    users: userBuffer.baseAddress!, items: itemBuffer.baseAddress!, pairUsers: pairBuffer.baseAddress!,
                                    offsets: offsetBuffer.baseAddress!, columns: columnBuffer.baseAddress!)
                                Parallel.forEach(chunkCount: chunks.count, threadCount: threadCount) { chunk in
                                    var generator = SplitMix64(seed: seeds[chunk])
                                    shared.run(
                                        samples: chunks[chunk].count, sampleCount: sampleCount, itemCount: itemTotal, k: k,
                                        rate: config.learningRate, regularization: config.regularization, using: &generator)
                                }
                            }
                        }
                    }
                }
            }
            progress?(epoch + 1, config.epochCount)
        }
        self.config = config
        self.factors = FactorModel(
            name: "bpr", userFactors: Tensor(shape: [train.userCount, width], scalars: users),
            itemFactors: Tensor(shape: [train.itemCount, width], scalars: items))
    }

    public func scores(forUsers users: [Int32]) -> Tensor { factors.scores(forUsers: users) }

    /// A new user: a fresh user vector trained by a few SGD passes over the history against sampled
    /// negatives, item vectors held fixed (seeded by the history, so the same history gives the same
    /// scores).
    public func scores(forHistory history: [Int32]) -> [Float] {
        let known = Array(Set(history.filter { $0 >= 0 && Int($0) < itemCount })).sorted()
        let width = config.factorCount + 1
        var user = [Float](repeating: 0, count: width)
        user[width - 1] = 1
        guard !known.isEmpty else { return factors.itemFactors.matmul(Tensor(shape: [width, 1], scalars: user)).scalars }
        let items = factors.itemFactors.scalars
        var generator = SplitMix64(seed: config.seed ^ known.reduce(0xF01D) { $0 &* 31 &+ UInt64(UInt32(bitPattern: $1)) })
        let passes = 20, steps = known.count * passes
        let knownSet = Set(known)
        for _ in 0..<steps {
            let liked = Int(known[generator.nextIndex(below: known.count)])
            let other = generator.nextIndex(below: itemCount)
            if knownSet.contains(Int32(other)) { continue }
            var score: Float = 0
            for f in 0..<width { score += user[f] * (items[liked * width + f] - items[other * width + f]) }
            let z = 1 / (1 + Foundation.exp(score))
            for f in 0..<config.factorCount {
                user[f] += config.learningRate * (z * (items[liked * width + f] - items[other * width + f]) - config.regularization * user[f])
            }
        }
        return factors.itemFactors.matmul(Tensor(shape: [width, 1], scalars: user)).scalars
    }
}

/// Raw pointers shared by Hogwild chunks: concurrent unsynchronised updates of the factors are the
/// algorithm (racy by design), never used elsewhere. The training pairs are read-only.
struct HogwildFactors: @unchecked Sendable {
    let users: UnsafeMutablePointer<Float>
    let items: UnsafeMutablePointer<Float>
    let pairUsers: UnsafePointer<Int32>
    let offsets: UnsafePointer<Int>
    let columns: UnsafePointer<Int32>

    /// Whether `user` has `item` (binary search of the user's sorted row).
    @inline(__always)
    func has(_ user: Int, _ item: Int32) -> Bool {
        var low = offsets[user], high = offsets[user + 1]
        while low < high {
            let middle = (low + high) >> 1
            if columns[middle] < item { low = middle + 1 } else { high = middle }
        }
        return low < offsets[user + 1] && columns[low] == item
    }

    /// `samples` SGD steps on random triples.
    @inline(__always)
    func run(
        samples: Int, sampleCount: Int, itemCount: Int, k: Int, rate: Float, regularization reg: Float,
        using generator: inout SplitMix64
    ) {
        let width = k + 1
        for _ in 0..<samples {
            let pair = generator.nextIndex(below: sampleCount)
            let user = Int(pairUsers[pair]), liked = Int(columns[pair])
            let other = generator.nextIndex(below: itemCount)
            if has(user, Int32(other)) { continue }
            let u = users + user * width, i = items + liked * width, j = items + other * width
            let score = VectorKernels.dot(u, i, count: width) - VectorKernels.dot(u, j, count: width)
            let z = 1 / (1 + Foundation.exp(score))      // σ(−x_uij)
            for f in 0..<k {
                let uf = u[f], i_f = i[f], jf = j[f]
                u[f] += rate * (z * (i_f - jf) - reg * uf)
                i[f] += rate * (z * uf - reg * i_f)
                j[f] += rate * (-z * uf - reg * jf)
            }
            // The bias column: the user side stays 1.
            i[k] += rate * (z - reg * i[k])
            j[k] += rate * (-z - reg * j[k])
        }
    }
}
