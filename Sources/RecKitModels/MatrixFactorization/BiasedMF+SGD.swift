import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

extension BiasedMF {
    static func trainSGD(
        _ train: Interactions, ratings: [Float], mean: Float, config: Config, state: inout SGDState,
        temporal: inout TemporalBiases?,
        generator: inout SplitMix64, threadCount: Int, context: TrainingContext
    ) throws(FitError) {
        // The ratings are shuffled once and grouped by user (each user's ratings keep their shuffled
        // order); each epoch visits the users in a fresh random order. A user's vector then stays in
        // cache across its ratings (Surprise also walks ratings user by user), threads own disjoint
        // users, and only item vectors are shared between Hogwild threads.
        var permutation = Array(0..<train.count)
        generator.shuffle(&permutation)
        var offsets = [Int](repeating: 0, count: train.userCount + 1)
        for user in train.users { offsets[Int(user) + 1] += 1 }
        for user in 0..<train.userCount { offsets[user + 1] += offsets[user] }
        var next = offsets
        var grouped = [Int](repeating: 0, count: train.count)
        for row in permutation {
            let user = Int(train.users[row])
            grouped[next[user]] = row
            next[user] += 1
        }
        let items = grouped.map { train.items[$0] }
        let shuffledRatings = grouped.map { ratings[$0] }
        let times =
            temporal.map { t in grouped.map { t.time(of: train.timestamps![$0], user: Int(train.users[$0])) } } ?? []
        var order = Array(0..<train.userCount) // the epoch's user order
        let chunkCount = 64 // fixed: the update order within a chunk never depends on threads
        let chunks = Parallel.chunks(count: order.count, chunkCount: max(1, min(chunkCount, order.count)))
        var rate = config.learningRate
        var itemBins = temporal?.itemBinBiases ?? []
        var drift = temporal?.userDrift ?? []
        let timed = temporal != nil // (an empty array's base address is not nil)
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
                                                            items: items.baseAddress!, ratings: ratings.baseAddress!,
                                                            times: timed ? times.baseAddress : nil,
                                                            mean: config.biased ? mean : 0, biased: config.biased,
                                                            k: config.factorCount,
                                                            rate: rate, regularization: config.regularization,
                                                            p: p.baseAddress!, q: q.baseAddress!, bu: bu.baseAddress!,
                                                            bi: bi.baseAddress!,
                                                            itemBins: timed ? itemBins.baseAddress : nil,
                                                            drift: timed ? drift.baseAddress : nil,
                                                            binCount: config.timeBinCount,
                                                            driftRate: config.driftLearningRate,
                                                            driftRegularization: config.driftRegularization)
                                                        Parallel.forEach(
                                                            chunkCount: chunks.count, threadCount: threadCount
                                                        ) { chunk in shared.run(users: chunks[chunk]) }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            rate *= config.learningRateDecay
            try context.report(TrainingUpdate(step: epoch + 1, total: config.epochCount))
        }
        temporal?.itemBinBiases = itemBins
        temporal?.userDrift = drift
    }
}
