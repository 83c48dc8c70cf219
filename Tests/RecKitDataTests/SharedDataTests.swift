import Testing
import _RecKitTestSupport

@testable import RecKitData

/// The real data sets load with exactly the counts in their DATASET.md files.
/// Skipped (with the reason) where `../shared/data` is absent.
@Suite struct SharedDataTests {
    @Test(.enabled(if: SharedData.path("ml-100k") != nil, "../shared/data/ml-100k is absent"))
    func movieLens100K() throws {
        let folder = try #require(SharedData.path("ml-100k"))
        let dataset = try Dataset.load(folder)
        #expect(dataset.format == .movieLens100K)
        #expect(dataset.interactions.count == 100_000 && dataset.users.count == 943 && dataset.items.count == 1_682)
        let histogram = DatasetSummary(dataset).ratingHistogram.map(\.count)
        #expect(histogram == [6_110, 11_370, 27_145, 34_174, 21_201])
        #expect(
            dataset.interactions.timestamps?.min() == 874_724_710
                && dataset.interactions.timestamps?.max() == 893_286_638)
        let catalog = try #require(dataset.itemCatalog)
        #expect(catalog.titles[0] == "Toy Story (1995)" && catalog.years[0] == 1995)
        #expect(catalog.genres?.values(of: 0) == ["Animation", "Children's", "Comedy"])
        #expect(catalog.titles.contains("Misérables, Les (1995)")) // Latin-1, line 543
        #expect(dataset.userAttributes?.columns["occupation"]?[0] == "technician")
        for name in MovieLens.predefinedSplitNames {
            let split = try MovieLens.predefinedSplit(name, folder: folder, dataset: dataset)
            let expected =
                name.hasPrefix("u") && name.count == 2 && name != "ua" && name != "ub"
                ? (80_000, 20_000) : (90_570, 9_430)
            #expect((split.train.count, split.test.count) == expected, "\(name)")
        }
    }

    @Test(.enabled(if: SharedData.path("ml-latest-small-2016") != nil, "../shared/data/ml-latest-small-2016 is absent"))
    func movieLensLatestSmall() throws {
        let dataset = try Dataset.load(try #require(SharedData.path("ml-latest-small-2016")))
        #expect(dataset.format == .movieLensCSV)
        #expect(dataset.interactions.count == 100_004 && dataset.users.count == 671 && dataset.items.count == 9_066)
        #expect(
            DatasetSummary(dataset).ratingHistogram.map(\.count)
                == [1_101, 3_326, 1_687, 7_271, 4_449, 20_064, 10_538, 28_750, 7_723, 15_095])
        let catalog = try #require(dataset.itemCatalog)
        let toyStory = try #require(catalog.search(title: "Toy Story (1995)").first)
        #expect(catalog.years[Int(toyStory)] == 1995)
        #expect(catalog.search(title: "American President, The (1995)").count == 1) // quoted title
        #expect(catalog.attributes["imdbId"]?[Int(toyStory)] == "0114709")
    }

    @Test(.enabled(if: SharedData.path("hetrec2011-lastfm-2k") != nil, "../shared/data/hetrec2011-lastfm-2k is absent"))
    func hetrecLastFM() throws {
        let dataset = try Dataset.load(try #require(SharedData.path("hetrec2011-lastfm-2k")))
        #expect(dataset.interactions.count == 92_834 && dataset.users.count == 1_892 && dataset.items.count == 17_632)
        let weights = try #require(dataset.interactions.weights)
        #expect(weights.min() == 1 && weights.max() == 352_698)
        #expect(weights.reduce(0.0) { $0 + Double($1) } == 69_183_975)
        #expect(dataset.userLinks.count == 25_434)
        #expect(dataset.itemCatalog?.titles.allSatisfy { $0 != nil } == true)
        #expect(dataset.itemCatalog?.tags != nil)
    }

    @Test(
        .enabled(
            if: SharedData.path("yoochoose-rsc15-100k-sessionrec") != nil,
            "../shared/data/yoochoose-rsc15-100k-sessionrec is absent"))
    func yoochooseSessions() throws {
        let folder = try #require(SharedData.path("yoochoose-rsc15-100k-sessionrec"))
        let train = try SessionLog.load(folder + "/yoochoose-clicks-100k_train_full.txt")
        #expect(train.clickCount == 70_278 && train.sessions.count == 17_794 && train.items.count == 2_933)
        #expect(train.sessions.allSatisfy { $0.items.count >= 2 })
        #expect(train.sessions.allSatisfy { zip($0.timestamps, $0.timestamps.dropFirst()).allSatisfy { $0 <= $1 } })
        let test = try SessionLog.load(folder + "/yoochoose-clicks-100k_test.txt", items: train.items)
        #expect(test.clickCount == 13_568 && test.sessions.count == 3_416)
        #expect(Set(test.clicks.items).count == 1_771)
        #expect(try Dataset.detectFormat(folder + "/yoochoose-clicks-100k_test.txt") == .sessions)
    }
}
