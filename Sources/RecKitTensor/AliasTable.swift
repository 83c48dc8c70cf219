/// Walker's alias method (Vose's construction): O(1) draws from a fixed discrete distribution.
///
/// Built with `+ - * /` only, so the same weights give the same table, and the same generator the
/// same draws, on every platform.
public struct AliasTable: Sendable {
    private var probability: [Double]
    private var alias: [Int32]

    /// - Parameter weights: non-negative, not all zero.
    public init(weights: [Double]) {
        let n = weights.count
        precondition(n > 0, "AliasTable needs at least one weight")
        let total = weights.reduce(0, +)
        precondition(total > 0 && total.isFinite, "AliasTable needs a positive finite total weight")
        var scaled = weights.map { $0 * Double(n) / total }
        probability = [Double](repeating: 1, count: n)
        alias = Array(0..<Int32(n))
        var small: [Int] = []
        var large: [Int] = []
        for index in 0..<n { if scaled[index] < 1 { small.append(index) } else { large.append(index) } }
        while let less = small.popLast() {
            guard let more = large.popLast() else { break }
            probability[less] = scaled[less]
            alias[less] = Int32(more)
            scaled[more] = (scaled[more] + scaled[less]) - 1
            if scaled[more] < 1 { small.append(more) } else { large.append(more) }
        }
    }

    public var count: Int { probability.count }

    /// One draw.
    @inline(__always)
    public func sample(using generator: inout some RandomNumberGenerator) -> Int {
        let column = generator.nextIndex(below: probability.count)
        return generator.nextUnitDouble() < probability[column] ? column : Int(alias[column])
    }
}
