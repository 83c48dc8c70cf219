import Foundation
import Testing
import _RecKitTestSupport

@testable import RecKitData

@Suite struct DelimitedLoaderTests {
    let folder = TemporaryDirectory()

    @Test func detectsDelimiterHeaderAndColumnsByName() throws {
        let path = folder.write("log.tsv", "ts\tmovieId\tuserId\tscore\n100\t7\t2\t4.5\n200\t3\t1\t2\n")
        let loaded = try InteractionFileLoader.load(path)
        #expect(loaded.delimiter == .tab && loaded.hasHeader)
        #expect(loaded.users.ids == ["1", "2"] && loaded.items.ids == ["3", "7"])
        #expect(loaded.interactions.users == [1, 0] && loaded.interactions.items == [1, 0])
        #expect(loaded.interactions.ratings == [4.5, 2] && loaded.interactions.timestamps == [100, 200])
    }

    @Test func headerlessFilesArePositional() throws {
        let loaded = try InteractionFileLoader.load(folder.write("u.txt", "10::20::5::99\n11::20::3::98\n"))
        #expect(loaded.delimiter == .doubleColon && !loaded.hasHeader)
        #expect(loaded.interactions.ratings == [5, 3] && loaded.interactions.timestamps == [99, 98])
    }

    @Test func quotedFieldsFollowRFC4180() throws {
        let text = "user,item,rating\r\n\"a, b\",\"say \"\"hi\"\"\",1\r\n\"multi\nline\",x,2\r\nplain,x,3\r\n"
        let loaded = try InteractionFileLoader.load(folder.write("q.csv", text))
        #expect(loaded.users.ids == ["a, b", "multi\nline", "plain"])
        #expect(loaded.items.ids == ["say \"hi\"", "x"])
        #expect(loaded.interactions.ratings == [1, 2, 3])
    }

    @Test func stringIDsSortBytewiseAndIntegersNumerically() throws {
        let loaded = try InteractionFileLoader.load(folder.write("ids.csv", "user,item\n10,b\n9,a\n100,c\n"))
        #expect(loaded.users.ids == ["9", "10", "100"])
        let mixed = try InteractionFileLoader.load(folder.write("mixed.csv", "user,item\n10,1\nu7,2\n9,3\n"))
        #expect(mixed.users.ids == ["10", "9", "u7"])
        // "007" is not the integer 7: IDs keep their text.
        let padded = try InteractionFileLoader.load(folder.write("pad.csv", "user,item\n007,1\n7,2\n"))
        #expect(padded.users.count == 2)
    }

    @Test func isoTimesAndDecimalSecondsParse() throws {
        let text = "user,item,time\n1,1,2014-04-07T10:51:09.277Z\n1,2,1396867869.94\n1,3,2014-04-07 12:51:09+02:00\n"
        let loaded = try InteractionFileLoader.load(folder.write("t.csv", text))
        #expect(loaded.interactions.timestamps == [1_396_867_869, 1_396_867_869, 1_396_867_869])
    }

    @Test func parallelAndSingleThreadedLoadsAgree() throws {
        var text = "user,item,rating,timestamp\n"
        var generator = SplitMix64Local(seed: 5)
        for row in 0..<30_000 {
            // Every 1000th row takes the general path (spaces, a string item).
            let item = row % 1000 == 0 ? " x\(row % 7)" : String(generator.next() % 500)
            text += "\(generator.next() % 300),\(item),\(Double(generator.next() % 10) / 2 + 0.5),\(row)\n"
        }
        let path = folder.write("p.csv", text)
        var single = InteractionFileOptions(threadCount: 1)
        single.minimumChunkBytes = 1
        var parallel = InteractionFileOptions(threadCount: 2)
        parallel.minimumChunkBytes = 1
        var many = InteractionFileOptions(threadCount: 7)
        many.minimumChunkBytes = 1
        let a = try InteractionFileLoader.load(path, options: single)
        let b = try InteractionFileLoader.load(path, options: parallel)
        let c = try InteractionFileLoader.load(path, options: many)
        #expect(a.interactions == b.interactions && b.interactions == c.interactions)
        #expect(a.items == b.items && a.users == c.users)
        #expect(a.interactions.count == 30_000)
        #expect(a.interactions.timestamps == Array(0..<30_000).map(Int64.init))
    }

    @Test func rowEstimatesThatFallShortTriggerAnExactRecount() throws {
        // A mean line length far above the real one makes the first size estimate too small, so the
        // load must count lines and parse again, losing nothing, on one thread or several.
        var text = "user,item,note\n"
        for row in 0..<40_000 { text += "\(row),\(row % 50),y\n" }
        let path = folder.write("skew.csv", text)
        for threads in [1, 3] {
            var options = InteractionFileOptions(threadCount: threads)
            options.minimumChunkBytes = 1
            options.meanLineLengthOverride = 400
            let loaded = try InteractionFileLoader.load(path, options: options)
            #expect(loaded.interactions.count == 40_000)
            #expect(loaded.users.count == 40_000 && loaded.items.count == 50)
            #expect(loaded.interactions.users == (0..<40_000).map { Int32($0) })
        }
    }

    @Test func duplicatePolicies() throws {
        let text = "user,item,rating,timestamp\n1,1,2,10\n1,1,5,30\n1,1,4,20\n2,1,3,5\n"
        let path = folder.write("d.csv", text)
        func load(_ policy: DuplicatePolicy) throws -> Interactions {
            try InteractionFileLoader.load(path, options: InteractionFileOptions(duplicates: policy)).interactions
        }
        #expect(try load(.keepAll).count == 4)
        #expect(try load(.keepLast).ratings == [5, 3])
        #expect(try load(.keepLast).timestamps == [30, 5])
        #expect(try load(.sum).ratings == [11, 3])
        #expect(try load(.max).ratings == [5, 3])
        let counts = try Interactions(users: [0, 0, 1], items: [2, 2, 2], userCount: 2, itemCount: 3).deduplicated(.sum)
        #expect(counts.weights == [2, 1])
    }
}

/// A local copy of SplitMix64 so this file does not depend on RecKitTensor's import.
struct SplitMix64Local {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct InteractionsTests {
    let data = try! Interactions(
        users: [2, 0, 0, 1, 0, 2], items: [1, 3, 0, 3, 2, 0], ratings: [1, 2, 3, 4, 5, 6], userCount: 4, itemCount: 5)

    @Test func invalidColumnsAreRejected() {
        #expect(throws: DataError.self) { try Interactions(users: [0, 1], items: [0], userCount: 2, itemCount: 1) }
        #expect(throws: DataError.self) { try Interactions(users: [2], items: [0], userCount: 2, itemCount: 1) }
        #expect(throws: DataError.self) {
            try Interactions(users: [0], items: [0], ratings: [.nan], userCount: 1, itemCount: 1)
        }
    }

    @Test func csrMatchesANaiveBuildAndTransposes() {
        let matrix = InteractionMatrix.byUser(data)
        #expect(matrix.rowOffsets == [0, 3, 4, 6, 6])
        #expect(Array(matrix.columns(inRow: 0)) == [0, 2, 3])
        #expect(Array(matrix.values(inRow: 0)) == [3, 5, 2])
        #expect(Array(matrix.columns(inRow: 2)) == [0, 1] && Array(matrix.values(inRow: 2)) == [6, 1])
        #expect(matrix.count(inRow: 3) == 0)
        #expect(matrix.contains(row: 0, column: 2) && !matrix.contains(row: 0, column: 1))
        let csc = InteractionMatrix.byItem(data)
        #expect(csc == matrix.transposed())
        #expect(csc.transposed() == matrix)
        // Every stored pair is a row of the input.
        var pairs: [[Int]] = []
        for row in 0..<matrix.rowCount {
            for column in matrix.columns(inRow: row) { pairs.append([row, Int(column)]) }
        }
        #expect(
            pairs.sorted { $0.lexicographicallyPrecedes($1) }
                == zip(data.users, data.items).map { [Int($0), Int($1)] }.sorted { $0.lexicographicallyPrecedes($1) })
    }

    @Test func longUnsortedRowsAreSortedStably() {
        let count = 200
        let items = (0..<count).map { Int32(($0 * 37) % 50) } // repeats, out of order
        let ratings = (0..<count).map { Float($0) }
        let interactions = try! Interactions(
            users: [Int32](repeating: 0, count: count), items: items, ratings: ratings, userCount: 1, itemCount: 50)
        let matrix = InteractionMatrix.byUser(interactions)
        let expected = (0..<count).sorted { (items[$0], $0) < (items[$1], $1) }
        #expect(matrix.columnIndices == expected.map { items[$0] })
        #expect(matrix.values == expected.map { ratings[$0] })
    }

    @Test func filtersAndKCore() {
        #expect(data.keepingRatings(atLeast: 4).ratings == [4, 5, 6])
        let filtered = data.filtered(minimumPerUser: 2)
        #expect(Set(filtered.users) == [0, 2])
        // 2-core: item 1 (one row) goes, then user 2 has one row left and goes, then item 0 has one.
        let core = data.kCore(2)
        #expect(
            core.count == 0
                || (core.countsPerUser().allSatisfy { $0 == 0 || $0 >= 2 }
                    && core.countsPerItem().allSatisfy { $0 == 0 || $0 >= 2 })
        )
        // A 2-core that is not empty, reached by a cascade: item 2 has one row and goes, then user 2 has
        // one row left and goes; the 2 × 2 square stays whole.
        let square = try! Interactions(
            users: [0, 0, 1, 1, 2, 2], items: [0, 1, 0, 1, 2, 0], userCount: 3, itemCount: 3)
        let squareCore = square.kCore(2)
        #expect(squareCore.users == [0, 0, 1, 1] && squareCore.items == [0, 1, 0, 1])
        #expect(square.kCore(3).count == 0 && square.kCore(1).count == 6)
        let compact = data.compacted()
        #expect(compact.interactions.userCount == 3 && compact.oldUsers == [0, 1, 2])
        #expect(compact.interactions.itemCount == 4 && compact.oldItems == [0, 1, 2, 3])
    }

    @Test func idMapRoundTripsAndRejectsDuplicates() throws {
        var map = try IDMap(ids: ["b", "a"])
        #expect(map.index(of: "a") == 1 && map.id(at: 0) == "b" && map.index(of: "z") == nil)
        #expect(map.insert("c") == 2 && map.insert("a") == 1)
        #expect(throws: DataError.self) { try IDMap(ids: ["x", "x"]) }
        #expect(IDMap(sorting: ["10", "9", "100", "9"]).ids == ["9", "10", "100"])
    }

    @Test func summaryQuantilesMatchNumpy() {
        // numpy.quantile([1, 2, 3, 4, 10], [0.25, 0.9]) == [2.0, 7.6]
        #expect(DatasetSummary.quantile([1, 2, 3, 4, 10], 0.25) == 2)
        #expect(abs(DatasetSummary.quantile([1, 2, 3, 4, 10], 0.9) - 7.6) < 1e-12)
    }

    @Test func sha256MatchesFIPSVectors() {
        #expect(Fingerprint.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Fingerprint.hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let long = Array(repeating: UInt8(ascii: "a"), count: 1000)
        var streamed = Fingerprint.Hasher()
        long.withUnsafeBytes { streamed.update(UnsafeRawBufferPointer(rebasing: $0[0..<3])) }
        long.withUnsafeBytes { streamed.update(UnsafeRawBufferPointer(rebasing: $0[3...])) }
        #expect(streamed.finalizeHex() == Fingerprint.hex(Data(long)))
        #expect(Fingerprint.hex(Data(long)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}

/// MovieLens 1M/10M and 20M formats on small fixture files (those sets are not in ../shared/data).
@Suite struct MovieLensFixtureTests {
    let folder = TemporaryDirectory()

    @Test func oneMillionDatFormat() throws {
        folder.write("ml-1m/ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n")
        // movies.dat of ML-1M is Latin-1: "Misérables" with an 0xE9 byte.
        folder.write(
            "ml-1m/movies.dat",
            bytes: Array(
                ("1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n661::James and the Giant Peach "
                    + "(1996)::Animation|Children's|Musical\n").utf8)
                + Array("73::Mis".utf8) + [0xE9] + Array("rables, Les (1995)::Drama|Musical\n".utf8))
        folder.write("ml-1m/users.dat", "1::F::1::10::48067\n2::M::56::16::70072\n")
        let dataset = try Dataset.load(folder.path + "/ml-1m")
        #expect(dataset.format == .movieLensDat)
        #expect(
            dataset.interactions.count == 3 && dataset.users.ids == ["1", "2"] && dataset.items.ids == ["661", "1193"])
        #expect(dataset.interactions.ratings == [5, 3, 4] && dataset.interactions.timestamps?[1] == 978_302_109)
        let catalog = try #require(dataset.itemCatalog)
        #expect(catalog.titles == ["James and the Giant Peach (1996)", "One Flew Over the Cuckoo's Nest (1975)"])
        #expect(catalog.years == [1996, 1975])
        #expect(catalog.genres?.values(of: 0) == ["Animation", "Children's", "Musical"])
        #expect(dataset.userAttributes?.columns["gender"] == ["F", "M"])
        // The ratings file alone works too.
        #expect(try Dataset.load(folder.path + "/ml-1m/ratings.dat").interactions.count == 3)
    }

    @Test func twentyMillionCSVFormat() throws {
        folder.write(
            "ml-20m/ratings.csv",
            "userId,movieId,rating,timestamp\n1,2,3.5,1112486027\n1,29,3.5,1112484676\n7,2,4.0,1112484819\n")
        folder.write(
            "ml-20m/movies.csv",
            """
            movieId,title,genres
            2,Jumanji (1995),Adventure|Children|Fantasy
            29,"City of Lost Children, The (Cité des enfants perdus, La) (1995)",Adventure|Drama|Fantasy|Mystery|Sci-Fi
            30,Unrated Movie (2001),(no genres listed)

            """)
        folder.write(
            "ml-20m/tags.csv",
            "userId,movieId,tag,timestamp\n18,2,Robin Williams,1240597180\n65,2,\"board game, magic\",1368150078\n")
        folder.write("ml-20m/links.csv", "movieId,imdbId,tmdbId\n2,0113497,8844\n29,0112682,\n")
        let dataset = try Dataset.load(folder.path + "/ml-20m")
        #expect(dataset.format == .movieLensCSV && dataset.interactions.ratings == [3.5, 3.5, 4])
        let catalog = try #require(dataset.itemCatalog)
        #expect(catalog.titles[1] == "City of Lost Children, The (Cité des enfants perdus, La) (1995)")
        #expect(catalog.years == [1995, 1995])
        #expect(catalog.tags?.values(of: 0) == ["Robin Williams", "board game, magic"])
        #expect(
            catalog.attributes["imdbId"] == ["0113497", "0112682"] && catalog.attributes["tmdbId"] == ["8844", nil])
        #expect(catalog.search(title: "jumanji").map { dataset.items.id(at: $0) } == ["2"])
    }
}
