import Testing

@testable import RecKitTensor

@Suite struct PackedRowsTests {
    func randomTable(rows: Int, width: Int, seed: UInt64) -> Tensor {
        var random = Xoshiro256(seed: seed)
        return Tensor(shape: [rows, width], scalars: (0..<(rows * width)).map { _ in random.nextStandardNormal() })
    }

    /// Σ_c q[c]·row[c] in column order, one fused multiply-add at a time: the sum `PackedRows` promises.
    func orderedSum(_ query: ArraySlice<Float>, _ row: ArraySlice<Float>) -> Float {
        var total: Float = 0
        for (a, b) in zip(query, row) { total.addProduct(a, b) }
        return total
    }

    @Test(arguments: [(1, 5), (37, 5), (300, 64), (1_025, 17)])
    func scoresAreOrderedFusedSumsForEveryBatchSize(rows: Int, width: Int) {
        let table = randomTable(rows: rows, width: width, seed: UInt64(rows))
        let packed = PackedRows(table)
        for queryCount in [1, 2, 3, 4, 5, 7] {
            let queries = randomTable(rows: queryCount, width: width, seed: UInt64(queryCount + 1_000))
            let scores = packed.scores(queries: queries)
            #expect(scores.shape == [queryCount, rows])
            var mismatches = 0
            for query in 0..<queryCount {
                let q = queries.scalars[(query * width)..<((query + 1) * width)]
                for row in 0..<rows {
                    let expected = orderedSum(q, table.scalars[(row * width)..<((row + 1) * width)])
                    if scores.scalars[query * rows + row].bitPattern != expected.bitPattern { mismatches += 1 }
                }
            }
            #expect(mismatches == 0, "\(mismatches) of \(queryCount * rows) scores differ (batch \(queryCount))")
            // Within rounding of BLAS's product.
            let product = queries.matmul(table, transposingOther: true)
            let worst = zip(scores.scalars, product.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-4, "largest difference from the GEMM: \(worst)")
        }
    }

    @Test func topKSelectsWhatTopKPerRowSelectsFromTheSameScores() {
        // Duplicate rows make exact ties; a NaN row is never kept; exclusions come unsorted, repeated.
        var table = randomTable(rows: 700, width: 8, seed: 7)
        for column in 0..<8 {
            table.scalars[100 * 8 + column] = table.scalars[5 * 8 + column]
            table.scalars[650 * 8 + column] = table.scalars[5 * 8 + column]
            table.scalars[300 * 8 + column] = .nan
        }
        let packed = PackedRows(table)
        let queries = randomTable(rows: 6, width: 8, seed: 8)
        let scores = packed.scores(queries: queries)
        let excluding: [[Int32]] = [[], [699, 3, 3, 0], [5], [], [100, 1_000], [Int32](0..<690)]
        for k in [0, 1, 10, 256, 700, 900] {
            let lists = packed.topK(queries: queries, k: k, excluding: excluding)
            #expect(lists == scores.topKPerRow(min(k, 700), excluding: excluding), "k \(k)")
            #expect(lists.allSatisfy { !$0.contains { $0.index == 300 } })
        }
        #expect(packed.topK(queries: queries, k: 700, excluding: excluding)[5].count == 10) // rows 690…699
    }

    @Test func aQuerysListDoesNotDependOnItsBatch() {
        let packed = PackedRows(randomTable(rows: 2_000, width: 64, seed: 11))
        let queries = randomTable(rows: 7, width: 64, seed: 12)
        let together = packed.topK(queries: queries, k: 20)
        for query in 0..<7 {
            let alone = Tensor(shape: [1, 64], scalars: Array(queries.scalars[(query * 64)..<((query + 1) * 64)]))
            #expect(packed.topK(queries: alone, k: 20)[0] == together[query], "query \(query)")
        }
    }

    @Test func noQueriesOrNoRowsGiveEmptyAnswers() {
        let packed = PackedRows(randomTable(rows: 20, width: 4, seed: 1))
        #expect(packed.topK(queries: Tensor(shape: [0, 4], scalars: []), k: 5).isEmpty)
        #expect(packed.scores(queries: Tensor(shape: [0, 4], scalars: [])).shape == [0, 20])
        let empty = PackedRows(Tensor(shape: [0, 4], scalars: []))
        #expect(empty.topK(queries: randomTable(rows: 2, width: 4, seed: 2), k: 5) == [[], []])
        #expect(empty.scores(queries: randomTable(rows: 2, width: 4, seed: 2)).shape == [2, 0])
    }

    @Test func lazyPackingPacksOnceAndAgrees() {
        let table = randomTable(rows: 50, width: 3, seed: 3)
        let lazy = LazyPackedRows(table)
        let queries = randomTable(rows: 2, width: 3, seed: 4)
        #expect(lazy.rows.scores(queries: queries) == PackedRows(table).scores(queries: queries))
    }
}
