import Foundation
import RecKitData
import RecKitTensor

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
        let first = timestamps.min() ?? 0
        let last = timestamps.max() ?? 0
        start = first
        binCount = config.timeBinCount
        binSeconds = max(1, (last - first) / Int64(config.timeBinCount) + 1)
        exponent = config.driftExponent
        itemBinBiases = [Float](repeating: 0, count: itemCount * config.timeBinCount)
        userDrift = [Float](repeating: 0, count: userCount)
        var sums = [Double](repeating: 0, count: userCount)
        var counts = [Int](repeating: 0, count: userCount)
        for (row, user) in users.enumerated() {
            sums[Int(user)] += Double(timestamps[row] - first) / 86_400
            counts[Int(user)] += 1
        }
        userMeanDay = zip(sums, counts).map { $1 == 0 ? 0 : Float($0 / Double($1)) }
    }

    func save(into weights: inout ModelWeights) {
        weights.entries["temporal_time"] = .int64([start, binSeconds], shape: [2])
        weights.entries["temporal_item_bins"] = .float32(
            Tensor(shape: [itemBinBiases.count / binCount, binCount], scalars: itemBinBiases))
        weights.store(userDrift, as: "temporal_user_drift")
        weights.store(userMeanDay, as: "temporal_user_mean_day")
    }

    init(restoring weights: ModelWeights, config: BiasedMF.Config, userCount: Int, itemCount: Int) throws(RestoreError)
    {
        guard case .int64(let time, let timeShape)? = weights.entries["temporal_time"], timeShape == [2], time[1] > 0
        else {
            throw RestoreError("svd: missing or malformed temporal_time")
        }
        start = time[0]
        binSeconds = time[1]
        binCount = config.timeBinCount
        exponent = config.driftExponent
        itemBinBiases = try weights.tensor("temporal_item_bins", shape: [itemCount, config.timeBinCount]).scalars
        userDrift = try weights.vector("temporal_user_drift", count: userCount)
        userMeanDay = try weights.vector("temporal_user_mean_day", count: userCount)
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
