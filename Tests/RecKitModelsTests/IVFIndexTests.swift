import RecKitTensor
import Testing

@testable import RecKitModels

/// The inverted file: exact when every cell is probed, recall against exact search on clustered
/// vectors when a few are, the same index from the same seed, exclusions, and the bounded best list.
@Suite struct IVFIndexTests {
    /// `rows` vectors around `clusters` Gaussian centres (spread 0.3), `columns` wide.
    static func clustered(_ rows: Int, _ columns: Int, clusters: Int, seed: UInt64) -> Tensor {
        var generator = Xoshiro256(seed: seed)
        let centres = (0..<(clusters * columns)).map { _ in generator.nextStandardNormal() }
        var scalars: [Float] = []
        for _ in 0..<rows {
            let centre = generator.nextIndex(below: clusters)
            for j in 0..<columns {
                scalars.append(centres[centre * columns + j] + 0.3 * generator.nextStandardNormal())
            }
        }
        return Tensor(shape: [rows, columns], scalars: scalars)
    }

    @Test func smallIndexAnswersExactly() {
        let index = IVFIndex(vectors: Tensor(shape: [3, 2], scalars: [1, 0, 0, 1, 2, 2]), lists: 2, seed: 1)
        #expect(index.listSizes.reduce(0, +) == 3 && index.listCount == 2)
        let found = index.search([1, 0.5], k: 3, probes: 2)
        #expect(found.map(\.index) == [2, 0, 1])
        #expect(found.map(\.score) == [3, 1, 0.5])
        #expect(index.search([1, 0.5], k: 2, probes: 2, excluding: [2]).map(\.index) == [0, 1])
        #expect(index.search([1, 0.5], k: 0).isEmpty)
        #expect(IVFIndex(vectors: Tensor.zeros([0, 2])).search([1, 0], k: 3).isEmpty)
        // Ties go to the lower index.
        let tied = IVFIndex(vectors: Tensor(shape: [3, 1], scalars: [1, 1, 1]), lists: 1)
        #expect(tied.search([1], k: 2).map(\.index) == [0, 1])
    }

    /// 4,000 vectors in 40 clusters, 64 cells: every cell probed is exact search; 8 of 64 cells find at
    /// least 95 % of the true top 10 of 100 queries; the same seed builds the same index.
    @Test func recallAgainstExactSearch() {
        let vectors = Self.clustered(4_000, 16, clusters: 40, seed: 1)
        let queries = Self.clustered(100, 16, clusters: 40, seed: 2)
        let index = IVFIndex(vectors: vectors, lists: 64, seed: 3)
        let exact = queries.matmul(vectors, transposingOther: true).topKPerRow(10)
        var hits = 0
        for row in 0..<100 {
            let query = Array(queries.scalars[(row * 16)..<((row + 1) * 16)])
            let all = index.search(query, k: 10, probes: 64)
            #expect(all.map(\.index) == exact[row].map(\.index))
            for (found, truth) in zip(all, exact[row]) { #expect(abs(found.score - truth.score) < 1e-4) }
            let found = index.search(query, k: 10, probes: 8)
            hits += Set(found.map(\.index)).intersection(exact[row].map(\.index)).count
        }
        #expect(Double(hits) / 1_000 >= 0.95, "recall \(Double(hits) / 1_000)")
        let again = IVFIndex(vectors: vectors, lists: 64, seed: 3)
        #expect(again.ids == index.ids && again.offsets == index.offsets && again.centroids == index.centroids)
    }

    @Test func topListKeepsTheBestInOrder() {
        var list = TopList(capacity: 3)
        for (score, index) in [(1, 5), (3, 2), (2, 9), (3, 1), (0, 0), (2, 4)] as [(Float, Int32)] {
            list.offer(score, index)
        }
        #expect(list.entries.map(\.1) == [1, 2, 4])
    }
}
