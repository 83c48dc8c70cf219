import Foundation

/// Chunked parallel loops over all cores.
///
/// Work is cut into contiguous chunks that do not depend on the thread count, so code that seeds one
/// generator per chunk (not per thread) gives the same result on 1 or 64 cores.
public enum Parallel {
    /// The number of worker threads: `RECKIT_THREADS` when set to a positive integer, else the
    /// number of active processors.
    public static var defaultThreadCount: Int {
        if let text = ProcessInfo.processInfo.environment["RECKIT_THREADS"], let value = Int(text), value > 0 {
            return value
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Splits `0..<count` into `chunkCount` contiguous ranges whose sizes differ by at most one.
    /// - Returns: the ranges in order; empty when `count` is 0.
    public static func chunks(count: Int, chunkCount: Int) -> [Range<Int>] {
        precondition(count >= 0 && chunkCount > 0, "chunks(count: \(count), chunkCount: \(chunkCount))")
        guard count > 0 else { return [] }
        let n = min(chunkCount, count)
        let base = count / n
        let extra = count % n
        var result: [Range<Int>] = []
        result.reserveCapacity(n)
        var start = 0
        for index in 0..<n {
            let size = base + (index < extra ? 1 : 0)
            result.append(start..<(start + size))
            start += size
        }
        return result
    }

    /// Runs `body(chunkIndex)` for every chunk index in `0..<chunkCount`, on up to `threadCount`
    /// threads. Returns when every call has finished.
    ///
    /// - Parameters:
    ///   - chunkCount: the number of independent pieces of work.
    ///   - threadCount: the maximum concurrency; 1 runs inline, in order.
    ///   - body: called once per chunk index, possibly concurrently.
    public static func forEach(
        chunkCount: Int, threadCount: Int = Parallel.defaultThreadCount, _ body: @Sendable (Int) -> Void
    ) {
        guard chunkCount > 0 else { return }
        if threadCount <= 1 || chunkCount == 1 {
            for index in 0..<chunkCount { body(index) }
            return
        }
        let workers = min(threadCount, chunkCount)
        let counter = AtomicCounter()
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let index = counter.next()
                if index >= chunkCount { break }
                body(index)
            }
        }
    }

    /// Maps each chunk index to a value in parallel and returns the values in chunk order.
    public static func map<T: Sendable>(
        chunkCount: Int, threadCount: Int = Parallel.defaultThreadCount, _ body: @Sendable (Int) -> T
    ) -> [T] {
        let box = ResultBox<T>(count: chunkCount)
        forEach(chunkCount: chunkCount, threadCount: threadCount) { index in box.set(index, body(index)) }
        return box.values()
    }
}

/// A lock-protected counter handing out work indices.
final class AtomicCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        let current = value
        value += 1
        return current
    }
}

/// Collects per-chunk results written from several threads; each slot is written once.
final class ResultBox<T>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: T) {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = value
    }
    func values() -> [T] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}
