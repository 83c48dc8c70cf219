import RecKitTensor
import Testing

@testable import RecKitModels

@Suite struct HNSWIndexTests {
    static func gaussian(_ rows: Int, _ columns: Int, seed: UInt64) -> Tensor {
        var generator = Xoshiro256(seed: seed)
        return Tensor(
            shape: [rows, columns], scalars: (0..<(rows * columns)).map { _ in generator.nextStandardNormal() })
    }

    /// Three vectors in the plane: the order of inner products with the query, the scores themselves,
    /// and exclusions.
    @Test func smallIndexAnswersExactly() {
        let index = HNSWIndex(vectors: Tensor(shape: [3, 2], scalars: [1, 0, 0, 1, 2, 2]), neighbors: 2)
        let searcher = index.searcher()
        let found = index.search([1, 0.5], k: 3, using: searcher)
        #expect(found.map(\.index) == [2, 0, 1])
        #expect(found.map(\.score) == [3, 1, 0.5])
        #expect(index.search([1, 0.5], k: 2, excluding: [2], using: searcher).map(\.index) == [0, 1])
        #expect(index.search([1, 0.5], k: 0, using: searcher).isEmpty)
        #expect(HNSWIndex(vectors: Tensor.zeros([0, 2])).search([1, 0], k: 3, using: searcher).isEmpty)
    }

    /// 3,000 Gaussian vectors: the top 10 by inner product of 100 queries, against exact search,
    /// with recall at least 0.95 at a search width of 128; the same seed builds the same graph.
    @Test func recallAgainstExactSearch() {
        let vectors = Self.gaussian(3_000, 16, seed: 1)
        let queries = Self.gaussian(100, 16, seed: 2)
        let index = HNSWIndex(vectors: vectors, seed: 3)
        let searcher = index.searcher()
        let exact = queries.matmul(vectors, transposingOther: true).topKPerRow(10)
        var hits = 0
        for row in 0..<100 {
            let query = Array(queries.scalars[(row * 16)..<((row + 1) * 16)])
            let found = index.search(query, k: 10, ef: 128, using: searcher)
            hits += Set(found.map(\.index)).intersection(exact[row].map(\.index)).count
            // Scores are the inner products, best first.
            #expect(zip(found, found.dropFirst()).allSatisfy { $0.score >= $1.score })
            if let first = found.first {
                let dot = zip(query, vectors.scalars[(Int(first.index) * 16)...]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                #expect(abs(first.score - dot) < 1e-4)
            }
        }
        #expect(Double(hits) / 1_000 >= 0.95, "recall \(Double(hits) / 1_000)")
        let again = HNSWIndex(vectors: vectors, seed: 3)
        #expect(
            again.baseLinks == index.baseLinks && again.upperLinks == index.upperLinks && again.entry == index.entry)
    }
}
