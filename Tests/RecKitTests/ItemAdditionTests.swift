import Foundation
import Testing
import _RecKitTestSupport

@testable import RecKit

/// Items added to a trained model from metadata: saved and loaded like any model, recommended at
/// once, refused clearly by models that cannot take them; and on MovieLens latest-small a brand-new
/// "Toy Story 3 (2010)" lands beside its predecessors.
@Suite struct ItemAdditionTests {
    static let data = SyntheticData.generate(preset: .tiny, seed: 61).ratings

    static func trained(_ name: String, _ settings: [String: String]) throws -> TrainedModel {
        try TrainedModel(
            training: try ConfiguredModel(name, settings: settings), on: data.interactions, users: data.users,
            items: data.items, itemTitles: data.itemCatalog?.titles, side: data.side)
    }

    static let newItems = ItemCatalog(
        titles: ["The Brand New Film (2030)", nil], years: [2030, nil],
        genres: MultiValuedColumn(lists: [data.itemCatalog!.genres!.values(of: 0), []]))

    @Test func addedItemsAreSavedAndRecommended() throws {
        let model = try Self.trained("content", ["base": "ials:factors=4:iterations=2", "epochs": "3", "hidden": "8"])
        let added = try model.addingItems(ids: ["new-1", "new-2"], catalog: Self.newItems)
        #expect(added.items.count == model.items.count + 2 && added.model.itemCount == added.items.count)
        #expect(added.title(of: Int32(model.items.count)) == "The Brand New Film (2030)")
        #expect(added.seen.columnCount == added.items.count && added.seen.nonzeroCount == model.seen.nonzeroCount)
        #expect(added.popularityScores.suffix(2) == [0, 0])
        let folder = TemporaryDirectory()
        try added.save(to: folder.path + "/m")
        let loaded = try TrainedModel.load(folder.path + "/m")
        #expect(loaded.items == added.items && loaded.itemTitles == added.itemTitles)
        let user = Self.data.users.id(at: 0)
        #expect(try loaded.recommend(user: user, k: 20) == added.recommend(user: user, k: 20))
        #expect(try loaded.similar(to: "new-1", k: 5).similar == added.similar(to: "new-1", k: 5).similar)
        // Scored like every other item: the new ones sit somewhere in a full ranking.
        let ranking = try added.recommend(user: user, k: added.items.count).map(\.item)
        #expect(ranking.contains("new-1") && ranking.contains("new-2"))
    }

    @Test func refusals() throws {
        let ials = try Self.trained("ials", ["factors": "4", "iterations": "1"])
        #expect(throws: ItemAdditionError.self) { try ials.addingItems(ids: ["a", "b"], catalog: Self.newItems) }
        let content = try Self.trained("content", ["base": "ials:factors=4:iterations=1", "mapping": "knn"])
        let known = Self.data.items.id(at: 3)
        #expect(throws: ItemAdditionError.self) { try content.addingItems(ids: [known, "b"], catalog: Self.newItems) }
        #expect(throws: ItemAdditionError.self) { try content.addingItems(ids: ["a", "a"], catalog: Self.newItems) }
        #expect(throws: ItemAdditionError.self) { try content.addingItems(ids: ["a"], catalog: Self.newItems) }
    }

    /// Toy Story 3 taken out of the training data (no interactions: brand-new), then added under a new
    /// ID with its title and genres: with the nearest-neighbour mapping its vector is the mean of the
    /// items most alike in content, and Toy Story or Toy Story 2 is among its 10 most similar items.
    @Test(.enabled(if: SharedData.path("ml-latest-small-2016") != nil, "../shared/data/ml-latest-small-2016 is absent"))
    func toyStoryThreeJoinsItsPredecessors() throws {
        var dataset = try Dataset.load(try #require(SharedData.path("ml-latest-small-2016")))
        let sequel = try #require(dataset.items.index(of: "78499"))
        let interactions = dataset.interactions
        dataset.interactions = interactions.selecting(
            rows: (0..<interactions.count).filter { interactions.items[$0] != sequel })
        let model = try TrainedModel(
            training: try ConfiguredModel("content", settings: ["mapping": "knn", "threads": "2"]), on: dataset)
        let added = try model.addingItems(
            ids: ["toy-story-3"],
            catalog: ItemCatalog(
                titles: ["Toy Story 3 (2010)"], years: [2010],
                genres: MultiValuedColumn(lists: [["Adventure", "Animation", "Children", "Comedy", "Fantasy"]])))
        let similar = try added.similar(to: "toy-story-3", k: 10).similar.compactMap(\.title)
        #expect(similar.contains("Toy Story (1995)") || similar.contains("Toy Story 2 (1999)"), "\(similar)")
    }
}
