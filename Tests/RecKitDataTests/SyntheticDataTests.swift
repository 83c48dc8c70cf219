import Foundation
import Testing
import _RecKitTestSupport

@testable import RecKitData

@Suite struct SyntheticDataTests {
    @Test func sameSeedGivesByteIdenticalFilesOnAnyThreadCount() throws {
        let one = TemporaryDirectory()
        let two = TemporaryDirectory()
        try SyntheticData.generate(preset: .tiny, seed: 9, threadCount: 1).write(to: one.path, threadCount: 1)
        try SyntheticData.generate(preset: .tiny, seed: 9, threadCount: 3).write(to: two.path, threadCount: 2)
        for file in [
            SyntheticData.ratingsFile, SyntheticData.eventsFile, SyntheticData.itemsFile, SyntheticData.manifestFile,
        ] {
            let a = FileManager.default.contents(atPath: one.path + "/" + file)
            let b = FileManager.default.contents(atPath: two.path + "/" + file)
            #expect(a != nil && a == b, "\(file)")
        }
    }

    /// Pins the generator's output: a change that alters the files for a given seed must bump
    /// `SyntheticData.generatorVersion` and this digest together.
    @Test func tinyPresetDigestIsPinned() throws {
        let folder = TemporaryDirectory()
        try SyntheticData.generate(preset: .tiny, seed: 42).write(to: folder.path)
        var hasher = Fingerprint.Hasher()
        for file in [SyntheticData.ratingsFile, SyntheticData.eventsFile, SyntheticData.itemsFile] {
            hasher.update(try #require(FileManager.default.contents(atPath: folder.path + "/" + file)))
        }
        #expect(hasher.finalizeHex() == "1385f8e4522bad313dc2309746aff9f96ee225073919c05eea59abc258e2bace")
        #expect(SyntheticData.generatorVersion == 1)
    }

    @Test func differentSeedsDiffer() {
        let a = SyntheticData.generate(preset: .tiny, seed: 1)
        let b = SyntheticData.generate(preset: .tiny, seed: 2)
        #expect(a.ratings.interactions.items != b.ratings.interactions.items)
    }

    @Test func shapeFollowsThePreset() {
        let data = SyntheticData.generate(preset: .small, seed: 3)
        let ratings = data.ratings.interactions
        #expect(abs(ratings.count - 100_000) < 1_000)
        #expect(ratings.countsPerUser().min()! >= SyntheticPreset.small.minimumPerUser)
        #expect(Set(ratings.ratings!) == [1, 2, 3, 4, 5])
        #expect(data.events.count > ratings.count)
        // No user rates an item twice.
        #expect(ratings.deduplicated(.keepLast).count == ratings.count)
        // A long tail: the top 10 % of items hold a large share of ratings.
        let perItem = ratings.countsPerItem().sorted(by: >)
        #expect(Double(perItem.prefix(perItem.count / 10).reduce(0, +)) / Double(ratings.count) > 0.3)
        // Events are in time order within each user; ratings by user, then item.
        let events = data.events
        var last: [Int64] = Array(repeating: .min, count: events.userCount)
        for row in 0..<events.count {
            #expect(events.timestamps![row] > last[Int(events.users[row])])
            last[Int(events.users[row])] = events.timestamps![row]
        }
        #expect(
            zip(zip(ratings.users, ratings.items), zip(ratings.users, ratings.items).dropFirst()).allSatisfy { $0 < $1 }
        )
    }

    @Test func ratingsFollowTheTrueModel() {
        // The generating model explains the ratings: correlation of expected and observed > 0.5, and
        // the residual is close to the noise level (0.8 plus rounding).
        let data = SyntheticData.generate(preset: .small, seed: 4)
        let ratings = data.ratings.interactions
        var xs: [Double] = []
        var ys: [Double] = []
        for row in 0..<ratings.count {
            xs.append(Double(data.truth.expectedRating(user: Int(ratings.users[row]), item: Int(ratings.items[row]))))
            ys.append(Double(ratings.ratings![row]))
        }
        let mx = xs.reduce(0, +) / Double(xs.count)
        let my = ys.reduce(0, +) / Double(ys.count)
        var sxy = 0.0
        var sxx = 0.0
        var syy = 0.0
        for (x, y) in zip(xs, ys) {
            sxy += (x - mx) * (y - my)
            sxx += (x - mx) * (x - mx)
            syy += (y - my) * (y - my)
        }
        #expect(sxy / (sxx * syy).squareRoot() > 0.5)
        // Users concentrate on their favourite genres.
        var favouriteHits = 0
        for row in 0..<ratings.count {
            let genre = data.truth.primaryGenres[Int(ratings.items[row])]
            if data.truth.favouriteGenres[Int(ratings.users[row])].contains(genre) { favouriteHits += 1 }
        }
        #expect(Double(favouriteHits) / Double(ratings.count) > 0.45) // about 0.15 if genres were ignored
    }

    @Test func writtenFolderLoadsBackIdentically() throws {
        let folder = TemporaryDirectory()
        let data = SyntheticData.generate(preset: .tiny, seed: 5)
        try data.write(to: folder.path)
        let loaded = try Dataset.load(folder.path)
        #expect(loaded.format == .synthetic && loaded.name == "synthetic-tiny")
        #expect(loaded.interactions.count == data.ratings.interactions.count)
        #expect(loaded.interactions.ratings == data.ratings.interactions.ratings)
        #expect(loaded.interactions.timestamps == data.ratings.interactions.timestamps)
        let first = Int(loaded.interactions.items[0])
        #expect(
            loaded.itemCatalog?.titles[first]
                == data.ratings.itemCatalog?.titles[Int(data.ratings.interactions.items[0])])
        // Canonical CSV round trip.
        let csv = folder.path + "/canonical.csv"
        try loaded.writeCanonicalCSV(to: csv)
        let again = try Dataset.load(csv)
        #expect(again.interactions == loaded.interactions && again.users == loaded.users && again.items == loaded.items)
    }

    /// `synthetic:PRESET[:SEED]` generates in memory what `data synth` writes (seed 42 unless given);
    /// a mistyped preset or seed is an error naming the location.
    @Test func syntheticLocationsGenerateInMemory() throws {
        let loaded = try Dataset.load("synthetic:tiny:5")
        let data = SyntheticData.generate(preset: .tiny, seed: 5).ratings
        #expect(loaded.name == "synthetic-tiny" && loaded.interactions == data.interactions)
        #expect(loaded.itemCatalog?.genres == data.itemCatalog?.genres)
        #expect(
            try Dataset.load("synthetic:tiny").interactions
                == SyntheticData.generate(preset: .tiny, seed: 42).ratings.interactions)
        #expect(try SyntheticData.location("data/ratings.csv") == nil)
        for bad in ["synthetic:huge", "synthetic:tiny:x", "synthetic:tiny:1:2"] {
            #expect { try Dataset.load(bad) } throws: { "\($0)".contains(bad) }
        }
    }
}
