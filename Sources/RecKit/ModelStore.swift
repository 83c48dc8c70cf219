import Foundation

/// A bad or unreadable model directory.
public struct ModelStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}

/// Model directories: `manifest.json` (format version, model kind, its complete configuration as
/// typed JSON, training fingerprint, file checksums and, for imported models, `importedFrom`),
/// `weights.safetensors`, `ids.json` and any JSON documents the model keeps (`features.json`). Written to
/// a temporary folder and renamed, so a crash never leaves half a model; read back with checks of
/// the version, checksums and shapes. Version 1 directories (settings as `--set` text) still load.
public enum ModelStore {
    public static let formatVersion = 2
    static let manifestFile = "manifest.json", weightsFile = "weights.safetensors", idsFile = "ids.json"

    struct Manifest: Codable {
        var format = "reckit-model"
        var formatVersion: Int
        var kind: String
        /// Version 2: the decoded configuration, every key present.
        var config: [String: JSONValue]?
        /// Version 1: the `--set` text the model was trained with.
        var settings: [String: String]?
        var reckitVersion: String
        var trainingFingerprint: String
        var userCount: Int
        var itemCount: Int
        var trainInteractionCount: Int
        /// SHA-256 of each other file.
        var files: [String: String]
        /// For imported models: where they came from (see `TrainedModel.provenance`).
        var importedFrom: [String: JSONValue]?
        /// How the same settings scored on a split of the training data (`reckit train --evaluate`).
        var evaluation: [String: JSONValue]?
    }

    struct IDs: Codable {
        var users: [String]
        var items: [String]
        var itemTitles: [String?]?
    }

    /// Saves `trained` as a model directory at `path`, replacing one that is there.
    public static func save(_ trained: TrainedModel, to path: String) throws(ModelStoreError) {
        var weights = trained.model.weights
        weights.store(trained.seen, as: "seen")
        let weightData = SafeTensors.encode(weights.entries, metadata: ["format": "reckit", "kind": trained.kind])
        for name in weights.documents.keys where !isDocumentName(name) {
            throw ModelStoreError(
                path: path, "\(trained.kind) keeps a document named '\(name)', not a plain .json name")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard
            let idData = try? encoder.encode(
                IDs(users: trained.users.ids, items: trained.items.ids, itemTitles: trained.itemTitles))
        else {
            throw ModelStoreError(path: path, "cannot encode the ID maps")
        }
        let manifest = Manifest(
            formatVersion: formatVersion, kind: trained.kind, config: trained.model.configObject,
            reckitVersion: RecKitVersion.current,
            trainingFingerprint: trained.fingerprint, userCount: trained.users.count, itemCount: trained.items.count,
            trainInteractionCount: trained.seen.nonzeroCount,
            files: [weightsFile: Fingerprint.hex(weightData), idsFile: Fingerprint.hex(idData)].merging(
                weights.documents.mapValues { Fingerprint.hex($0) }
            ) { own, _ in own },
            importedFrom: trained.provenance, evaluation: trained.evaluation)
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        guard let manifestData = try? encoder.encode(manifest) else {
            throw ModelStoreError(path: path, "cannot encode the manifest")
        }
        let manager = FileManager.default
        // A name of its own per save (not per process), and one save of a path at a time in this
        // process: two saves of the same model directory never write into each other's folder.
        let unique = "\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)"
        let temporary = path + ".partial-" + unique
        let lock = SaveLocks.shared.lock(for: URL(fileURLWithPath: path).standardizedFileURL.path)
        lock.lock()
        defer { lock.unlock() }
        do {
            try? manager.removeItem(atPath: temporary)
            try manager.createDirectory(atPath: temporary, withIntermediateDirectories: true)
            try weightData.write(to: URL(fileURLWithPath: temporary + "/" + weightsFile))
            try idData.write(to: URL(fileURLWithPath: temporary + "/" + idsFile))
            for (name, data) in weights.documents {
                try data.write(to: URL(fileURLWithPath: temporary + "/" + name))
            }
            try manifestData.write(to: URL(fileURLWithPath: temporary + "/" + manifestFile))
            if manager.fileExists(atPath: path) {
                let old = path + ".old-" + unique
                try manager.moveItem(atPath: path, toPath: old)
                try manager.moveItem(atPath: temporary, toPath: path)
                try? manager.removeItem(atPath: old)
            } else {
                try manager.moveItem(atPath: temporary, toPath: path)
            }
        } catch {
            try? manager.removeItem(atPath: temporary)
            throw ModelStoreError(path: path, "cannot write the model: \(error.localizedDescription)")
        }
    }

    /// A JSON document's file name: a plain `.json` name inside the directory, not one of the
    /// directory's own files.
    static func isDocumentName(_ name: String) -> Bool {
        name.hasSuffix(".json") && !name.contains("/") && !name.hasPrefix(".")
            && ![manifestFile, idsFile].contains(name)
    }

    /// Loads a model directory.
    /// - Throws: `ModelStoreError` for a missing or corrupt file, a checksum mismatch, another format
    ///   version, an unknown model kind, or weights that do not fit the ID maps.
    public static func load(_ path: String) throws(ModelStoreError) -> TrainedModel {
        func read(_ name: String) throws(ModelStoreError) -> Data {
            guard let data = FileManager.default.contents(atPath: path + "/" + name) else {
                throw ModelStoreError(
                    path: path, "\(name) is missing or unreadable (is this a model directory from `reckit train`?)")
            }
            return data
        }
        let decoder = JSONDecoder()
        guard let manifest = try? decoder.decode(Manifest.self, from: try read(manifestFile)),
            manifest.format == "reckit-model"
        else {
            throw ModelStoreError(path: path, "\(manifestFile) is not a RecKit model manifest")
        }
        guard (1...formatVersion).contains(manifest.formatVersion) else {
            throw ModelStoreError(
                path: path, "format version \(manifest.formatVersion); this RecKit reads versions 1 to \(formatVersion)"
            )
        }
        let type: any TrainableRecommender.Type
        do { type = try ModelRegistry.model(named: manifest.kind) } catch {
            throw ModelStoreError(
                path: path,
                "unknown model kind '\(manifest.kind)' "
                    + "(this RecKit knows \(ModelRegistry.names.joined(separator: ", ")))"
            )
        }
        let weightData = try read(weightsFile)
        let idData = try read(idsFile)
        for (name, data) in [(weightsFile, weightData), (idsFile, idData)] {
            guard manifest.files[name] == Fingerprint.hex(data) else {
                throw ModelStoreError(
                    path: path,
                    "\(name) does not match its checksum in \(manifestFile): the file is corrupt or was changed")
            }
        }
        guard let ids = try? decoder.decode(IDs.self, from: idData) else {
            throw ModelStoreError(path: path, "\(idsFile) is malformed")
        }
        let users: IDMap
        let items: IDMap
        do {
            users = try IDMap(ids: ids.users)
            items = try IDMap(ids: ids.items)
        } catch {
            throw ModelStoreError(path: path, "\(idsFile): \(error.description)")
        }
        guard users.count == manifest.userCount, items.count == manifest.itemCount,
            ids.itemTitles.map({ $0.count == items.count }) ?? true
        else {
            throw ModelStoreError(
                path: path,
                "\(idsFile) has \(users.count) users and \(items.count) items; "
                    + "the manifest says \(manifest.userCount) and \(manifest.itemCount)"
            )
        }
        let config: [String: JSONValue]
        do {
            if manifest.formatVersion == 1 {
                // Version 1 kept the `--set` text: read it as the command line would (old key names are aliases).
                config = try type.configObject((manifest.settings ?? [:]).filter { $0.key != "threads" })
            } else {
                guard let stored = manifest.config else {
                    throw ModelStoreError(path: path, "\(manifestFile) has no config")
                }
                config = stored
            }
        } catch let error as ModelStoreError {
            throw error
        } catch {
            throw ModelStoreError(path: path, "\(manifestFile): \(error)")
        }
        var weights: ModelWeights
        do {
            weights = ModelWeights(try SafeTensors.decode(weightData).entries)
        } catch {
            throw ModelStoreError(path: path, "\(weightsFile): \(error.description)")
        }
        for (name, checksum) in manifest.files.sorted(by: { $0.key < $1.key })
        where name != weightsFile && name != idsFile {
            guard Self.isDocumentName(name) else {
                throw ModelStoreError(path: path, "\(manifestFile) lists a file '\(name)' outside the model directory")
            }
            let data = try read(name)
            guard Fingerprint.hex(data) == checksum else {
                throw ModelStoreError(
                    path: path,
                    "\(name) does not match its checksum in \(manifestFile): the file is corrupt or was changed")
            }
            weights.documents[name] = data
        }
        do {
            let seen = try weights.matrix("seen", rows: users.count, columns: items.count)
            let model = try type.restore(
                config: config, weights: weights, userCount: users.count, itemCount: items.count)
            var trained = TrainedModel(
                model: model, users: users, items: items, seen: seen, itemTitles: ids.itemTitles,
                fingerprint: manifest.trainingFingerprint, provenance: manifest.importedFrom)
            trained.evaluation = manifest.evaluation
            return trained
        } catch {
            throw ModelStoreError(path: path, "\(weightsFile): \(error)")
        }
    }
}

/// One lock per model-directory path, so that saves of the same path in one process take turns.
final class SaveLocks: @unchecked Sendable { // the dictionary is guarded by `guardLock`
    static let shared = SaveLocks()
    private let guardLock = NSLock()
    private var locks: [String: NSLock] = [:]

    func lock(for path: String) -> NSLock {
        guardLock.withLock {
            if let existing = locks[path] { return existing }
            let created = NSLock()
            locks[path] = created
            return created
        }
    }
}
