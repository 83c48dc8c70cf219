import Foundation
import RecKitTensor

/// The step of one triple: BPR's logistic loss or WARP's weighted hinge.
struct SGDRule: Sendable {
    let k: Int
    let rate: Float
    let regularization: Float
    let sampling: BPR.NegativeSampling
    let maxSampled: Int
    let itemCount: Int
    /// 1 / log(I − 1): WARP's rank weight scaled into (0, 1], the range of BPR's σ, so that one
    /// learning rate suits both.
    var warpScale: Float { itemCount > 2 ? 1 / Foundation.log(Float(itemCount - 1)) : 1 }
}

/// Raw pointers shared by Hogwild chunks: concurrent unsynchronised updates of the item factors are
/// the algorithm (racy by design), never used elsewhere. Each user belongs to one chunk.
struct HogwildFactors: @unchecked Sendable {
    let users: UnsafeMutablePointer<Float>
    let items: UnsafeMutablePointer<Float>
    /// The epoch's user order.
    let order: UnsafePointer<Int32>
    let offsets: UnsafePointer<Int>
    let columns: UnsafePointer<Int32>
    /// Training pairs (the length of `columns`): popularity sampling draws one uniformly.
    let pairCount: Int
    let userSquares: UnsafeMutablePointer<Float>?
    let itemSquares: UnsafeMutablePointer<Float>?

    /// Whether `user` has `item` (binary search of the user's sorted row).
    @inline(__always)
    func has(_ user: Int, _ item: Int32) -> Bool {
        var low = offsets[user]
        var high = offsets[user + 1]
        while low < high {
            let middle = (low + high) >> 1
            if columns[middle] < item { low = middle + 1 } else { high = middle }
        }
        return low < offsets[user + 1] && columns[low] == item
    }

    /// For each user at `users` in the epoch order, as many SGD steps as it has training items.
    @inline(__always)
    func run(users range: Range<Int>, rule: SGDRule, using generator: inout SplitMix64) {
        let k = rule.k
        let width = k + 1
        for slot in range {
            let user = Int(order[slot])
            let start = offsets[user]
            let count = offsets[user + 1] - start
            if count == 0 || count == rule.itemCount { continue }
            let u = users + user * width
            for _ in 0..<count {
                let liked = Int(columns[start + generator.nextIndex(below: count)])
                let i = items + liked * width
                var j: UnsafeMutablePointer<Float>
                var weight: Float
                switch rule.sampling {
                case .uniform, .popularity:
                    let other =
                        rule.sampling == .uniform
                        ? generator.nextIndex(below: rule.itemCount)
                        : Int(columns[generator.nextIndex(below: pairCount)])
                    if has(user, Int32(other)) { continue }
                    j = items + other * width
                    let score = VectorKernels.dot(u, i, count: width) - VectorKernels.dot(u, j, count: width)
                    weight = 1 / (1 + Foundation.exp(score)) // σ(−x_uij)
                case .warp:
                    let positive = VectorKernels.dot(u, i, count: width)
                    var found: Int?
                    var draws = 0
                    while draws < rule.maxSampled {
                        draws += 1
                        let other = generator.nextIndex(below: rule.itemCount)
                        if has(user, Int32(other)) { continue }
                        if VectorKernels.dot(u, items + other * width, count: width) > positive - 1 {
                            found = other
                            break
                        }
                    }
                    guard let other = found else { continue }
                    j = items + other * width
                    weight = Foundation.log(Float(max(1, (rule.itemCount - 1) / draws))) * rule.warpScale
                }
                let rate = rule.rate
                let reg = rule.regularization
                if let userSquares, let itemSquares {
                    // AdaGrad per coordinate; f = k is the bias column, whose user side stays 1.
                    let su = userSquares + user * width
                    let si = itemSquares + (i - items)
                    let sj = itemSquares + (j - items)
                    for f in 0...k {
                        let uf = u[f]
                        let itemF = i[f]
                        let jf = j[f]
                        if f < k {
                            let gu = weight * (itemF - jf) - reg * uf
                            su[f] += gu * gu
                            u[f] = uf + rate * gu / su[f].squareRoot()
                        }
                        let gi = weight * uf - reg * itemF
                        let gj = -weight * uf - reg * jf
                        si[f] += gi * gi
                        sj[f] += gj * gj
                        i[f] = itemF + rate * gi / si[f].squareRoot()
                        j[f] = jf + rate * gj / sj[f].squareRoot()
                    }
                    continue
                }
                for f in 0..<k {
                    let uf = u[f]
                    let itemF = i[f]
                    let jf = j[f]
                    u[f] += rate * (weight * (itemF - jf) - reg * uf)
                    i[f] += rate * (weight * uf - reg * itemF)
                    j[f] += rate * (-weight * uf - reg * jf)
                }
                // The bias column: the user side stays 1.
                i[k] += rate * (weight - reg * i[k])
                j[k] += rate * (-weight - reg * j[k])
            }
        }
    }
}
