import Foundation
import Testing
import _RecKitTestSupport
@testable import RecKit

@Suite struct ModelStoreTests {
    static let data = SyntheticData.generate(preset: .tiny, seed: 61)
    static let train = data.ratings.interactions

    func saved(_ kind: ModelKind, settings: [String: String] = [:]) throws -> SavedModel {
        let model = try kind.fit(Self.train, settings: settings)
        return SavedModel(
            kind: kind, settings: settings, model: model, users: Self.data.ratings.users, items: Self.data.ratings.items,
            seen: InteractionMatrix.byUser(Self.train), itemTitles: Self.data.ratings.itemCatalog?.titles, fingerprint: Self.train.fingerprint())
    }

    static let kinds: [(ModelKind, [String: String])] = [
        (.popularity, [:]), (.random, ["seed": "3"]), (.itemknn, [:]), (.ials, ["factors": "8", "iterations": "3"]),
        (.bpr, ["factors": "8", "epochs": "3"]), (.ease, ["regularization": "50"]), (.svd, ["factors": "8", "epochs": "3"]),
        (.svdpp, ["factors": "4", "epochs": "2"]), (.userknn, ["k": "5"]), (.lmf, ["factors": "4", "iterations": "2"]),
        (.svd, ["factors": "4", "epochs": "2", "temporal": "true", "time_bins": "7"]), (.svd, ["factors": "4", "epochs": "2", "solver": "als"]),
        (.ncf, ["factors": "4", "layers": "8,4", "epochs": "1"]), (.ncf, ["variant": "gmf", "factors": "4", "epochs": "1"]),
        (.multvae, ["hidden": "16", "latent": "4", "epochs": "1"]),
    ]

    @Test(arguments: kinds)
    func roundTripGivesIdenticalRecommendations(kind: ModelKind, settings: [String: String]) throws {
        let folder = TemporaryDirectory()
        let original = try saved(kind, settings: settings)
        try ModelStore.save(original, to: folder.path + "/m")
        let loaded = try ModelStore.load(folder.path + "/m")
        #expect(loaded.kind == kind && loaded.settings == settings && loaded.users == original.users && loaded.items == original.items)
        #expect(loaded.seen == original.seen && loaded.fingerprint == original.fingerprint)
        let users: [Int32] = [0, 5, 17, 299]
        #expect(loaded.model.scores(forUsers: users) == original.model.scores(forUsers: users))
        for user in users {
            #expect(loaded.model.recommend(user: user, k: 10, excludingSeen: loaded.seen) == original.model.recommend(user: user, k: 10, excludingSeen: original.seen))
        }
        if let a = loaded.model as? any RatingPredictor, let b = original.model as? any RatingPredictor, let times = Self.train.timestamps {
            for row in [0, 10, 100] {
                let (user, item, time) = (Self.train.users[row], Self.train.items[row], times[row])
                #expect(a.predict(user: user, item: item, time: time) == b.predict(user: user, item: item, time: time))
            }
        }
        // Saving again over it replaces it in place.
        try ModelStore.save(original, to: folder.path + "/m")
        #expect(try ModelStore.load(folder.path + "/m").kind == kind)
    }

    @Test func corruptTruncatedAndMismatchedFilesAreRejected() throws {
        let folder = TemporaryDirectory()
        let path = folder.path + "/m"
        try ModelStore.save(try saved(.ials, settings: ["factors": "4", "iterations": "1"]), to: path)
        let weights = path + "/weights.safetensors", manifest = path + "/manifest.json", ids = path + "/ids.json"
        let goodWeights = try Data(contentsOf: URL(fileURLWithPath: weights))
        let goodManifest = try String(contentsOfFile: manifest, encoding: .utf8)
        func expectFailure(_ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                _ = try ModelStore.load(path)
                Issue.record("expected a ModelStoreError mentioning \(fragment)", sourceLocation: sourceLocation)
            } catch {
                #expect(error.description.contains(fragment), "\(error)", sourceLocation: sourceLocation)
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
        try AtomicFile.write(goodManifest.replacingOccurrences(of: SHA256.hex(goodWeights), with: SHA256.hex(truncated)), to: manifest)
        expectFailure("weights.safetensors")
        try goodWeights.write(to: URL(fileURLWithPath: weights))
        // Another format version.
        try AtomicFile.write(goodManifest.replacingOccurrences(of: "\"formatVersion\" : 1", with: "\"formatVersion\" : 99"), to: manifest)
        expectFailure("format version 99")
        // A manifest whose counts disagree with the ID file.
        try AtomicFile.write(goodManifest.replacingOccurrences(of: "\"userCount\" : 300", with: "\"userCount\" : 301"), to: manifest)
        expectFailure("users")
        try AtomicFile.write(goodManifest, to: manifest)
        // A missing file.
        try FileManager.default.removeItem(atPath: ids)
        expectFailure("ids.json is missing")
        #expect(throws: ModelStoreError.self) { try ModelStore.load(folder.path + "/nothing-here") }
    }

    @Test func safetensorsRoundTripAndRejectBadHeaders() throws {
        let tensor = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let data = SafeTensors.encode(["a": .float32(tensor), "b": .int32([7, 8], shape: [2]), "c": .int64([9], shape: [1])], metadata: ["x": "y"])
        let decoded = try SafeTensors.decode(data)
        #expect(decoded.entries["a"] == .float32(tensor) && decoded.entries["b"] == .int32([7, 8], shape: [2]))
        #expect(decoded.entries["c"] == .int64([9], shape: [1]) && decoded.metadata == ["x": "y"])
        #expect(throws: SafeTensorsError.self) { try SafeTensors.decode(Data([1, 2, 3])) }
        #expect(throws: SafeTensorsError.self) { try SafeTensors.decode(data.prefix(data.count - 4)) }
        // The header length is little-endian and padded to 8 bytes.
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(length % 8 == 0 && length + 8 + 6 * 4 + 2 * 4 + 8 == data.count)
    }

    /// Read back with Python's own `safetensors` package when it is installed.
    @Test(.enabled(if: PythonSafetensors.available, "python3 with the safetensors package is not installed"))
    func pythonReadsOurFiles() throws {
        let folder = TemporaryDirectory()
        let path = folder.path + "/t.safetensors"
        try SafeTensors.encode(["w": .float32(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4.5]))]).write(to: URL(fileURLWithPath: path))
        let output = try PythonSafetensors.run("from safetensors.numpy import load_file; w = load_file('\(path)')['w']; print(w.shape, float(w.sum()))")
        #expect(output.contains("(2, 2) 10.5"))
    }
}
