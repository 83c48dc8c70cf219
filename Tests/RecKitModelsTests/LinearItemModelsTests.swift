import Foundation
import RecKitNN
import RecKitTensor
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitModels

/// RP3beta, EDLAE and SLIM against their definitions on small data computed by hand or by brute
/// force; their numbers on ml-100k against the numpy/scikit-learn reference are pinned in
/// PublishedNumbersTests.
@Suite struct LinearItemModelsTests {
    // 5 users × 4 items.
    let train = try! Interactions(
        users: [0, 0, 1, 1, 1, 2, 2, 3, 4, 4], items: [0, 1, 0, 1, 2, 1, 2, 3, 2, 3], userCount: 5, itemCount: 4)

    /// Random binary data: `users` × `items`, each user with 2…8 items.
    static func random(users: Int, items: Int, seed: UInt64) throws -> Interactions {
        var generator = SplitMix64(seed: seed)
        var u: [Int32] = []
        var i: [Int32] = []
        for user in 0..<users {
            let count = 2 + Int(generator.next() % 7)
            for item in Set((0..<count).map { _ in Int32(generator.next() % UInt64(items)) }).sorted() {
                u.append(Int32(user))
                i.append(item)
            }
        }
        return try Interactions(users: u, items: i, userCount: users, itemCount: items)
    }

    @Test func rp3betaWeightsFollowTheRandomWalkByHand() throws {
        // Degrees: users 2, 3, 2, 1, 2; items 2, 3, 3, 2. With α = 1 item 0 reaches item 1 through users 0
        // and 1: deg(0)^−1 · (1/2 + 1/3) = 5/12, divided by deg(1)^β.
        var config = RP3beta.Config()
        config.alpha = 1
        config.beta = 0.5
        config.normalize = false
        let model = try RP3beta(fitting: train, config: config)
        func expected(_ i: Int, _ j: Int) -> Double {
            let userDegrees: [Double] = [2, 3, 2, 1, 2]
            let itemDegrees: [Double] = [2, 3, 3, 2]
            var x = [[Double]](repeating: [0, 0, 0, 0], count: 5)
            for row in 0..<train.count { x[Int(train.users[row])][Int(train.items[row])] = 1 }
            let walk = (0..<5).reduce(0.0) { $0 + x[$1][i] * x[$1][j] / userDegrees[$1] }
            return walk / itemDegrees[i] / itemDegrees[j].squareRoot()
        }
        #expect(abs(expected(0, 1) - 5.0 / 12 / 3.0.squareRoot()) < 1e-12)
        for i in 0..<4 {
            let row = Dictionary(
                uniqueKeysWithValues: zip(model.neighbours.columns(inRow: i), model.neighbours.values(inRow: i)))
            #expect(row[Int32(i)] == nil) // never itself
            for j in 0..<4 where j != i {
                #expect(abs(Double(row[Int32(j)] ?? 0) - expected(i, j)) < 1e-6, "W[\(i), \(j)]")
            }
        }
        // Normalised rows sum to 1; K = 1 keeps each row's largest weight.
        config.normalize = true
        config.neighbourCount = 1
        let pruned = try RP3beta(fitting: train, config: config)
        for i in 0..<4 {
            #expect(pruned.neighbours.count(inRow: i) == 1)
            #expect(abs(pruned.neighbours.values(inRow: i).reduce(0, +) - 1) < 1e-6)
            let best = (0..<4).filter { $0 != i }.max { expected(i, $0) < expected(i, $1) }!
            #expect(pruned.neighbours.columns(inRow: i).first == Int32(best))
        }
        // Scores are x_u · W; a fold-in history scores the same as the user's row.
        let scores = model.scores(forUsers: [1]).scalars
        let folded = model.scores(forHistory: [0, 1, 2])
        for j in 0..<4 {
            let sum = [0, 1, 2].filter { $0 != j }.reduce(0.0) { $0 + expected($1, j) }
            #expect(abs(Double(scores[j]) - sum) < 1e-6)
            #expect(scores[j] == folded[j])
        }
    }

    @Test func rp3betaIsTheSameOnAnyThreadCount() throws {
        let data = try Self.random(users: 60, items: 30, seed: 5)
        var config = RP3beta.Config()
        config.neighbourCount = 5
        config.alpha = 0.7
        let one = try RP3beta(fitting: data, config: config, context: TrainingContext(threadCount: 1))
        let three = try RP3beta(fitting: data, config: config, context: TrainingContext(threadCount: 3))
        #expect(one.neighbours == three.neighbours)
    }

    @Test func edlaeIsEASEWithAPopularityScaledPenalty() throws {
        // p = 0 is EASE with the same λ.
        let data = try Self.random(users: 40, items: 12, seed: 7)
        let plain = try EDLAE(fitting: data, config: .init(dropout: 0, regularization: 20))
        let ease = try EASE(fitting: data, config: .init(regularization: 20))
        // (Equal up to rounding: LAPACK's kernels may round differently with the buffers' alignment.)
        for (a, b) in zip(plain.weights.scalars, ease.weights.scalars) { #expect(abs(a - b) < 1e-6) }
        // When every item has the same count d, Λ = p/(1−p)·d + λ is a constant: EASE with that λ.
        // Each of 6 users has items {u, u+1, u+2} mod 6, so every item has count 3.
        var users: [Int32] = []
        var items: [Int32] = []
        for user in 0..<6 {
            for offset in 0..<3 {
                users.append(Int32(user))
                items.append(Int32((user + offset) % 6))
            }
        }
        let regular = try Interactions(users: users, items: items, userCount: 6, itemCount: 6)
        let dropout = try EDLAE(fitting: regular, config: .init(dropout: 0.5, regularization: 2))
        let equivalent = try EASE(fitting: regular, config: .init(regularization: 2 + 1 * 3))
        for (a, b) in zip(dropout.weights.scalars, equivalent.weights.scalars) { #expect(abs(a - b) < 1e-6) }
        // The diagonal is zero and scores are x_u · B.
        #expect((0..<6).allSatisfy { dropout.weights.scalars[$0 * 6 + $0] == 0 })
        let scores = dropout.scores(forUsers: [0]).scalars
        for j in 0..<6 {
            let sum = [0, 1, 2].reduce(Float(0)) { $0 + dropout.weights.scalars[$1 * 6 + j] }
            #expect(abs(scores[j] - sum) < 1e-6)
        }
    }

    @Test func edlaeRefusesASingularSystem() throws {
        // Item 2 has no training interactions: with λ = 0 its row of XᵀX + Λ is zero.
        let data = try Interactions(users: [0, 0, 1], items: [0, 1, 1], userCount: 2, itemCount: 3)
        #expect(throws: ConfigError.self) { try EDLAE(fitting: data, config: .init(dropout: 0.2, regularization: 0)) }
        _ = try EDLAE(fitting: data, config: .init(dropout: 0.2, regularization: 1))
    }

    /// The optimality conditions of SLIM's column problems, checked densely: for each column j and
    /// item k ≠ j with r = x_j − X w_j, a positive weight has X_kᵀr − l2·w − l1 = 0, a zero weight
    /// X_kᵀr − l1 ≤ 0 (scikit-learn's objective times n).
    @Test(arguments: [(Float(0.01), Float(0.1)), (Float(0.05), Float(0.5)), (Float(0.002), Float(1))])
    func slimWeightsAreTheElasticNetOptimum(alpha: Float, l1Ratio: Float) throws {
        let data = try Self.random(users: 50, items: 15, seed: 11)
        var config = SLIM.Config()
        config.alpha = alpha
        config.l1Ratio = l1Ratio
        config.tolerance = 0.000001
        config.maximumIterations = 10_000
        config.neighbourCount = 15
        let model = try SLIM(fitting: data, config: config)
        var x = [[Double]](repeating: [Double](repeating: 0, count: 15), count: 50)
        for row in 0..<data.count { x[Int(data.users[row])][Int(data.items[row])] = 1 }
        let l1 = Double(alpha * l1Ratio) * 50
        let l2 = Double(alpha * (1 - l1Ratio)) * 50
        var positives = 0
        for j in 0..<15 {
            var w = [Double](repeating: 0, count: 15)
            for i in 0..<15 {
                for (column, value) in zip(model.neighbours.columns(inRow: i), model.neighbours.values(inRow: i))
                where column == Int32(j) {
                    w[i] = Double(value)
                }
            }
            #expect(w[j] == 0)
            let residual = x.map { row in row[j] - (0..<15).reduce(0.0) { $0 + row[$1] * w[$1] } }
            for k in 0..<15 where k != j {
                let gradient = (0..<50).reduce(0.0) { $0 + x[$1][k] * residual[$1] }
                if w[k] > 0 {
                    positives += 1
                    #expect(abs(gradient - l2 * w[k] - l1) < 1e-3, "column \(j), weight \(k)")
                } else {
                    #expect(gradient - l1 < 1e-3, "column \(j), zero weight \(k)")
                }
            }
        }
        #expect(positives > 15) // not an empty model
    }

    @Test func slimKeepsTheLargestWeightsAndIsTheSameOnAnyThreadCount() throws {
        let data = try Self.random(users: 80, items: 40, seed: 13)
        var config = SLIM.Config()
        config.alpha = 0.005
        let full = try SLIM(fitting: data, config: config, context: TrainingContext(threadCount: 1))
        let threaded = try SLIM(fitting: data, config: config, context: TrainingContext(threadCount: 3))
        #expect(full.neighbours == threaded.neighbours)
        config.neighbourCount = 2
        let pruned = try SLIM(fitting: data, config: config, context: TrainingContext(threadCount: 2))
        let columns = full.neighbours.transposed()
        let kept = pruned.neighbours.transposed()
        for j in 0..<40 {
            let largest = zip(columns.columns(inRow: j), columns.values(inRow: j))
                .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(2).map(\.0).sorted()
            #expect(Array(kept.columns(inRow: j)) == largest)
        }
        // Recommends: the weights score a user's unseen items.
        #expect(full.scores(forUsers: [0]).scalars.contains { $0 > 0 })
    }
}
