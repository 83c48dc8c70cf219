import Foundation
import Testing
import _RecKitTestSupport

@testable import RecKit

@Suite struct TrainedModelTests {
    static let data = SyntheticData.generate(preset: .tiny, seed: 8)

    /// The README's model table is what `reckit models --markdown` prints now.
    @Test func readmeModelTableIsCurrent() throws {
        let readme = try String(contentsOfFile: packageRoot + "/README.md", encoding: .utf8)
        let begin = try #require(readme.range(of: "<!-- models:begin"))
        let end = try #require(readme.range(of: "<!-- models:end -->"))
        let section = readme[begin.upperBound..<end.lowerBound]
        let table = section[section.index(after: try #require(section.firstIndex(of: "\n")))...]
        #expect(
            table.trimmingCharacters(in: .whitespacesAndNewlines) == ModelRegistry.markdownTable,
            "regenerate it with `reckit models --markdown`")
    }

    /// The README's TrainedModel example, on the synthetic set: answers in external IDs, fold-in
    /// with unknown IDs set apart (and the popular items when none is known), similar items by title,
    /// save and load, batched lists.
    @Test func answersInExternalIDs() throws {
        let dataset = Self.data.ratings
        let ials = try ConfiguredModel("ials", settings: ["factors": "8", "alpha": "10", "iterations": "3"])
        let trained = try TrainedModel(training: ials, on: dataset)
        let user = dataset.users.id(at: 7)
        let items = try trained.recommend(user: user, k: 10)
        let seen = Set(trained.seen.columns(inRow: 7).map { dataset.items.id(at: $0) })
        #expect(items.count == 10 && items.allSatisfy { !seen.contains($0.item) })
        #expect(
            items.map(\.item)
                == trained.model.recommend(user: 7, k: 10, excludingSeen: trained.seen).map {
                    dataset.items.id(at: $0.index)
                })
        #expect(items.allSatisfy { $0.title == dataset.itemCatalog?.titles[Int(dataset.items.index(of: $0.item)!)] })
        #expect(throws: LookupError.unknownUser("nobody")) { try trained.recommend(user: "nobody") }
        let newcomer = trained.recommend(
            history: [dataset.items.id(at: 1), "no-such-item", dataset.items.id(at: 2)], k: 5)
        #expect(newcomer.unknown == ["no-such-item"] && !newcomer.popular && newcomer.recommendations.count == 5)
        #expect(!newcomer.recommendations.contains { $0.item == dataset.items.id(at: 1) })
        // Nothing known: the cold-start answer, the most popular training items, labelled as such.
        let stranger = trained.recommend(history: ["no-such-item", "nor-this"], k: 5)
        #expect(stranger.popular && stranger.unknown == ["no-such-item", "nor-this"])
        var counts = [Int](repeating: 0, count: dataset.items.count)
        for item in trained.seen.columnIndices { counts[Int(item)] += 1 }
        let mostPopular = counts.indices.sorted { counts[$0] > counts[$1] || (counts[$0] == counts[$1] && $0 < $1) }
            .prefix(5)
        #expect(stranger.recommendations.map(\.item) == mostPopular.map { dataset.items.id(at: Int32($0)) })
        #expect(stranger.recommendations == trained.popular(k: 5))
        let title = try #require(dataset.itemCatalog?.titles[3])
        let alike = try trained.similar(to: title, k: 5)
        #expect(
            alike.item.item == dataset.items.id(at: 3) && alike.similar.count == 5
                && !alike.similar.contains { $0.item == alike.item.item })
        let folder = TemporaryDirectory()
        try trained.save(to: folder.path + "/m")
        let again = try TrainedModel.load(folder.path + "/m")
        let ids = [user, dataset.users.id(at: 0), dataset.users.id(at: 299)]
        let lists = try again.recommend(users: ids, k: 10)
        let singly = try ids.map { try trained.recommend(user: $0, k: 10) }
        // The same lists; scores up to float rounding (BLAS sums one user's and a batch's dot
        // products in different orders on some CPUs).
        func close(_ a: [[Recommendation]], _ b: [[Recommendation]]) -> Bool {
            a.map { $0.map(\.item) } == b.map { $0.map(\.item) }
                && zip(a.joined(), b.joined()).allSatisfy { abs($0.score - $1.score) <= 1e-5 * max(1, abs($1.score)) }
        }
        #expect(close([lists[0]], [items]) && close(lists, singly))
        let popular = try TrainedModel(training: ConfiguredModel("popularity"), on: dataset)
        #expect(throws: LookupError.noSimilarity("popularity")) { try popular.similar(to: title) }
    }

    var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }
}
