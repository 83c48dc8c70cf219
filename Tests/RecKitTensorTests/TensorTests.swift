import Testing

@testable import RecKitTensor

@Suite struct TensorTests {
    func random(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in generator.nextUnitFloat() * 2 - 1 }
    }

    @Test(arguments: [(1, 1, 1), (3, 4, 5), (17, 9, 33), (64, 64, 1), (5, 0, 3)])
    func matmulMatchesNaiveLoop(m: Int, k: Int, n: Int) {
        let a = Tensor(shape: [m, k], scalars: random(m * k, seed: 1))
        let b = Tensor(shape: [k, n], scalars: random(k * n, seed: 2))
        let bT = Tensor(shape: [n, k], scalars: (0..<(n * k)).map { b.scalars[($0 % k) * n + $0 / k] })
        var expected = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n { for p in 0..<k { expected[i * n + j] += a.scalars[i * k + p] * b.scalars[p * n + j] } }
        }
        for product in [a.matmul(b), a.matmul(bT, transposingOther: true)] {
            #expect(product.shape == [m, n])
            #expect(zip(product.scalars, expected).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        }
    }

    @Test(arguments: [1, 5, 16, 20, 64, 70])
    func blockedDotsEqualSingleDots(count: Int) {
        for rowCount in [1, 3, 4, 7, 9] {
            let rows = random(rowCount * count, seed: 3)
            let vector = random(count, seed: 4)
            var blocked = [Float](repeating: .nan, count: rowCount)
            rows.withUnsafeBufferPointer { r in
                vector.withUnsafeBufferPointer { v in
                    blocked.withUnsafeMutableBufferPointer { out in
                        VectorKernels.dots(
                            rows: r.baseAddress!, rowCount: rowCount, vector: v.baseAddress!, count: count,
                            into: out.baseAddress!)
                        for row in 0..<rowCount {
                            let single = VectorKernels.dot(r.baseAddress! + row * count, v.baseAddress!, count: count)
                            #expect(out[row] == single, "row \(row) of \(rowCount), count \(count)")
                            let exact = (0..<count).reduce(0.0) {
                                $0 + Double(rows[row * count + $1]) * Double(vector[$1])
                            }
                            #expect(abs(Double(single) - exact) < 1e-5 * Double(count))
                        }
                    }
                }
            }
        }
    }

    @Test(arguments: [3, 16, 20, 100])
    func pairUpdateEqualsTheScalarLoop(count: Int) {
        var p = random(count, seed: 5)
        var q = random(count, seed: 6)
        var expectedP = p
        var expectedQ = q
        for index in 0..<count {
            let pf = expectedP[index]
            let qf = expectedQ[index]
            expectedP[index] = pf + 0.05 * (0.7 * qf - 0.02 * pf)
            expectedQ[index] = qf + 0.05 * (0.7 * pf - 0.02 * qf)
        }
        p.withUnsafeMutableBufferPointer { p in
            q.withUnsafeMutableBufferPointer { q in
                VectorKernels.updatePair(
                    p.baseAddress!, q.baseAddress!, count: count, error: 0.7, rate: 0.05, regularization: 0.02)
            }
        }
        #expect(p == expectedP && q == expectedQ)
    }

    @Test func gatheringRows() {
        let t = Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
        #expect(t.gathering(rows: [2, 0, 2]).scalars == [5, 6, 1, 2, 5, 6])
        #expect(t.gathering(rows: []).shape == [0, 2])
    }

    /// The reference: a full stable sort by (score descending, index ascending), NaN and exclusions dropped.
    func naiveTopK(_ row: [Float], k: Int, excluding: Set<Int32>) -> [Int32] {
        let candidates: [Int] = (0..<row.count).filter { !row[$0].isNaN && !excluding.contains(Int32($0)) }
        let sorted = candidates.sorted { (a: Int, b: Int) -> Bool in row[a] > row[b] || (row[a] == row[b] && a < b) }
        return sorted.prefix(k).map { Int32($0) }
    }

    @Test(arguments: [0, 1, 7, 8, 9, 100, 1001])
    func topKMatchesFullSortWithTiesNaNsAndExclusions(columns: Int) {
        var generator = SplitMix64(seed: UInt64(columns))
        let rows = 5
        // Few distinct values, so ties are everywhere; some NaNs.
        let scalars: [Float] = (0..<(rows * columns)).map { _ in
            let draw = generator.nextIndex(below: 20)
            return draw == 0 ? .nan : Float(draw % 6)
        }
        let tensor = Tensor(shape: [rows, columns], scalars: scalars)
        let excluding: [[Int32]] = (0..<rows).map { _ in
            (0..<min(columns, 5)).map { _ in Int32(generator.nextIndex(below: max(columns, 1))) }
        }
        for k in [1, 3, 10, columns + 5] {
            for threads in [1, 3] {
                let result = tensor.topKPerRow(k, excluding: columns == 0 ? [] : excluding, threadCount: threads)
                for row in 0..<rows {
                    let expected = naiveTopK(
                        Array(tensor.scalars[(row * columns)..<((row + 1) * columns)]), k: k,
                        excluding: columns == 0 ? [] : Set(excluding[row]))
                    #expect(result[row].map(\.index) == expected, "row \(row) k \(k)")
                }
            }
        }
    }
}
