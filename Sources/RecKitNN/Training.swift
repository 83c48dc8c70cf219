import Dispatch
import Foundation
import RecKitTensor

/// Mini-batches of example indices: a fresh seeded shuffle each epoch (or the given order), cut
/// into batches of `batchSize` (the last one shorter unless `dropLast`).
public struct BatchSchedule: Sendable {
    public let exampleCount: Int
    public let batchSize: Int
    public let shuffle: Bool
    public let dropLast: Bool
    public let seed: UInt64

    public init(exampleCount: Int, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false, seed: UInt64 = 0) {
        precondition(batchSize > 0, "batch size must be positive")
        self.exampleCount = exampleCount
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
    }

    public var batchesPerEpoch: Int { dropLast ? exampleCount / batchSize : (exampleCount + batchSize - 1) / batchSize }

    /// The batches of `epoch` (0-based); the same epoch always gives the same batches.
    public func batches(epoch: Int) -> [[Int]] {
        var order = Array(0..<exampleCount)
        if shuffle {
            var generator = SplitMix64(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
            generator.shuffle(&order)
        }
        return (0..<batchesPerEpoch).map { Array(order[($0 * batchSize)..<min(exampleCount, ($0 + 1) * batchSize)]) }
    }
}

/// Runs `prepare` for each input on a background thread, at most `depth` results ahead of the
/// consumer (the `prefetch` of TensorFlow's `Dataset`): batch assembly (lookups, negative sampling)
/// overlaps the training step. Results come back in input order.
public final class Prefetcher<Output: Sendable>: IteratorProtocol, Sequence, @unchecked Sendable {
    private let lock = NSCondition()
    private var buffer: [Output] = []
    private var finished = false
    private var cancelled = false
    private let depth: Int

    public init<Input: Sendable>(_ inputs: [Input], depth: Int = 2, prepare: @escaping @Sendable (Input) -> Output) {
        self.depth = Swift.max(1, depth)
        let thread = Thread { [self] in
            for input in inputs {
                let output = prepare(input)
                lock.lock()
                while buffer.count >= self.depth && !cancelled { lock.wait() }
                if cancelled {
                    lock.unlock()
                    return
                }
                buffer.append(output)
                lock.broadcast()
                lock.unlock()
            }
            lock.lock()
            finished = true
            lock.broadcast()
            lock.unlock()
        }
        thread.start()
    }

    public func next() -> Output? {
        lock.lock()
        defer { lock.unlock() }
        while buffer.isEmpty && !finished { lock.wait() }
        if buffer.isEmpty { return nil }
        let output = buffer.removeFirst()
        lock.broadcast()
        return output
    }

    /// Stops the producer early (e.g. when training stops mid-epoch).
    public func cancel() {
        lock.lock()
        cancelled = true
        finished = true
        buffer.removeAll()
        lock.broadcast()
        lock.unlock()
    }

    deinit { cancel() }
}

/// Draws negative items for implicit-feedback training.
public struct NegativeSampler: Sendable {
    public enum Kind: Sendable, Equatable {
        /// Every item equally likely.
        case uniform
        /// Items in proportion to count^α (word2vec's 0.75; 0 is uniform, 1 popularity).
        case popularity(alpha: Double)
    }

    public let itemCount: Int
    public let kind: Kind
    let table: AliasTable?
    /// log Q(item) for the sampled-softmax correction.
    public let logProbabilities: [Float]

    /// - Parameter counts: interactions per item (for `.popularity`).
    public init(itemCount: Int, kind: Kind = .uniform, counts: [Int] = []) {
        precondition(itemCount > 0, "a sampler needs items")
        self.itemCount = itemCount
        self.kind = kind
        switch kind {
        case .uniform:
            table = nil
            logProbabilities = [Float](repeating: -Float(Foundation.log(Double(itemCount))), count: itemCount)
        case .popularity(let alpha):
            precondition(counts.count == itemCount, "popularity sampling needs one count per item")
            let weights = counts.map { Foundation.pow(Double(max(0, $0)), alpha) }
            let total = weights.reduce(0, +)
            precondition(total > 0, "popularity sampling needs a positive count")
            table = AliasTable(weights: weights)
            logProbabilities = weights.map { $0 > 0 ? Float(Foundation.log($0 / total)) : -.infinity }
        }
    }

    public func sample(using generator: inout some RandomNumberGenerator) -> Int32 {
        if let table { return Int32(table.sample(using: &generator)) }
        return Int32(generator.nextIndex(below: itemCount))
    }

    /// `count` draws, redrawing (up to 10 times) an item in `excluded` (e.g. the user's positives).
    public func sample(
        _ count: Int, excluding excluded: Set<Int32> = [], using generator: inout some RandomNumberGenerator
    ) -> [Int32] {
        (0..<count).map { _ in sample(excluding: excluded.contains, maxRedraws: 10, using: &generator) }
    }

    /// One draw, redrawn up to `maxRedraws` times while `isExcluded` (e.g. "the user has it"); the
    /// last draw is kept when every one was excluded (a user who has nearly every item).
    public func sample(
        excluding isExcluded: (Int32) -> Bool, maxRedraws: Int, using generator: inout some RandomNumberGenerator
    ) -> Int32 {
        var item = sample(using: &generator)
        var redraws = 0
        while isExcluded(item) && redraws < maxRedraws {
            item = sample(using: &generator)
            redraws += 1
        }
        return item
    }

    /// In-batch negatives: for example b, the positives of the other examples in the batch (the
    /// columns of a `[batch, batch]` score matrix whose diagonal holds the positives).
    public static func inBatch(positives: [Int32]) -> [[Int32]] {
        positives.indices.map { row in positives.indices.filter { $0 != row }.map { positives[$0] } }
    }
}

/// Stops training when a validation metric has not improved for `patience` evaluations, and
/// remembers the best.
public struct EarlyStopping: Sendable {
    public let patience: Int
    public let higherIsBetter: Bool
    public let minimumImprovement: Double
    public private(set) var best: Double?
    public private(set) var bestEpoch: Int?
    public private(set) var evaluationsWithoutImprovement = 0

    public init(patience: Int, higherIsBetter: Bool = true, minimumImprovement: Double = 0) {
        self.patience = patience
        self.higherIsBetter = higherIsBetter
        self.minimumImprovement = minimumImprovement
    }

    /// Records `value` for `epoch`; returns whether it is the new best.
    public mutating func record(_ value: Double, epoch: Int) -> Bool {
        let improved =
            best.map { higherIsBetter ? value > $0 + minimumImprovement : value < $0 - minimumImprovement } ?? true
        if improved {
            best = value
            bestEpoch = epoch
            evaluationsWithoutImprovement = 0
        } else {
            evaluationsWithoutImprovement += 1
        }
        return improved
    }

    public var shouldStop: Bool { evaluationsWithoutImprovement >= patience }
}
