import Foundation
import RecKitData
import RecKitTensor

/// Biased matrix factorisation for explicit ratings (Koren, Bell and Volinsky, "Matrix Factorization
/// Techniques for Recommender Systems", 2009; Funk 2006): r̂_ui = μ + b_u + b_i + p_u·q_i, minimising
/// squared error plus L2.
///
/// Two solvers:
/// - `sgd` (default; Surprise's SVD defaults: 100 factors, 20 epochs, learning rate 0.005,
///   regularisation 0.02, factors from N(0, 0.1)). Ratings are visited user by user, users in a new
///   seeded order each epoch, each user's ratings in a once-shuffled order. One thread is
///   bit-identical run to run; with more, the user order is cut into chunks that update the item
///   factors without locks (Hogwild), so results vary by floating-point reordering only.
/// - `als`: alternating ridge solves of [p_u, b_u] and [q_i, b_i] with the weighted-λ regularisation
///   λ·n (Zhou et al. 2008, n = the row's rating count); `epochs` counts the alternations. Each row is
///   solved exactly and independently, so threads never change the result.
///
/// `temporal` adds the time effects of timeSVD (Koren, "Collaborative Filtering with Temporal
/// Dynamics", KDD 2009) to the SGD solver: an item bias per time bin, b_i + b_i,Bin(t), and a drifting
/// user bias b_u + α_u·dev_u(t), dev_u(t) = sign(t − t̄_u)·|t − t̄_u|^β in days from the user's mean
/// rating date. Predictions with a time use them; without one they are the static model.
///
/// Unknown users or items contribute only the terms that exist (as Surprise does), and predictions
/// are clipped to the training rating range.
public struct BiasedMF: RatingPredictor, Recommender {
    public enum Solver: String, Codable, Sendable, CaseIterable {
        case sgd
        case als
    }

    public struct Config: Codable, Sendable, Equatable {
        public var factorCount = 100
        public var epochCount = 20
        public var learningRate: Float = 0.005
        public var regularization: Float = 0.02
        /// Standard deviation of the initial factors.
        public var initialStandardDeviation: Float = 0.1
        /// Learning rate multiplier applied after every epoch (1: constant).
        public var learningRateDecay: Float = 1
        public var solver = Solver.sgd
        /// Time-binned item biases and a drifting user bias (SGD only; needs timestamps).
        public var temporal = false
        public var timeBinCount = 30
        /// β of dev_u(t).
        public var driftExponent: Float = 0.4
        /// Step and L2 weight of α_u (Koren's 1e-5 and 50: dev is in days^β, so α_u moves slowly).
        public var driftLearningRate: Float = 1e-5
        public var driftRegularization: Float = 50
        public var seed: UInt64 = 0
        public init() {}

        public func validate() throws(ConfigError) {
            if factorCount < 0 || factorCount > 4096 { throw ConfigError(model: "svd", key: "factors", "must be in 0...4096") }
            if epochCount < 1 { throw ConfigError(model: "svd", key: "epochs", "must be at least 1") }
            if !(learningRate > 0) || !learningRate.isFinite { throw ConfigError(model: "svd", key: "learning_rate", "must be > 0") }
            if !(regularization >= 0) { throw ConfigError(model: "svd", key: "regularization", "must be ≥ 0") }
            if !(initialStandardDeviation >= 0) { throw ConfigError(model: "svd", key: "init_std", "must be ≥ 0") }
            if !(learningRateDecay > 0 && learningRateDecay <= 1) { throw ConfigError(model: "svd", key: "decay", "must be in (0, 1]") }
            if temporal && solver != .sgd { throw ConfigError(model: "svd", key: "temporal", "needs solver=sgd") }
            if timeBinCount < 1 || timeBinCount > 100_000 { throw ConfigError(model: "svd", key: "time_bins", "must be in 1...100000") }
            if !(driftExponent > 0 && driftExponent <= 1) { throw ConfigError(model: "svd", key: "drift_exponent", "must be in (0, 1]") }
            if !(driftLearningRate >= 0) || !driftLearningRate.isFinite { throw ConfigError(model: "svd", key: "drift_learning_rate", "must be ≥ 0") }
            if !(driftRegularization >= 0) { throw ConfigError(model: "svd", key: "drift_regularization", "must be ≥ 0") }
        }
    }

    public let config: Config
    public let globalMean: Float
    public let userBiases: [Float]
    public let itemBiases: [Float]
    /// `[userCount, factorCount]` and `[itemCount, factorCount]`.
    public let userFactors: Tensor
    public let itemFactors: Tensor
    /// The time effects, when trained with `temporal`.
    public let temporal: TemporalBiases?
    let knownUsers: [Bool]
    let knownItems: [Bool]
    public let ratingRange: ClosedRange<Float>
    public var name: String { "svd" }
    public var userCount: Int { userBiases.count }
    public var itemCount: Int { itemBiases.count }

    /// - Parameter threadCount: SGD: Hogwild threads (1: bit-identical runs); ALS: parallel rows
    ///   (never changes the result).
    /// - Throws: `ConfigError` for a bad config or training data without ratings (or without
    ///   timestamps for `temporal`).
    public init(
        fitting train: Interactions, config: Config = Config(), threadCount: Int = 1, progress: ((Int, Int) -> Void)? = nil
    ) throws(ConfigError) {
        try config.validate()
        guard let ratings = train.ratings, !ratings.isEmpty else {
            throw ConfigError(model: "svd", key: "data", "needs explicit ratings; the training data has none")
        }
        if config.temporal && train.timestamps == nil {
            throw ConfigError(model: "svd", key: "temporal", "needs timestamps; the training data has none")
        }
        let k = config.factorCount
        var generator = SplitMix64(seed: config.seed)
        var state = SGDState(
            p: (0..<(train.userCount * k)).map { _ in generator.nextStandardNormal() * config.initialStandardDeviation },
            q: (0..<(train.itemCount * k)).map { _ in generator.nextStandardNormal() * config.initialStandardDeviation },
            userBiases: [Float](repeating: 0, count: train.userCount), itemBiases: [Float](repeating: 0, count: train.itemCount))
        let mean = Float(ratings.reduce(0.0) { $0 + Double($1) } / Double(ratings.count))
        var temporal = config.temporal ? TemporalBiases(train.timestamps!, users: train.users, userCount: train.userCount,
                                                        itemCount: train.itemCount, config: config) : nil
        switch config.solver {
        case .sgd:
            BiasedMF.trainSGD(
                train, ratings: ratings, mean: mean, config: config, state: &state, temporal: &temporal, generator: &generator,
                threadCount: threadCount, progress: progress)
        case .als:
            BiasedMF.trainALS(train, ratings: ratings, mean: mean, config: config, state: &state, threadCount: threadCount, progress: progress)
        }
        var knownUsers = [Bool](repeating: false, count: train.userCount), knownItems = [Bool](repeating: false, count: train.itemCount)
        for row in 0..<train.count {
            knownUsers[Int(train.users[row])] = true
            knownItems[Int(train.items[row])] = true
        }
        self.config = config
        self.globalMean = mean
        self.userBiases = state.userBiases
        self.itemBiases = state.itemBiases
        self.userFactors = Tensor(shape: [train.userCount, k], scalars: state.p)
        self.itemFactors = Tensor(shape: [train.itemCount, k], scalars: state.q)
        self.temporal = temporal
        self.knownUsers = knownUsers
        self.knownItems = knownItems
        self.ratingRange = ratings.min()!...ratings.max()!
    }

    /// The trained parameters while training.
    struct SGDState {
        var p: [Float], q: [Float], userBiases: [Float], itemBiases: [Float]
    }

    static func trainSGD(
        _ train: Interactions, ratings: [Float], mean: Float, config: Config, state: inout SGDState, temporal: inout TemporalBiases?,
        generator: inout SplitMix64, threadCount: Int, progress: ((Int, Int) -> Void)?
    ) {
        // The ratings are shuffled once and grouped by user (each user's ratings keep their shuffled
        // order); each epoch visits the users in a fresh random order. A user's vector then stays in
        // cache across its ratings (Surprise also walks ratings user by user), threads own disjoint
        // users, and only item vectors are shared between Hogwild threads.
        var permutation = Array(0..<train.count)
        generator.shuffle(&permutation)
        var offsets = [Int](repeating: 0, count: train.userCount + 1)
        for user in train.users { offsets[Int(user) + 1] += 1 }
        for user in 0..<train.userCount { offsets[user + 1] += offsets[user] }
        var next = offsets, grouped = [Int](repeating: 0, count: train.count)
        for row in permutation {
            let user = Int(train.users[row])
            grouped[next[user]] = row
            next[user] += 1
        }
        let items = grouped.map { train.items[$0] }
        let shuffledRatings = grouped.map { ratings[$0] }
        let times = temporal.map { t in grouped.map { t.time(of: train.timestamps![$0], user: Int(train.users[$0])) } } ?? []
        var order = Array(0..<train.userCount)      // the epoch's user order
        let chunkCount = 64      // fixed: the update order within a chunk never depends on threads
        let chunks = Parallel.chunks(count: order.count, chunkCount: max(1, min(chunkCount, order.count)))
        var rate = config.learningRate
        var itemBins = temporal?.itemBinBiases ?? [], drift = temporal?.userDrift ?? []
        let timed = temporal != nil      // (an empty array's base address is not nil)
        for epoch in 0..<config.epochCount {
            generator.shuffle(&order)
            order.withUnsafeBufferPointer { order in
            offsets.withUnsafeBufferPointer { offsets in
            items.withUnsafeBufferPointer { items in
            shuffledRatings.withUnsafeBufferPointer { ratings in
            times.withUnsafeBufferPointer { times in
            state.p.withUnsafeMutableBufferPointer { p in
            state.q.withUnsafeMutableBufferPointer { q in
            state.userBiases.withUnsafeMutableBufferPointer { bu in
            state.itemBiases.withUnsafeMutableBufferPointer { bi in
            itemBins.withUnsafeMutableBufferPointer { itemBins in
            drift.withUnsafeMutableBufferPointer { drift in
                let shared = RatingSGD(
                    order: order.baseAddress!, offsets: offsets.baseAddress!,
                    items: items.baseAddress!, ratings: ratings.baseAddress!, times: timed ? times.baseAddress : nil, mean: mean, k: config.factorCount,
                    rate: rate, regularization: config.regularization, p: p.baseAddress!, q: q.baseAddress!, bu: bu.baseAddress!,
                    bi: bi.baseAddress!, itemBins: timed ? itemBins.baseAddress : nil, drift: timed ? drift.baseAddress : nil,
                    binCount: config.timeBinCount, driftRate: config.driftLearningRate, driftRegularization: config.driftRegularization)
                Parallel.forEach(chunkCount: chunks.count, threadCount: threadCount) { chunk in shared.run(users: chunks[chunk]) }
            } } } } } } } } } } }
            rate *= config.learningRateDecay
            progress?(epoch + 1, config.epochCount)
        }
        temporal?.itemBinBiases = itemBins
        temporal?.userDrift = drift
    }

    /// Alternating exact ridge solves; see the type's documentation.
    static func trainALS(
        _ train: Interactions, ratings: [Float], mean: Float, config: Config, state: inout SGDState, threadCount: Int,
        progress: ((Int, Int) -> Void)?
    ) {
        guard let rated = try? Interactions(
            users: train.users, items: train.items, ratings: ratings, userCount: train.userCount, itemCount: train.itemCount)
        else { preconditionFailure("the training data's own columns are valid") }
        let byUser = InteractionMatrix.byUser(rated), byItem = InteractionMatrix.byItem(rated)
        for iteration in 0..<config.epochCount {
            ridgeSweep(solving: &state.p, biases: &state.userBiases, fixed: state.q, fixedBiases: state.itemBiases, matrix: byUser,
                       mean: mean, config: config, threadCount: threadCount)
            ridgeSweep(solving: &state.q, biases: &state.itemBiases, fixed: state.p, fixedBiases: state.userBiases, matrix: byItem,
                       mean: mean, config: config, threadCount: threadCount)
            progress?(iteration + 1, config.epochCount)
        }
    }

    /// For every row r: [x_r, b_r] = argmin Σ_j (v_rj − μ − b_j − x_r·y_j − b_r)² + λ·n_r(‖x_r‖² + b_r²).
    static func ridgeSweep(
        solving target: inout [Float], biases: inout [Float], fixed: [Float], fixedBiases: [Float], matrix: InteractionMatrix,
        mean: Float, config: Config, threadCount: Int
    ) {
        let k = config.factorCount, n = k + 1
        let chunks = Parallel.chunks(count: matrix.rowCount, chunkCount: max(1, min(matrix.rowCount, threadCount * 16)))
        target.withUnsafeMutableBufferPointer { targetBuffer in
            biases.withUnsafeMutableBufferPointer { biasBuffer in
                let output = RowOutput(factors: targetBuffer.baseAddress!, biases: biasBuffer.baseAddress!)
                Parallel.forEach(chunkCount: chunks.count, threadCount: threadCount) { chunk in
                    var a = [Double](repeating: 0, count: n * n), b = [Double](repeating: 0, count: n)
                    for row in chunks[chunk] {
                        let range = matrix.rowOffsets[row]..<matrix.rowOffsets[row + 1]
                        if range.isEmpty { continue }
                        // The row's features [y_j, 1] as columns of Xᵀ (n × count): A = XᵀX and b = Xᵀt are
                        // dot products of contiguous rows. (BLAS here would start its own threads
                        // inside ours for every row.)
                        let count = range.count
                        var transposed = [Float](repeating: 1, count: n * count), targets = [Float](repeating: 0, count: count)
                        for (slot, position) in range.enumerated() {
                            let j = Int(matrix.columnIndices[position])
                            for f in 0..<k { transposed[f * count + slot] = fixed[j * k + f] }
                            targets[slot] = matrix.values[position] - mean - fixedBiases[j]
                        }
                        var products = [Float](repeating: 0, count: n)
                        transposed.withUnsafeBufferPointer { xt in
                            products.withUnsafeMutableBufferPointer { out in
                                let rows = xt.baseAddress!
                                for r in 0..<n {
                                    VectorKernels.dots(rows: rows, rowCount: r + 1, vector: rows + r * count, count: count, into: out.baseAddress!)
                                    for c in 0...r { a[r * n + c] = Double(out[c]) }
                                }
                                targets.withUnsafeBufferPointer { t in
                                    VectorKernels.dots(rows: rows, rowCount: n, vector: t.baseAddress!, count: count, into: out.baseAddress!)
                                }
                            }
                        }
                        for f in 0..<n { b[f] = Double(products[f]) }
                        let penalty = Double(config.regularization) * Double(range.count)
                        for f in 0..<n { a[f * n + f] += penalty }
                        a.withUnsafeMutableBufferPointer { a in b.withUnsafeMutableBufferPointer { b in Cholesky.solve(a.baseAddress!, b.baseAddress!, n: n) } }
                        for f in 0..<k { output.factors[row * k + f] = Float(b[f]) }
                        output.biases[row] = Float(b[k])
                    }
                }
            }
        }
    }

    public func predict(user: Int32, item: Int32) -> Float { predict(user: user, item: item, time: nil) }

    /// The predicted rating at `time` (seconds, as the training timestamps): with the temporal terms
    /// when the model has them; without a time, the static model.
    public func predict(user: Int32, item: Int32, time: Int64?) -> Float {
        let u = Int(user), i = Int(item)
        let userKnown = u >= 0 && u < userCount && knownUsers[u], itemKnown = i >= 0 && i < itemCount && knownItems[i]
        var estimate = globalMean
        if userKnown { estimate += userBiases[u] }
        if itemKnown { estimate += itemBiases[i] }
        if let temporal, let time {
            let at = temporal.time(of: time, user: u)
            if userKnown { estimate += temporal.userDrift[u] * at.deviation }
            if itemKnown { estimate += temporal.itemBinBiases[i * temporal.binCount + Int(at.bin)] }
        }
        if userKnown && itemKnown {
            let k = config.factorCount
            for f in 0..<k { estimate += userFactors.scalars[u * k + f] * itemFactors.scalars[i * k + f] }
        }
        return min(max(estimate, ratingRange.lowerBound), ratingRange.upperBound)
    }

    /// Top-N from predicted ratings: biases plus factors for every item.
    public func scores(forUsers users: [Int32]) -> Tensor {
        var scores = userFactors.gathering(rows: users).matmul(itemFactors, transposingOther: true)
        for (row, user) in users.enumerated() {
            for item in 0..<itemCount { scores.scalars[row * itemCount + item] += globalMean + userBiases[Int(user)] + itemBiases[item] }
        }
        return scores
    }

    /// A new user's scores: item biases (the popular-and-liked prior) without a user vector.
    public func scores(forHistory history: [Int32]) -> [Float] { itemBiases.map { globalMean + $0 } }
}

/// Raw pointers shared by the SGD chunks of one epoch: concurrent unsynchronised updates of the
/// parameters are Hogwild (racy by design) with several threads, never used elsewhere.
struct RatingSGD: @unchecked Sendable {
    /// The epoch's user order and each user's range of rows.
    let order: UnsafePointer<Int>
    let offsets: UnsafePointer<Int>
    let items: UnsafePointer<Int32>, ratings: UnsafePointer<Float>
    /// Each rating's time bin and user deviation, with `temporal`.
    let times: UnsafePointer<TemporalBiases.Time>?
    let mean: Float
    let k: Int
    let rate: Float, regularization: Float
    let p: UnsafeMutablePointer<Float>, q: UnsafeMutablePointer<Float>
    let bu: UnsafeMutablePointer<Float>, bi: UnsafeMutablePointer<Float>
    let itemBins: UnsafeMutablePointer<Float>?, drift: UnsafeMutablePointer<Float>?
    let binCount: Int
    let driftRate: Float, driftRegularization: Float

    /// One SGD step per rating of the users at positions `range` of the epoch's user order.
    @inline(__always)
    func run(users range: Range<Int>) {
        let reg = regularization
        for slot in range {
            let u = order[slot]
            for row in offsets[u]..<offsets[u + 1] {
                let i = Int(items[row])
                let pu = p + u * k, qi = q + i * k
                var estimate = mean + bu[u] + bi[i] + VectorKernels.dot(pu, qi, count: k)
                var bin = 0
                var deviation: Float = 0
                if let times {
                    bin = i * binCount + Int(times[row].bin)
                    deviation = times[row].deviation
                    estimate += itemBins![bin] + drift![u] * deviation
                }
                let error = ratings[row] - estimate
                bu[u] += rate * (error - reg * bu[u])
                bi[i] += rate * (error - reg * bi[i])
                if times != nil {
                    itemBins![bin] += rate * (error - reg * itemBins![bin])
                    drift![u] += driftRate * (error * deviation - driftRegularization * drift![u])
                }
                VectorKernels.updatePair(pu, qi, count: k, error: error, rate: rate, regularization: reg)
            }
        }
    }
}

/// Where a ridge sweep writes each row's solution (each chunk owns its rows).
struct RowOutput: @unchecked Sendable {
    let factors: UnsafeMutablePointer<Float>
    let biases: UnsafeMutablePointer<Float>
}

/// timeSVD's time effects: item biases per time bin and a user bias drifting with the distance from
/// the user's mean rating date.
public struct TemporalBiases: Sendable, Equatable {
    /// The first training timestamp (seconds) and the width of a bin.
    public var start: Int64
    public var binSeconds: Int64
    public var binCount: Int
    public var exponent: Float
    /// `[itemCount, binCount]`, row-major.
    public var itemBinBiases: [Float]
    /// α_u.
    public var userDrift: [Float]
    /// t̄_u in days since `start`.
    public var userMeanDay: [Float]

    /// A rating's bin and dev_u(t).
    public struct Time: Sendable, Equatable {
        public var bin: Int32
        public var deviation: Float
    }

    init(_ timestamps: [Int64], users: [Int32], userCount: Int, itemCount: Int, config: BiasedMF.Config) {
        let first = timestamps.min() ?? 0, last = timestamps.max() ?? 0
        start = first
        binCount = config.timeBinCount
        binSeconds = max(1, (last - first) / Int64(config.timeBinCount) + 1)
        exponent = config.driftExponent
        itemBinBiases = [Float](repeating: 0, count: itemCount * config.timeBinCount)
        userDrift = [Float](repeating: 0, count: userCount)
        var sums = [Double](repeating: 0, count: userCount), counts = [Int](repeating: 0, count: userCount)
        for (row, user) in users.enumerated() {
            sums[Int(user)] += Double(timestamps[row] - first) / 86_400
            counts[Int(user)] += 1
        }
        userMeanDay = zip(sums, counts).map { $1 == 0 ? 0 : Float($0 / Double($1)) }
    }

    init(restoring start: Int64, binSeconds: Int64, exponent: Float, itemBinBiases: [Float], userDrift: [Float], userMeanDay: [Float], binCount: Int) {
        self.start = start
        self.binSeconds = binSeconds
        self.binCount = binCount
        self.exponent = exponent
        self.itemBinBiases = itemBinBiases
        self.userDrift = userDrift
        self.userMeanDay = userMeanDay
    }

    /// The bin of `timestamp` (clamped to the trained range) and dev_u(t) for a user (0 when unknown).
    public func time(of timestamp: Int64, user: Int) -> Time {
        let bin = Int32(clamping: min(max((timestamp - start) / binSeconds, 0), Int64(binCount - 1)))
        guard user >= 0 && user < userMeanDay.count else { return Time(bin: bin, deviation: 0) }
        let difference = Float(Double(timestamp - start) / 86_400) - userMeanDay[user]
        let magnitude = Float(Foundation.pow(Double(abs(difference)), Double(exponent)))
        return Time(bin: bin, deviation: difference < 0 ? -magnitude : magnitude)
    }
}
