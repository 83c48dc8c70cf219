import Foundation
import RecKitNN
import RecKitTensor
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitEval
@testable import RecKitModels

@Suite struct NeighborhoodTests {
    // 5 users × 4 items.
    let train = try! Interactions(
        users: [0, 0, 1, 1, 1, 2, 2, 3, 4, 4], items: [0, 1, 0, 1, 2, 1, 2, 3, 2, 3], userCount: 5, itemCount: 4)

    /// Dense cosine similarities, the reference.
    func denseCosine() -> [[Double]] {
        var x = [[Double]](repeating: [Double](repeating: 0, count: 5), count: 4)
        for row in 0..<train.count { x[Int(train.items[row])][Int(train.users[row])] = 1 }
        let norm = x.map { $0.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0.0) { $0 + $1.0 * $1.1 } }
        return (0..<4).map { i in (0..<4).map { j -> Double in dot(x[i], x[j]) / (norm[i] * norm[j]) } }
    }

    @Test func cosineNeighboursMatchDenseComputation() throws {
        var config = ItemKNN.Config()
        config.neighbourCount = 4
        let model = try ItemKNN(fitting: train, config: config)
        let dense = denseCosine()
        for item in 0..<4 {
            for (neighbour, similarity) in zip(
                model.neighbours.columns(inRow: item), model.neighbours.values(inRow: item))
            {
                #expect(abs(Double(similarity) - dense[item][Int(neighbour)]) < 1e-6)
            }
        }
        // Scores: user 3 has item 3 only, so its scores are item 3's similarities.
        let scores = model.scores(forUsers: [3]).scalars
        for j in 0..<4 { #expect(abs(Double(scores[j]) - dense[3][j]) < 1e-6) }
        // Keeping K = 2 keeps each item itself plus its best other neighbour.
        config.neighbourCount = 2
        let pruned = try ItemKNN(fitting: train, config: config)
        #expect(
            (0..<4).allSatisfy {
                pruned.neighbours.count(inRow: $0) <= 2 && pruned.neighbours.contains(row: $0, column: Int32($0))
            })
        #expect(pruned.similarItems(to: 0, k: 1).map(\.index) == [1])
    }

    @Test(arguments: [true, false])
    func neighbourIndexEqualsBruteForceTopKOnAnyThreadCount(positive: Bool) {
        // Random sparse rows (some with negative or zero values when not `positive`), against every
        // pair's dot product ranked by a full sort; ties (to the row with more entries, then the lower
        // index) and the self-pair included.
        var generator = SplitMix64(seed: positive ? 1 : 2)
        let rowCount = 40
        let columnCount = 25
        let k = 6
        var offsets = [0]
        var columns: [Int32] = []
        var values: [Float] = []
        for _ in 0..<rowCount {
            for column in 0..<columnCount where generator.nextUnitFloat() < 0.25 {
                columns.append(Int32(column))
                values.append(
                    positive ? Float(1 + generator.nextIndex(below: 2)) : Float(generator.nextIndex(below: 5)) - 1)
            }
            offsets.append(columns.count)
        }
        let rows = try! InteractionMatrix(
            rowCount: rowCount, columnCount: columnCount, rowOffsets: offsets, columnIndices: columns, values: values)
        let dense = (0..<rowCount).map { row in
            var line = [Float](repeating: 0, count: columnCount)
            for (column, value) in zip(rows.columns(inRow: row), rows.values(inRow: row)) { line[Int(column)] = value }
            return line
        }
        let one = NeighbourIndex.build(rows: rows, k: k, cosine: false, shrinkage: 0, threadCount: 1)
        let three = NeighbourIndex.build(rows: rows, k: k, cosine: false, shrinkage: 0, threadCount: 3)
        #expect(one == three)
        for row in 0..<rowCount {
            let expected = (0..<rowCount).compactMap { other -> ScoredIndex? in
                let dot = zip(dense[row], dense[other]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                return dot == 0 ? nil : ScoredIndex(index: Int32(other), score: dot)
            }.sorted { a, b in
                let (supportA, supportB) = (rows.count(inRow: Int(a.index)), rows.count(inRow: Int(b.index)))
                return a.score != b.score
                    ? a.score > b.score : supportA != supportB ? supportA > supportB : a.index < b.index
            }.prefix(k)
            #expect(Array(one.columns(inRow: row)) == expected.map(\.index).sorted(), "row \(row)")
            for (column, value) in zip(one.columns(inRow: row), one.values(inRow: row)) {
                #expect(value == expected.first { $0.index == column }!.score)
            }
        }
    }

    @Test func tiedNeighboursGoToTheBetterSupportedItem() throws {
        // Item 0 = {u0, u1}, item 1 = {u0}, item 2 = {u0, u1, u2, u3}: cos(0, 1) = cos(0, 2) = 1/√2
        // exactly; with one neighbour besides itself, item 0 keeps item 2 (4 users), not item 1 (1).
        let train = try Interactions(
            users: [0, 1, 0, 0, 1, 2, 3], items: [0, 0, 1, 2, 2, 2, 2], userCount: 4, itemCount: 3)
        var config = ItemKNN.Config()
        config.neighbourCount = 2
        let model = try ItemKNN(fitting: train, config: config)
        #expect(Array(model.neighbours.columns(inRow: 0)) == [0, 2])
        let values = Array(model.neighbours.values(inRow: 0))
        #expect(values[1] == Float(1) / Float(2).squareRoot())
    }

    @Test func rowTopKKeepsTheSameBestWhateverTheOfferOrder() {
        var generator = SplitMix64(seed: 4)
        let offers = (0..<300).map { _ in
            (
                row: generator.nextIndex(below: 5), index: Int32(generator.nextIndex(below: 40)),
                score: Float(generator.nextIndex(below: 8))
            )
        }
        var forward = RowTopK(rowCount: 5, k: 4)
        var backward = RowTopK(rowCount: 5, k: 4)
        var halves = (RowTopK(rowCount: 5, k: 4), RowTopK(rowCount: 5, k: 4))
        for (n, offer) in offers.enumerated() {
            forward.offer(row: offer.row, index: offer.index, score: offer.score)
            if n % 2 == 0 {
                halves.0.offer(row: offer.row, index: offer.index, score: offer.score)
            } else {
                halves.1.offer(row: offer.row, index: offer.index, score: offer.score)
            }
        }
        for offer in offers.reversed() { backward.offer(row: offer.row, index: offer.index, score: offer.score) }
        halves.0.merge(halves.1)
        forward.offer(row: 0, index: 99, score: .nan)
        for row in 0..<5 {
            let expected = offers.filter { $0.row == row }.map { ScoredIndex(index: $0.index, score: $0.score) }.topK(4)
            #expect(
                forward.best(row: row) == expected && backward.best(row: row) == expected
                    && halves.0.best(row: row) == expected)
        }
    }

    @Test func easeMatchesTheClosedForm() throws {
        let lambda: Float = 2
        let model = try EASE(fitting: train, config: .init(regularization: lambda))
        // Reference in Double: P = (XᵀX + λI)⁻¹ by Gauss–Jordan, B = −P / diag(P), diag(B) = 0.
        var g = [[Double]](repeating: [Double](repeating: 0, count: 4), count: 4)
        var byUser = [[Int]](repeating: [], count: 5)
        for row in 0..<train.count { byUser[Int(train.users[row])].append(Int(train.items[row])) }
        for items in byUser { for i in items { for j in items { g[i][j] += 1 } } }
        for i in 0..<4 { g[i][i] += Double(lambda) }
        var inverse = (0..<4).map { i in (0..<4).map { j in i == j ? 1.0 : 0.0 } }
        for column in 0..<4 {
            let pivot = g[column][column]
            for j in 0..<4 {
                g[column][j] /= pivot
                inverse[column][j] /= pivot
            }
            for row in 0..<4 where row != column {
                let factor = g[row][column]
                for j in 0..<4 {
                    g[row][j] -= factor * g[column][j]
                    inverse[row][j] -= factor * inverse[column][j]
                }
            }
        }
        for i in 0..<4 {
            for j in 0..<4 {
                let expected = i == j ? 0 : -inverse[i][j] / inverse[j][j]
                #expect(abs(Double(model.weights.scalars[i * 4 + j]) - expected) < 1e-5)
            }
        }
        #expect(throws: ConfigError.self) { try EASE(fitting: train, config: .init(regularization: 0)) }
        #expect(throws: ConfigError.self) { try EASE(fitting: train, config: .init(), maximumItemCount: 3) }
    }

    @Test func bothLearnBeyondPopularityAndAreDeterministic() throws {
        let data = SyntheticData.generate(preset: .small, seed: 31)
        let split = try data.ratings.split(.holdout(testFraction: 0.2, minimumPerUser: 5), seed: 31)
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let popularity = try evaluator.evaluate(Popularity(fitting: split.train), train: split.train, test: split.test)[
            "ndcg@10"]!
        let knn = try ItemKNN(fitting: split.train, config: .init(), context: TrainingContext(threadCount: 1))
        #expect(
            try ItemKNN(fitting: split.train, config: .init(), context: TrainingContext(threadCount: 3)).neighbours
                == knn.neighbours)
        #expect(try evaluator.evaluate(knn, train: split.train, test: split.test)["ndcg@10"]! > popularity)
        var bm25 = ItemKNN.Config()
        bm25.weighting = .bm25
        #expect(
            try evaluator.evaluate(ItemKNN(fitting: split.train, config: bm25), train: split.train, test: split.test)[
                "ndcg@10"]! > popularity)
        let ease = try EASE(fitting: split.train)
        #expect(try evaluator.evaluate(ease, train: split.train, test: split.test)["ndcg@10"]! > popularity)
        #expect(try EASE(fitting: split.train).weights == ease.weights)
    }
}

@Suite struct UserKNNTests {
    @Test func scoresAreSimilarityWeightedSumsAndFoldInAgrees() throws {
        let data = SyntheticData.generate(preset: .tiny, seed: 71)
        let train = try Interactions(
            users: data.ratings.interactions.users, items: data.ratings.interactions.items,
            userCount: data.ratings.interactions.userCount, itemCount: data.ratings.interactions.itemCount) // binary
        var config = UserKNN.Config()
        config.neighbourCount = 10
        let model = try UserKNN(fitting: train, config: config)
        let matrix = InteractionMatrix.byUser(train)
        // Reference for user 4: dense cosine to every user, the 10 best (ties to the lower index), summed rows.
        func cosine(_ a: Int, _ b: Int) -> Float {
            let shared = Set(matrix.columns(inRow: a)).intersection(matrix.columns(inRow: b)).count
            return Float(shared)
                / (Float(matrix.count(inRow: a)).squareRoot() * Float(matrix.count(inRow: b)).squareRoot())
        }
        let user = 4
        let best = (0..<train.userCount).map { ScoredIndex(index: Int32($0), score: cosine(user, $0)) }.filter {
            $0.score > 0
        }.topK(10)
        var expected = [Float](repeating: 0, count: train.itemCount)
        for neighbour in best {
            for item in matrix.columns(inRow: Int(neighbour.index)) { expected[Int(item)] += neighbour.score }
        }
        let scores = model.scores(forUsers: [Int32(user)]).scalars
        #expect(zip(scores, expected).allSatisfy { abs($0 - $1) < 1e-4 })
        // Folding in the user's own history finds the same neighbours.
        let folded = model.scores(forHistory: Array(matrix.columns(inRow: user)))
        #expect(zip(scores, folded).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func beatsPopularity() throws {
        let data = SyntheticData.generate(preset: .small, seed: 72)
        let split = try data.ratings.split(.holdout(testFraction: 0.2, minimumPerUser: 5), seed: 72)
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let popularity = try evaluator.evaluate(Popularity(fitting: split.train), train: split.train, test: split.test)[
            "ndcg@10"]!
        let knn = try evaluator.evaluate(UserKNN(fitting: split.train), train: split.train, test: split.test)[
            "ndcg@10"]!
        #expect(knn > popularity, "userknn \(knn) vs popularity \(popularity)")
        #expect(
            try UserKNN(fitting: split.train, config: .init(), context: TrainingContext(threadCount: 1)).neighbours
                == UserKNN(fitting: split.train, config: .init(), context: TrainingContext(threadCount: 3)).neighbours)
    }
}
