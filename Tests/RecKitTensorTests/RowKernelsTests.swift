import Foundation
import Testing

@testable import RecKitTensor

@Suite struct RowKernelsTests {
    /// Distance in units in the last place between two finite floats of the same sign.
    func ulps(_ a: Float, _ b: Float) -> Int {
        Int(a.bitPattern) - Int(b.bitPattern)
    }

    @Test func exponentialIsWithinTwoUlpsOfLibmEverywhere() {
        var worst = 0
        var worstAt: Float = 0
        var x: Float = -110
        while x < 90 {
            var lanes = SIMD8<Float>()
            for lane in 0..<8 { lanes[lane] = x + Float(lane) * 1.37e-4 }
            let ours = RowKernels.exp(lanes)
            for lane in 0..<8 {
                let reference = Foundation.exp(lanes[lane])
                if reference.isNormal || reference.isInfinite || reference == 0 {
                    if reference.isInfinite || reference == 0 {
                        #expect(
                            ours[lane] == reference || abs(ours[lane]) < 1e-37,
                            "exp(\(lanes[lane])) = \(ours[lane]), libm \(reference)")
                        continue
                    }
                    let distance = abs(ulps(ours[lane], reference))
                    if distance > worst { (worst, worstAt) = (distance, lanes[lane]) }
                } else {
                    // Subnormal results: a few multiples of the smallest subnormal.
                    #expect(abs(ours[lane] - reference) <= 4 * Float.leastNonzeroMagnitude, "exp(\(lanes[lane]))")
                }
            }
            x += 1.1e-3
        }
        #expect(worst <= 2, "worst \(worst) ulp at \(worstAt)")
        let special = RowKernels.exp(SIMD8(0, -.infinity, .infinity, .nan, -1000, 1000, 1, -1))
        #expect(special[0] == 1 && special[1] == 0 && special[2] == .infinity && special[3].isNaN)
        #expect(special[4] == 0 && special[5] == .infinity)
        #expect(abs(ulps(special[6], Float(M_E))) <= 1 && abs(ulps(special[7], Float(1 / M_E))) <= 1)
    }

    @Test(arguments: [0, 1, 7, 8, 9, 15, 16, 17, 100, 1001])
    func reductionsMatchDoublePrecision(_ count: Int) {
        var generator = SplitMix64(seed: UInt64(count))
        let values = (0..<count).map { _ in (generator.nextUnitFloat() - 0.5) * 20 }
        values.withUnsafeBufferPointer { a in
            let base = a.baseAddress ?? UnsafePointer(bitPattern: 16)!
            let sum = values.reduce(0.0) { $0 + Double($1) }
            #expect(abs(Double(RowKernels.sum(base, count: count)) - sum) <= 1e-4 * max(1, Double(count)))
            #expect(RowKernels.max(base, count: count) == (values.max() ?? -.infinity))
            let shift = values.max() ?? 0
            let exponentials = values.reduce(0.0) { $0 + Foundation.exp(Double($1 - shift)) }
            var written = [Float](repeating: -1, count: count)
            let total = written.withUnsafeMutableBufferPointer {
                RowKernels.sumOfExponentials(base, count: count, minus: shift, writingTo: $0.baseAddress)
            }
            #expect(abs(Double(total) - exponentials) <= 1e-5 * max(1, exponentials))
            for (value, e) in zip(values, written) {
                #expect(abs(Double(e) - Foundation.exp(Double(value - shift))) <= 1e-6)
            }
        }
    }

    @Test func rowReductionsOfALargeTensorMatchDoublePrecision() {
        // 300 × 1001 = 300,300 elements: the parallel row chunks and the vector tails are both used.
        let rows = 300
        let width = 1001
        var generator = SplitMix64(seed: 9)
        let x = Tensor(
            shape: [rows, width], scalars: (0..<(rows * width)).map { _ in (generator.nextUnitFloat() - 0.5) * 30 })
        let y = Tensor(shape: [rows, width], scalars: (0..<(rows * width)).map { _ in generator.nextUnitFloat() })
        let (sums, maxima, lse, dots) = (
            x.sum(alongAxis: -1), x.maxAlongLastAxis(), x.logSumExpAlongLastAxis(), x.rowDots(y)
        )
        let softmax = x.softmaxAlongLastAxis()
        #expect(
            sums.shape == [rows, 1] && lse.shape == [rows, 1] && dots.shape == [rows, 1]
                && softmax.shape == [rows, width])
        for row in 0..<rows {
            let values = (0..<width).map { Double(x.scalars[row * width + $0]) }
            let weights = (0..<width).map { Double(y.scalars[row * width + $0]) }
            let top = values.max()!
            let total = values.reduce(0) { $0 + Foundation.exp($1 - top) }
            #expect(abs(Double(sums.scalars[row]) - values.reduce(0, +)) < 1e-2)
            #expect(Double(maxima.scalars[row]) == top)
            #expect(
                abs(Double(lse.scalars[row]) - (top + Foundation.log(total))) < 1e-5 * abs(top + Foundation.log(total))
                    + 1e-5)
            #expect(abs(Double(dots.scalars[row]) - zip(values, weights).reduce(0) { $0 + $1.0 * $1.1 }) < 1e-2)
            for j in stride(from: 0, to: width, by: 97) {
                #expect(abs(Double(softmax.scalars[row * width + j]) - Foundation.exp(values[j] - top) / total) < 1e-6)
            }
        }
        // By hand: [1, 2, 3]·[4, 5, 6] = 32, [−1, 0, 2]·[1, 1, 1] = 1.
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, -1, 0, 2])
        let b = Tensor(shape: [2, 3], scalars: [4, 5, 6, 1, 1, 1])
        #expect(a.rowDots(b) == Tensor(shape: [2, 1], scalars: [32, 1]))
    }
}
