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

/// A trained model with what serving it needs: the ID maps, the training interactions (to exclude
/// seen items) and, when the data had them, item titles.
public struct SavedModel: Sendable {
    public var kind: ModelKind
    public var settings: [String: String]
    public var model: any Recommender
    public var users: IDMap
    public var items: IDMap
    /// User × item training matrix.
    public var seen: InteractionMatrix
    /// Titles aligned with `items`, when known.
    public var itemTitles: [String?]?
    /// The training data's fingerprint.
    public var fingerprint: String

    public init(
        kind: ModelKind, settings: [String: String], model: any Recommender, users: IDMap, items: IDMap, seen: InteractionMatrix,
        itemTitles: [String?]? = nil, fingerprint: String
    ) {
        self.kind = kind
        self.settings = settings
        self.model = model
        self.users = users
        self.items = items
        self.seen = seen
        self.itemTitles = itemTitles
        self.fingerprint = fingerprint
    }
}

/// Model directories: `manifest.json` (format version, kind, settings, training fingerprint, file
/// checksums), `weights.safetensors` and `ids.json`. Written to a temporary folder and renamed, so
/// a crash never leaves half a model; read back with checks of the version, checksums and shapes.
public enum ModelStore {
    public static let formatVersion = 1
    static let manifestFile = "manifest.json", weightsFile = "weights.safetensors", idsFile = "ids.json"

    struct Manifest: Codable {
        var format = "reckit-model"
        var formatVersion: Int
        var kind: String
        var settings: [String: String]
        var reckitVersion: String
        var trainingFingerprint: String
        var userCount: Int
        var itemCount: Int
        var trainInteractionCount: Int
        /// SHA-256 of each other file.
        var files: [String: String]
    }

    struct IDs: Codable {
        var users: [String]
        var items: [String]
        var itemTitles: [String?]?
    }

    /// Saves `saved` as a model directory at `path`, replacing one that is there.
    public static func save(_ saved: SavedModel, to path: String) throws(ModelStoreError) {
        var weights = saved.kind.weights(of: saved.model)
        weights.store(saved.seen, as: "seen")
        let weightData = SafeTensors.encode(weights.entries, metadata: ["format": "reckit", "kind": saved.kind.rawValue])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let idData = try? encoder.encode(IDs(users: saved.users.ids, items: saved.items.ids, itemTitles: saved.itemTitles)) else {
            throw ModelStoreError(path: path, "cannot encode the ID maps")
        }
        let manifest = Manifest(
            formatVersion: formatVersion, kind: saved.kind.rawValue, settings: saved.settings, reckitVersion: RecKitVersion.current,
            trainingFingerprint: saved.fingerprint, userCount: saved.users.count, itemCount: saved.items.count,
            trainInteractionCount: saved.seen.nonzeroCount,
            files: [weightsFile: SHA256.hex(weightData), idsFile: SHA256.hex(idData)])
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        guard let manifestData = try? encoder.encode(manifest) else { throw ModelStoreError(path: path, "cannot encode the manifest") }
        let manager = FileManager.default
        let temporary = path + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        do {
            try? manager.removeItem(atPath: temporary)
            try manager.createDirectory(atPath: temporary, withIntermediateDirectories: true)
            try weightData.write(to: URL(fileURLWithPath: temporary + "/" + weightsFile))
            try idData.write(to: URL(fileURLWithPath: temporary + "/" + idsFile))
            try manifestData.write(to: URL(fileURLWithPath: temporary + "/" + manifestFile))
            if manager.fileExists(atPath: path) {
                let old = path + ".old-\(ProcessInfo.processInfo.processIdentifier)"
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

    /// Loads a model directory.
    /// - Throws: `ModelStoreError` for a missing or corrupt file, a checksum mismatch, another format
    ///   version, or weights that do not fit the ID maps.
    public static func load(_ path: String) throws(ModelStoreError) -> SavedModel {
        func read(_ name: String) throws(ModelStoreError) -> Data {
            guard let data = FileManager.default.contents(atPath: path + "/" + name) else {
                throw ModelStoreError(path: path, "\(name) is missing or unreadable (is this a model directory from `reckit train`?)")
            }
            return data
        }
        let decoder = JSONDecoder()
        guard let manifest = try? decoder.decode(Manifest.self, from: try read(manifestFile)), manifest.format == "reckit-model" else {
            throw ModelStoreError(path: path, "\(manifestFile) is not a RecKit model manifest")
        }
        guard manifest.formatVersion == formatVersion else {
            throw ModelStoreError(path: path, "format version \(manifest.formatVersion); this RecKit reads version \(formatVersion)")
        }
        guard let kind = ModelKind(rawValue: manifest.kind) else { throw ModelStoreError(path: path, "unknown model kind '\(manifest.kind)'") }
        let weightData = try read(weightsFile), idData = try read(idsFile)
        for (name, data) in [(weightsFile, weightData), (idsFile, idData)] {
            guard manifest.files[name] == SHA256.hex(data) else {
                throw ModelStoreError(path: path, "\(name) does not match its checksum in \(manifestFile): the file is corrupt or was changed")
            }
        }
        guard let ids = try? decoder.decode(IDs.self, from: idData) else { throw ModelStoreError(path: path, "\(idsFile) is malformed") }
        let users: IDMap, items: IDMap
        do {
            users = try IDMap(ids: ids.users)
            items = try IDMap(ids: ids.items)
        } catch {
            throw ModelStoreError(path: path, "\(idsFile): \(error.description)")
        }
        guard users.count == manifest.userCount, items.count == manifest.itemCount, ids.itemTitles.map({ $0.count == items.count }) ?? true else {
            throw ModelStoreError(path: path, "\(idsFile) has \(users.count) users and \(items.count) items; the manifest says \(manifest.userCount) and \(manifest.itemCount)")
        }
        let weights: ModelWeights
        do {
            weights = ModelWeights(try SafeTensors.decode(weightData).entries)
        } catch {
            throw ModelStoreError(path: path, "\(weightsFile): \(error.description)")
        }
        do {
            let seen = try weights.matrix("seen", rows: users.count, columns: items.count)
            let model = try kind.restore(settings: manifest.settings, weights: weights, userCount: users.count, itemCount: items.count)
            return SavedModel(
                kind: kind, settings: manifest.settings, model: model, users: users, items: items, seen: seen, itemTitles: ids.itemTitles,
                fingerprint: manifest.trainingFingerprint)
        } catch {
            throw ModelStoreError(path: path, "\(weightsFile): \(error)")
        }
    }
}

extension SavedModel {
    /// `interactions` (indexed by `users` and `items`) re-indexed into this model's ID maps; rows
    /// whose user or item the model does not know are dropped and counted.
    public func reindex(_ interactions: Interactions, users: IDMap, items: IDMap) -> (interactions: Interactions, dropped: Int) {
        let userIndex = users.ids.map { self.users.index(of: $0) }, itemIndex = items.ids.map { self.items.index(of: $0) }
        var keptUsers: [Int32] = [], keptItems: [Int32] = [], keptRatings: [Float] = []
        for row in 0..<interactions.count {
            guard let user = userIndex[Int(interactions.users[row])], let item = itemIndex[Int(interactions.items[row])] else { continue }
            keptUsers.append(user)
            keptItems.append(item)
            if let ratings = interactions.ratings { keptRatings.append(ratings[row]) }
        }
        // Indices come from this model's own maps, so the columns are valid by construction.
        let result = try! Interactions(
            users: keptUsers, items: keptItems, ratings: interactions.ratings == nil ? nil : keptRatings,
            userCount: self.users.count, itemCount: self.items.count)
        return (result, interactions.count - result.count)
    }

    /// The model's training pairs as interactions (for seen-item exclusion in evaluation).
    public var seenInteractions: Interactions {
        var users: [Int32] = []
        users.reserveCapacity(seen.nonzeroCount)
        for row in 0..<seen.rowCount { users += [Int32](repeating: Int32(row), count: seen.count(inRow: row)) }
        return try! Interactions(users: users, items: seen.columnIndices, weights: seen.values, userCount: seen.rowCount, itemCount: seen.columnCount)
    }
}
