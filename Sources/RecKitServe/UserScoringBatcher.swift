import Foundation
import RecKit

/// Concurrent requests for training users' own lists (or for fold-in histories), scored together:
/// whatever arrived while the previous batch was being scored becomes the next batch, one pass of the
/// model's `topItems` (a factor model scores its packed item table a block at a time for all of them:
/// `PackedRows`) or one matrix product and top-k for histories. One user at a time, each request would
/// read the whole item table (27,000 × 64 floats, ~7 MB) for a single dot product per item; a batch
/// reads it once for up to `maxBatch` users. Nothing waits for a batch to fill: a lone request is
/// scored at once.
final class UserScoringBatcher: @unchecked Sendable { // `pending` and `started` are guarded by `condition`
    /// Whose scores: a training user's, or a history's (fold-in).
    enum Input {
        case user(Int32)
        case history([Int32])
        var isUser: Bool { if case .user = self { return true } else { return false } }
    }

    struct Job {
        let generation: Int
        let model: any Recommender
        let input: Input
        let excluded: [Int32]
        let k: Int
        let continuation: CheckedContinuation<[ScoredIndex], Never>
    }

    private let condition = NSCondition()
    private var pending: [Job] = []
    private var started = false
    let maxBatch: Int

    init(maxBatch: Int = 256) { self.maxBatch = maxBatch }

    /// The best `k` items of `model` for `user` without `excluded`, as `model.topItems(forUsers:)` (for a
    /// history `scores(forHistories:)` and `topKPerRow`) gives them one by one. `generation` tells models
    /// apart across reloads.
    func topK(model: any Recommender, generation: Int, input: Input, excluded: [Int32], k: Int) async
        -> [ScoredIndex]
    {
        await withCheckedContinuation { continuation in
            condition.lock()
            pending.append(
                Job(
                    generation: generation, model: model, input: input, excluded: excluded, k: k,
                    continuation: continuation))
            if !started {
                started = true
                let thread = Thread { [self] in run() }
                thread.name = "reckit-scoring"
                thread.start()
            }
            condition.signal()
            condition.unlock()
        }
    }

    private func run() {
        while true {
            condition.lock()
            while pending.isEmpty { condition.wait() }
            let generation = pending[0].generation
            var batch: [Job] = []
            var rest: [Job] = []
            for job in pending {
                if job.generation == generation && batch.count < maxBatch {
                    batch.append(job)
                } else {
                    rest.append(job)
                }
            }
            pending = rest
            condition.unlock()
            score(batch)
        }
    }

    /// One product and one top-k pass for the batch.
    private func score(_ jobs: [Job]) {
        let model = jobs[0].model
        // Not BLASLibrary.singleThreaded: it changes BLAS's thread count for the whole process, and a
        // training in the same process (the test suite) must not see it change (measured: no faster).
        let k = jobs.map(\.k).max() ?? 0
        let lists =
            jobs[0].input.isUser
            ? model.topItems(
                forUsers: jobs.map { if case .user(let user) = $0.input { user } else { -1 } }, k: k,
                excluding: jobs.map(\.excluded))
            : model.scores(forHistories: jobs.map { if case .history(let items) = $0.input { items } else { [] } })
                .topKPerRow(k, excluding: jobs.map(\.excluded))
        for (job, list) in zip(jobs, lists) { job.continuation.resume(returning: Array(list.prefix(job.k))) }
    }
}
