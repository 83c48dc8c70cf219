import Foundation
import Testing
import _RecKitTestSupport

@testable import RecKitData

/// `Dataset.export` and its reader: partitioned gzip CSV that round-trips raw IDs of any kind.
@Suite struct ExportTests {
    /// IDs with commas, quotes, a newline, a tab and non-ASCII text, ratings with fractions, times.
    static func awkwardDataset() throws -> Dataset {
        let users = try IDMap(ids: ["alice, the first", "bob \"the builder\"", "zoë", "line\nbreak", "tab\there"])
        let items = try IDMap(ids: ["a,b", "\"quoted\"", "Ünïcødé ♫", "東京", "plain"])
        var userColumn: [Int32] = []
        var itemColumn: [Int32] = []
        var ratings: [Float] = []
        var times: [Int64] = []
        for user in 0..<5 {
            for item in 0..<5 where (user + item) % 3 != 0 {
                userColumn.append(Int32(user))
                itemColumn.append(Int32(item))
                ratings.append(Float(user + item) / 2 + 0.5)
                times.append(1_000_000_000 + Int64(user * 10 + item))
            }
        }
        let interactions = try Interactions(
            users: userColumn, items: itemColumn, ratings: ratings, timestamps: times, userCount: 5, itemCount: 5)
        return Dataset(
            name: "awkward", format: .delimited, interactions: interactions, users: users, items: items,
            itemCatalog: ItemCatalog(titles: ["A, B (1999)", nil, "Ü", "東京物語", "Plain \"Title\""]))
    }

    /// The same pairs, by raw ID, with the same values and times.
    static func rows(_ dataset: Dataset) -> [String] {
        let data = dataset.interactions
        return (0..<data.count).map { row in
            "\(dataset.users.id(at: data.users[row]))|\(dataset.items.id(at: data.items[row]))|"
                + "\(data.ratings?[row] ?? -1)|\(data.timestamps?[row] ?? -1)|\(data.weights?[row] ?? -1)"
        }.sorted()
    }

    @Test(arguments: [ExportCompression.gzip, .none], [1, 3])
    func roundTrip(compression: ExportCompression, partitions: Int) throws {
        let folder = TemporaryDirectory()
        let dataset = try Self.awkwardDataset()
        let manifest = try dataset.export(to: folder.path, partitions: partitions, compression: compression)
        #expect(manifest.partitions.count == partitions && manifest.rowCount == dataset.interactions.count)
        #expect(manifest.columns == ["user_id", "item_id", "rating", "timestamp"] && manifest.valueColumn == "rating")
        #expect(manifest.fingerprint == dataset.interactions.fingerprint())
        for part in manifest.partitions {
            #expect(part.hasSuffix(compression == .gzip ? ".csv.gz" : ".csv"))
            #expect(FileManager.default.fileExists(atPath: folder.path + "/" + part))
        }
        let loaded = try Dataset.load(folder.path)
        #expect(loaded.format == .export && loaded.name == "awkward")
        #expect(Self.rows(loaded) == Self.rows(dataset))
        #expect(Set(loaded.users.ids) == Set(dataset.users.ids) && Set(loaded.items.ids) == Set(dataset.items.ids))
        let titles = try #require(loaded.itemCatalog?.titles)
        #expect(titles[Int(loaded.items.index(of: "東京")!)] == "東京物語")
        #expect(titles[Int(loaded.items.index(of: "plain")!)] == "Plain \"Title\"")
        #expect(titles[Int(loaded.items.index(of: "\"quoted\"")!)] == nil)
    }

    /// The gzip parts are standard gzip: the first part's bytes, decompressed, are the CSV header and
    /// rows, RFC 4180-quoted.
    @Test func partsAreStandardGzipCSV() throws {
        let folder = TemporaryDirectory()
        let manifest = try Self.awkwardDataset().export(to: folder.path, partitions: 1)
        let bytes = try Gzip.read(folder.path + "/" + manifest.partitions[0])
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("user_id,item_id,rating,timestamp\n"))
        #expect(text.contains("\"alice, the first\",\"\"\"quoted\"\"\",1,1000000001\n"))
        #expect(text.contains("\"line\nbreak\""))
        // The ID maps, in index order.
        #expect(!text.contains("\"zoë\""))
        let users = try String(contentsOfFile: folder.path + "/users.csv", encoding: .utf8)
        #expect(users.hasPrefix("user_index,user_id\n0,\"alice, the first\"\n1,\"bob \"\"the builder\"\"\"\n2,zoë\n"))
    }

    /// Weights win over ratings as the value column; no value column means every interaction counts 1.
    @Test func valueColumnFollowsWhatModelsTrainOn() throws {
        let folder = TemporaryDirectory()
        let weighted = try Interactions(users: [0, 1], items: [1, 0], weights: [3, 7], userCount: 2, itemCount: 2)
        let plain = try Interactions(users: [0, 1], items: [1, 0], userCount: 2, itemCount: 2)
        let ids = try IDMap(ids: ["x", "y"])
        let first = try Dataset(name: "w", format: .delimited, interactions: weighted, users: ids, items: ids)
            .export(to: folder.path + "/w", partitions: 2)
        let second = try Dataset(name: "p", format: .delimited, interactions: plain, users: ids, items: ids)
            .export(to: folder.path + "/p", partitions: 5)
        #expect(first.valueColumn == "weight" && first.columns == ["user_id", "item_id", "weight"])
        #expect(second.valueColumn == nil && second.partitions.count == 2) // never more parts than rows
        #expect(try Dataset.load(folder.path + "/w").interactions.weights?.sorted() == [3, 7])
    }

    @Test func badExportsAreNamed() throws {
        let folder = TemporaryDirectory()
        let manifest = try Self.awkwardDataset().export(to: folder.path, partitions: 2)
        // A bad row names its part file and its line there.
        let part = try Gzip.read(folder.path + "/" + manifest.partitions[1])
        folder.write(
            manifest.partitions[1].replacingOccurrences(of: ".gz", with: ""),
            String(decoding: part, as: UTF8.self) + "u,i,notanumber,5\n")
        var edited = try ExportManifest.read(folder: folder.path)
        edited.partitions[1] = edited.partitions[1].replacingOccurrences(of: ".gz", with: "")
        folder.write("export.json", String(decoding: try JSONEncoder().encode(edited), as: UTF8.self))
        let lines = part.filter { $0 == 0x0A }.count
        #expect(
            throws: DataError(
                file: folder.path + "/" + edited.partitions[1], line: lines + 1, field: "rating",
                .notANumber("notanumber"))
        ) { try Dataset.load(folder.path) }
        folder.write("export.json", String(decoding: try JSONEncoder().encode(manifest), as: UTF8.self))
        // A corrupt part names the file.
        folder.write(manifest.partitions[1], "not gzip at all")
        #expect(throws: DataError.self) { try Dataset.load(folder.path) }
        do {
            _ = try Dataset.load(folder.path)
        } catch {
            #expect(error.description.contains("part-00001.csv.gz") && error.description.contains("gzip"))
        }
        // Another format version is refused with the manifest's path.
        folder.write("export.json", #"{"format":"reckit-export","format_version":9}"#)
        do {
            _ = try Dataset.load(folder.path)
            Issue.record("loaded a bad manifest")
        } catch {
            #expect(error.description.contains("export.json"))
        }
    }

    /// Factor tables as Spark writes them: parts with a header each, quoted IDs, exponents; errors
    /// name file, line and field.
    @Test func factorTables() throws {
        let folder = TemporaryDirectory()
        folder.write("f/part-00000-x.csv", "id,f0,f1\n\"a,b\",1.5,-2E-3\n\"say \"\"hi\"\"\",0,1\n")
        folder.write("f/part-00001-x.csv", "")
        folder.write("f/part-00002-x.csv", "id,f0,f1\nzoë,3,4\n")
        folder.write("f/_SUCCESS", "")
        let table = try FactorTable.read(folder: folder.path + "/f")
        #expect(table.ids == ["a,b", "say \"hi\"", "zoë"] && table.width == 2)
        #expect(table.values == [1.5, -0.002, 0, 1, 3, 4])
        #expect(table.files.count == 3)

        folder.write("g/part-0.csv", "id,f0,f1\nx,1,2\ny,1,oops\n")
        #expect(throws: DataError(file: folder.path + "/g/part-0.csv", line: 3, field: "f1", .notANumber("oops"))) {
            try FactorTable.read(folder: folder.path + "/g")
        }
        folder.write("h/part-0.csv", "id,f0\nx,1\n")
        folder.write("h/part-1.csv", "id,f0\nx,2\n")
        do {
            _ = try FactorTable.read(folder: folder.path + "/h")
            Issue.record("read a repeated ID")
        } catch {
            #expect(error.line == 2 && error.field == "id" && error.description.contains("part-0.csv:2"))
        }
        folder.write("i/part-0.csv", "id,f0\nx,1\n")
        folder.write("i/part-1.csv", "id,f0,f1\ny,2,3\n")
        #expect(throws: DataError.self) { try FactorTable.read(folder: folder.path + "/i") }
        #expect(throws: DataError.self) { try FactorTable.read(folder: folder.path + "/missing") }
    }
}
