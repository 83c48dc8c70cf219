import Testing

@testable import RecKitTensor

@Suite struct LinearSolveTests {
    @Test func solvesSystemsComputedByHand() throws {
        // [[4, 2], [2, 3]] x = [2, 1]: det 8, x = [(2·3 − 2·1)/8, (4·1 − 2·2)/8] = [0.5, 0].
        let x = try #require(LinearSolve.symmetricPositiveDefinite([4, 2, 2, 3], n: 2, [2, 1]))
        #expect(abs(x[0] - 0.5) < 1e-15 && abs(x[1]) < 1e-15)
        // A = L Lᵀ with L = [[2, 0, 0], [1, 3, 0], [−1, 2, 1]]: A = [[4, 2, −2], [2, 10, 5], [−2, 5, 6]];
        // with x = [1, −1, 2], b = A x = [−2, 2, 5].
        let y = try #require(
            LinearSolve.symmetricPositiveDefinite([4, 2, -2, 2, 10, 5, -2, 5, 6], n: 3, [-2, 2, 5]))
        for (value, expected) in zip(y, [1.0, -1, 2]) { #expect(abs(value - expected) < 1e-12) }
        #expect(LinearSolve.symmetricPositiveDefinite([], n: 0, []) == [])
    }

    @Test func choleskyFactorByHand() throws {
        // The 3×3 case above: L = [[2, 0, 0], [1, 3, 0], [−1, 2, 1]].
        let l = try #require(LinearSolve.cholesky([4, 2, -2, 2, 10, 5, -2, 5, 6], n: 3))
        for (i, row) in [[2.0, 0, 0], [1, 3, 0], [-1, 2, 1]].enumerated() {
            for j in 0...i { #expect(abs(l[i * 3 + j] - row[j]) < 1e-12) }
        }
        #expect(LinearSolve.cholesky([1, 2, 2, 1], n: 2) == nil)
    }

    @Test func refusesMatricesThatAreNotPositiveDefinite() {
        #expect(LinearSolve.symmetricPositiveDefinite([1, 2, 2, 1], n: 2, [1, 1]) == nil) // eigenvalues 3, −1
        #expect(LinearSolve.symmetricPositiveDefinite([1, 1, 1, 1], n: 2, [1, 1]) == nil) // singular
    }
}
