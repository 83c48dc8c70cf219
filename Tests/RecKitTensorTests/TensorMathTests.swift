import Foundation
import Testing

@testable import RecKitTensor

/// Forward values of the tensor math against hand-computed results.
@Suite struct TensorMathTests {
    let m = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])

    @Test func repeatingRowByHand() {
        #expect(Tensor(repeatingRow: [1, 2, 3], count: 2) == Tensor(shape: [2, 3], scalars: [1, 2, 3, 1, 2, 3]))
        #expect(Tensor(repeatingRow: [4], count: 0).shape == [0, 1])
    }

    @Test func broadcastingFollowsNumPy() {
        #expect(
            m + Tensor(shape: [3], scalars: [10, 20, 30]) == Tensor(shape: [2, 3], scalars: [11, 22, 33, 14, 25, 36]))
        #expect(
            m * Tensor(shape: [2, 1], scalars: [2, -1]) == Tensor(shape: [2, 3], scalars: [2, 4, 6, -4, -5, -6]))
        #expect(
            Tensor(shape: [2, 1], scalars: [1, 2]) - Tensor(shape: [1, 3], scalars: [1, 2, 3])
                == Tensor(shape: [2, 3], scalars: [0, -1, -2, 1, 0, -1]))
        #expect(m / Tensor(scalar: 2) == m * 0.5)
        let cube = Tensor(shape: [2, 1, 2], scalars: [1, 2, 3, 4]) + Tensor(shape: [3, 1], scalars: [0, 10, 20])
        #expect(cube.shape == [2, 3, 2] && cube.scalars == [1, 2, 11, 12, 21, 22, 3, 4, 13, 14, 23, 24])
        #expect(
            Tensor.broadcastShape([2, 3], [4, 3]) == nil && Tensor.broadcastShape([5, 1, 3], [4, 1]) == [5, 4, 3])
        // Large operands take the parallel path with the same result.
        let big = Tensor(shape: [1 << 19], scalars: (0..<(1 << 19)).map { Float($0 % 97) })
        #expect(
            (big + big).scalars == big.scalars.map { $0 * 2 }
                && big.map { $0 - 1 }.scalars == big.scalars.map { $0 - 1 })
    }

    @Test func reductionsAndBroadcastAdjoints() {
        #expect(m.sum() == 21 && m.mean() == 3.5)
        #expect(m.sum(alongAxis: 0) == Tensor(shape: [1, 3], scalars: [5, 7, 9]))
        #expect(m.sum(alongAxis: -1) == Tensor(shape: [2, 1], scalars: [6, 15]))
        #expect(m.mean(alongAxis: 1) == Tensor(shape: [2, 1], scalars: [2, 5]))
        #expect(m.summed(toShape: [3]) == Tensor(shape: [3], scalars: [5, 7, 9]))
        #expect(m.summed(toShape: [2, 1]) == Tensor(shape: [2, 1], scalars: [6, 15]))
        #expect(m.summed(toShape: []) == Tensor(scalar: 21))
        let cube = Tensor(shape: [2, 3, 2], scalars: (0..<12).map(Float.init))
        #expect(
            cube.summed(toShape: [3, 1])
                == Tensor(shape: [3, 1], scalars: [0 + 1 + 6 + 7, 2 + 3 + 8 + 9, 4 + 5 + 10 + 11]))
        #expect(m.maxAlongLastAxis() == Tensor(shape: [2, 1], scalars: [3, 6]))
    }

    @Test func softmaxIsStableAndNormalised() {
        let x = Tensor(shape: [2, 3], scalars: [1000, 1001, 1002, -5, 0, -.infinity])
        let p = x.softmaxAlongLastAxis()
        let e = [Float(1), 2.7182817, 7.389056]
        let total = e.reduce(0, +)
        #expect(zip(p.scalars[0..<3], e.map { $0 / total }).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(p.scalars[5] == 0 && abs(p.scalars[3] + p.scalars[4] - 1) < 1e-6)
        let lse = x.logSumExpAlongLastAxis()
        #expect(abs(lse.scalars[0] - (1002 + Float(log(Double(total / 7.389056))))) < 1e-3)
        #expect(x.logSoftmaxAlongLastAxis().scalars[5] == -.infinity)
        #expect(
            Tensor(shape: [1, 2], scalars: [-.infinity, -.infinity]).logSumExpAlongLastAxis().scalars == [-.infinity])
    }

    @Test func shapesProductsAndRows() {
        #expect(m.transposed() == Tensor(shape: [3, 2], scalars: [1, 4, 2, 5, 3, 6]))
        // A transpose larger than one 32 × 32 tile, with ragged edges: element (r, c) moves to (c, r).
        let wide = Tensor(shape: [37, 70], scalars: (0..<(37 * 70)).map(Float.init))
        let flipped = wide.transposed()
        #expect(flipped.shape == [70, 37])
        #expect(
            (0..<37).allSatisfy { r in (0..<70).allSatisfy { c in flipped.scalars[c * 37 + r] == Float(r * 70 + c) } })
        let cube = Tensor(shape: [2, 3, 2], scalars: (0..<12).map(Float.init))
        #expect(
            cube.permuted([2, 0, 1]).shape == [2, 2, 3]
                && cube.permuted([2, 0, 1]).scalars == [0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11])
        let w = Tensor(shape: [3, 2], scalars: [1, 0, 0, 1, 1, 1])
        #expect(
            m.affine(weight: w, bias: Tensor(shape: [2], scalars: [0.5, -1]))
                == Tensor(shape: [2, 2], scalars: [4.5, 4, 10.5, 10]))
        #expect(
            m.matmul(m, transposingSelf: true) == Tensor(shape: [3, 3], scalars: [17, 22, 27, 22, 29, 36, 27, 36, 45]))
        let batch = Tensor(shape: [2, 1, 2], scalars: [1, 2, 3, 4])
        let other = Tensor(shape: [2, 2, 1], scalars: [1, 1, 2, -1])
        #expect(batch.batchedMatmul(other) == Tensor(shape: [2, 1, 1], scalars: [3, 2]))
        #expect(batch.batchedMatmul(batch, transposingOther: true) == Tensor(shape: [2, 1, 1], scalars: [5, 25]))
        let rows = Tensor.scatterAdding(
            rows: Tensor(shape: [3, 2], scalars: [1, 1, 2, 2, 3, 3]), at: [2, 0, 2], rowCount: 4)
        #expect(rows == Tensor(shape: [4, 2], scalars: [2, 2, 0, 0, 4, 4, 0, 0]))
        #expect(
            Tensor.concatenatingColumns([m, m.columns(1..<2)])
                == Tensor(shape: [2, 4], scalars: [1, 2, 3, 2, 4, 5, 6, 5]))
    }
}
