import Foundation
import Testing
import _RecKitTestSupport

@testable import RecKit

@Suite struct ModelStoreTests {
    static let data = SyntheticData.generate(preset: .tiny, seed: 61)
    static let train = data.ratings.interactions

    func saved(_ name: String, settings: [String: String] = [:]) throws -> TrainedModel {
        try TrainedModel(
            training: try ConfiguredModel(name, settings: settings), on: Self.train, users: Self.data.ratings.users,
            items: Self.data.ratings.items, itemTitles: Self.data.ratings.itemCatalog?.titles,
            side: Self.data.ratings.side)
    }

    /// Small settings so the tiny set trains in moments; a registered model missing here trains with
    /// its defaults (still round-tripped: the arguments come from the registry).
    static let quick: [String: [String: String]] = [
        "random": ["seed": "3"], "ials": ["factors": "8", "iterations": "3"], "bpr": ["factors": "8", "epochs": "3"],
        "ease": ["regularization": "50"], "svd": ["factors": "8", "epochs": "3"],
        "svdpp": ["factors": "4", "epochs": "2"],
        "userknn": ["neighbors": "5"], "lmf": ["factors": "4", "iterations": "2"],
        "ncf": ["factors": "4", "layers": "8,4", "epochs": "1"],
        "multvae": ["hidden": "16", "factors": "4", "epochs": "1"],
        "multdae": ["hidden": "16", "factors": "4", "epochs": "1"],
        "cdae": ["hidden": "8", "epochs": "1"],
        "autorec": ["hidden": "8", "epochs": "2"],
        "rbm": ["hidden": "8", "epochs": "2"],
        "gru4rec": ["hidden": "8", "epochs": "2", "validation": "0"],
        "sasrec": ["factors": "8", "max_length": "10", "epochs": "1", "validation": "0"],
        "item2vec": ["factors": "8", "epochs": "1", "threads": "1"],
        "youtubednn": ["embedding": "8", "layers": "16,8", "negatives": "5", "epochs": "1", "validation": "0"],
        "ensemble": ["members": "popularity,ease:regularization=50,ials:factors=4:iterations=2", "weights": "1,2,1"],
        "twostage": [
            "retriever": "ials:factors=4:iterations=2", "ranker": "fm:epochs=1:positive_threshold=0:negatives=2",
            "candidates": "20",
        ],
        "content": [
            "base": "ials:factors=4:iterations=2", "filters": "4", "embedding": "4", "hidden": "8", "epochs": "2",
        ],
    ]

    /// Every registered model, plus the variants whose saved state differs.
    static let cases: [(String, [String: String])] =
        ModelRegistry.names.map { ($0, quick[$0] ?? [:]) } + [
            ("svd", ["factors": "4", "epochs": "2", "temporal": "true", "time_bins": "7"]),
            ("svd", ["factors": "4", "epochs": "2", "solver": "als"]),
            ("ncf", ["variant": "gmf", "factors": "4", "epochs": "1"]), ("popularity", ["weights": "true"]),
            ("youtubednn", ["embedding": "8", "layers": "8", "softmax": "full", "epochs": "1", "validation": "0"]),
            ("autorec", ["variant": "user", "hidden": "8", "epochs": "2"]),
            ("cdae", ["hidden": "8", "epochs": "1", "user_node": "false"]),
            ("rbm", ["visible": "binary", "hidden": "8", "epochs": "2"]),
            (
                "gru4rec",
                [
                    "hidden": "8", "embedding": "4", "negatives": "5", "loss": "bpr-max", "epochs": "1",
                    "validation": "0",
                ]
            ),
            ("gru4rec", ["hidden": "8", "tied": "true", "loss": "top1-max", "epochs": "1", "validation": "0"]),
            (
                "gru4rec",
                [
                    "hidden": "8", "embedding": "4", "latent_cross": "true", "auxiliary": "genres", "epochs": "1",
                    "validation": "0",
                ]
            ),
            ("item2vec", ["variant": "bagged", "factors": "8", "epochs": "1", "threads": "1"]),
            ("content", ["base": "ials:factors=4:iterations=2", "mapping": "knn"]),
            ("twostage", ["retriever": "ials:factors=4:iterations=2", "ranker": "none", "candidates": "20"]),
            (
                "twostage",
                [
                    "retriever": "ials:factors=4:iterations=2",
                    "ranker": "fm:epochs=1:positive_threshold=0:negatives=2",
                    "candidates": "20", "holdout": "0",
                ]
            ),
            (
                "content",
                [
                    "base": "youtubednn:embedding=4:layers=4:negatives=5:epochs=1:validation=0", "mapping": "hybrid",
                    "filters": "4", "embedding": "4", "hidden": "0", "epochs": "2", "loss": "vectors",
                ]
            ),
            ("ensemble", ["members": "itemknn:neighbors=5,bpr:factors=4:epochs=2", "fusion": "rank"]),
            ("item2vec", ["variant": "user", "factors": "8", "epochs": "1", "threads": "1"]),
            ("item2vec", ["variant": "meta", "factors": "8", "epochs": "1", "threads": "1", "meta_cold": "true"]),
        ]

    @Test(arguments: cases)
    func roundTripGivesIdenticalRecommendations(name: String, settings: [String: String]) throws {
        let folder = TemporaryDirectory()
        let original = try saved(name, settings: settings)
        try original.save(to: folder.path + "/m")
        let loaded = try TrainedModel.load(folder.path + "/m")
        #expect(loaded.kind == name && loaded.model.configObject == original.model.configObject)
        #expect(loaded.users == original.users && loaded.items == original.items)
        #expect(loaded.seen == original.seen && loaded.fingerprint == original.fingerprint)
        let users: [Int32] = [0, 5, 17, 299]
        #expect(loaded.model.scores(forUsers: users) == original.model.scores(forUsers: users))
        #expect(loaded.model.scores(forHistory: [1, 2, 30]) == original.model.scores(forHistory: [1, 2, 30]))
        let ids = users.map { Self.data.ratings.users.id(at: $0) }
        #expect(try loaded.recommend(users: ids, k: 10) == original.recommend(users: ids, k: 10))
        if let a = loaded.model as? any RatingPredictor, let b = original.model as? any RatingPredictor,
            let times = Self.train.timestamps
        {
            for row in [0, 10, 100] {
                let (user, item, time) = (Self.train.users[row], Self.train.items[row], times[row])
                #expect(a.predict(user: user, item: item, time: time) == b.predict(user: user, item: item, time: time))
            }
        }
        // Saving again over it replaces it in place.
        try original.save(to: folder.path + "/m")
        #expect(try TrainedModel.load(folder.path + "/m").kind == name)
    }

    /// Saves of one path from several tasks at once all succeed and leave one whole model (they used
    /// to share a PID-named temporary folder); the same model scored from many threads gives the
    /// same lists (the server relies on it).
    @Test func concurrentSavesAndScoringAreSafe() async throws {
        let folder = TemporaryDirectory()
        let path = folder.path + "/m"
        let trained = try saved("ials", settings: ["factors": "4", "iterations": "1"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { try trained.save(to: path) } }
            try await group.waitForAll()
        }
        let loaded = try TrainedModel.load(path)
        #expect(loaded.model.scores(forUsers: [0, 1]) == trained.model.scores(forUsers: [0, 1]))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0 != "m" }
        #expect(leftovers.isEmpty, "\(leftovers)")
        let ids = Array(loaded.users.ids.prefix(50))
        let expected = try loaded.recommend(users: ids, k: 10)
        let results = try await withThrowingTaskGroup(of: [[Recommendation]].self) { group in
            for _ in 0..<8 { group.addTask { try loaded.recommend(users: ids, k: 10) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 8 && results.allSatisfy { $0 == expected })
    }

    /// The manifest holds the complete configuration as typed JSON: defaults included, so a later
    /// change of a default cannot change a saved model.
    @Test func manifestStoresTheCompleteTypedConfig() throws {
        let folder = TemporaryDirectory()
        try saved("ials", settings: ["factors": "4", "iterations": "1"]).save(to: folder.path + "/m")
        let manifest = try JSONDecoder().decode(
            JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: folder.path + "/m/manifest.json")))
        guard case .object(let object) = manifest, case .object(let config)? = object["config"] else {
            Issue.record("no config object in \(manifest)")
            return
        }
        #expect(object["formatVersion"] == .integer(2))
        #expect(
            config["factors"] == .integer(4) && config["iterations"] == .integer(1) && config["solver"] == .string("cg")
        )
        #expect(
            config["regularization"]?.doubleValue.map { abs($0 - 0.05) < 1e-7 } == true
                && config.count == ImplicitALS.Config.settings.count)
    }

    /// Directories written by RecKit 0.1's format version 1 (settings as `--set` text, itemknn's
    /// neighbour count under its old key `k`) load and recommend exactly what they did then.
    @Test(arguments: ["ials", "itemknn"])
    func versionOneDirectoriesStillLoadAndRecommendTheSame(name: String) throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
            .path
        let loaded = try TrainedModel.load(fixtures + "/v1-\(name)")
        #expect(loaded.kind == name)
        let expected = try String(contentsOfFile: fixtures + "/v1-\(name).expected.tsv", encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        let lists = try loaded.recommend(users: loaded.users.ids, k: 5)
        let rows = zip(loaded.users.ids, lists).flatMap { user, items in
            items.enumerated().map { [user, $1.item, String($0 + 1)] }
        }
        #expect(rows == expected)
        if name == "itemknn" { #expect((loaded.model as? ItemKNN)?.config.neighbourCount == 5) }
    }

    @Test func corruptTruncatedAndMismatchedFilesAreRejected() throws {
        let folder = TemporaryDirectory()
        let path = folder.path + "/m"
        try saved("ials", settings: ["factors": "4", "iterations": "1"]).save(to: path)
        let weights = path + "/weights.safetensors"
        let manifest = path + "/manifest.json"
        let ids = path + "/ids.json"
        let goodWeights = try Data(contentsOf: URL(fileURLWithPath: weights))
        let goodManifest = try String(contentsOfFile: manifest, encoding: .utf8)
        func expectFailure(_ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                _ = try ModelStore.load(path)
                Issue.record("expected a ModelStoreError mentioning \(fragment)", sourceLocation: sourceLocation)
            } catch {
                #expect(error.description.contains(fragment), "\(error)", sourceLocation: sourceLocation)
                // Only the checksum case may blame the checksum (a truncated file must be caught by the reader).
                #expect(
                    fragment == "checksum" || !error.description.contains("checksum"), "\(error)",
                    sourceLocation: sourceLocation)
            }
        }
        // A flipped byte: the checksum catches it.
        var corrupt = goodWeights
        corrupt[corrupt.count - 3] ^= 0xFF
        try corrupt.write(to: URL(fileURLWithPath: weights))
        expectFailure("checksum")
        // Truncated, with the manifest updated to match: the safetensors reader catches it.
        let truncated = goodWeights.prefix(goodWeights.count / 2)
        try truncated.write(to: URL(fileURLWithPath: weights))
        try AtomicFile.write(
            goodManifest.replacingOccurrences(of: Fingerprint.hex(goodWeights), with: Fingerprint.hex(truncated)),
            to: manifest)
        expectFailure("weights.safetensors")
        try goodWeights.write(to: URL(fileURLWithPath: weights))
        // Another format version.
        try AtomicFile.write(
            goodManifest.replacingOccurrences(of: "\"formatVersion\" : 2", with: "\"formatVersion\" : 99"), to: manifest
        )
        expectFailure("format version 99")
        // A manifest whose counts disagree with the ID file.
        try AtomicFile.write(
            goodManifest.replacingOccurrences(of: "\"userCount\" : 300", with: "\"userCount\" : 301"), to: manifest)
        expectFailure("users")
        try AtomicFile.write(goodManifest, to: manifest)
        // A missing file.
        try FileManager.default.removeItem(atPath: ids)
        expectFailure("ids.json is missing")
        #expect(throws: ModelStoreError.self) { try ModelStore.load(folder.path + "/nothing-here") }
    }

    @Test func safetensorsRoundTripAndRejectBadHeaders() throws {
        let tensor = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let data = SafeTensors.encode(
            ["a": .float32(tensor), "b": .int32([7, 8], shape: [2]), "c": .int64([9], shape: [1])], metadata: ["x": "y"]
        )
        let decoded = try SafeTensors.decode(data)
        #expect(decoded.entries["a"] == .float32(tensor) && decoded.entries["b"] == .int32([7, 8], shape: [2]))
        #expect(decoded.entries["c"] == .int64([9], shape: [1]) && decoded.metadata == ["x": "y"])
        #expect(throws: SafeTensorsError.self) { try SafeTensors.decode(Data([1, 2, 3])) }
        #expect(throws: SafeTensorsError.self) { try SafeTensors.decode(data.prefix(data.count - 4)) }
        // The header length is little-endian and padded to 8 bytes.
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(length % 8 == 0 && length + 8 + 6 * 4 + 2 * 4 + 8 == data.count)
    }

    /// A header whose shape would overflow the element count (or exceed the data) is an error, not a crash.
    @Test func hugeShapesAreRejectedBeforeAllocating() throws {
        func file(shape: String) -> Data {
            var header = Data("{\"w\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[0,8]}}".utf8)
            while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
            var data = Data((0..<8).map { UInt8((header.count >> (8 * $0)) & 0xFF) })
            data.append(header)
            data.append(Data(count: 8))
            return data
        }
        #expect(try SafeTensors.decode(file(shape: "[2]")).entries["w"] == .float32(Tensor.zeros([2])))
        for shape in ["[4294967296,4294967296,4]", "[9223372036854775807,2]", "[1000000000]"] {
            #expect(throws: SafeTensorsError.self) { try SafeTensors.decode(file(shape: shape)) }
        }
    }

    /// Read back with Python's own `safetensors` package when it is installed.
    @Test(.enabled(if: PythonSafetensors.available, "python3 with the safetensors package is not installed"))
    func pythonReadsOurFiles() throws {
        let folder = TemporaryDirectory()
        let path = folder.path + "/t.safetensors"
        try SafeTensors.encode(["w": .float32(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4.5]))]).write(
            to: URL(fileURLWithPath: path))
        let output = try PythonSafetensors.run(
            "from safetensors.numpy import load_file; w = load_file('\(path)')['w']; print(w.shape, float(w.sum()))")
        #expect(output.contains("(2, 2) 10.5"))
    }
}
