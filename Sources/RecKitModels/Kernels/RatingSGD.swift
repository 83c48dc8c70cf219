import RecKitTensor

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
    /// False: plain MF, the biases stay 0.
    let biased: Bool
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
                let pu = p + u * k
                let qi = q + i * k
                var estimate = mean + bu[u] + bi[i] + VectorKernels.dot(pu, qi, count: k)
                var bin = 0
                var deviation: Float = 0
                if let times {
                    bin = i * binCount + Int(times[row].bin)
                    deviation = times[row].deviation
                    estimate += itemBins![bin] + drift![u] * deviation
                }
                let error = ratings[row] - estimate
                if biased {
                    bu[u] += rate * (error - reg * bu[u])
                    bi[i] += rate * (error - reg * bi[i])
                }
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
