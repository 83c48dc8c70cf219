import Testing
import _RecKitTestSupport
@testable import RecKitData
@testable import RecKitModels

/// Similar items on MovieLens latest-small: "Toy Story 2 (1999)" is among the ten items most similar
/// to "Toy Story (1995)". Skipped when ../shared/data is absent.
@Suite struct SharedDataModelTests {
    @Test(.enabled(if: SharedData.path("ml-latest-small-2016") != nil, "../shared/data/ml-latest-small-2016 is absent"))
    func toyStoryTwoIsSimilarToToyStory() throws {
        let dataset = try Dataset.load(try #require(SharedData.path("ml-latest-small-2016")))
        let catalog = try #require(dataset.itemCatalog)
        let toyStory = try #require(catalog.search(title: "Toy Story (1995)").first)
        let sequel = try #require(catalog.search(title: "Toy Story 2 (1999)").first)
        let knn = try ItemKNN(fitting: dataset.interactions)
        #expect(knn.similarItems(to: toyStory, k: 10).map(\.index).contains(sequel))
        let als = try ImplicitALS(fitting: dataset.interactions)
        #expect(als.similarItems(to: toyStory, k: 10).map(\.index).contains(sequel))
    }
}
