import Foundation
import RecKit

/// A model the server answers with: the trained model, where it came from and when it was loaded.
public struct ServedModel: Sendable {
    public let trained: TrainedModel
    /// The model directory it was read from.
    public let path: String
    /// The version's name: the model directory's folder name.
    public let version: String
    public let loadedAt: Date
    /// Counts loads in this process: requests scored together must use the same model.
    public var generation = 0
    /// What `GET /v1/models` says of it.
    public var description: [String: JSONValue] {
        var object: [String: JSONValue] = [
            "version": .string(version),
            "kind": .string(trained.kind),
            "config": .object(trained.model.configObject),
            "training_fingerprint": .string(trained.fingerprint),
            "users": .integer(Int64(trained.users.count)),
            "items": .integer(Int64(trained.items.count)),
            "interactions": .integer(Int64(trained.seen.columnIndices.count)),
            "loaded_at": .string(ISO8601DateFormatter().string(from: loadedAt)),
        ]
        if let provenance = trained.provenance { object["imported_from"] = .object(provenance) }
        if let evaluation = trained.evaluation { object["evaluation"] = .object(evaluation) }
        return object
    }
}

/// Where the served model lives and how a reload finds the next one: one model directory (a
/// retrain replaces it in place, `ModelStore` writes atomically), or a folder of version
/// directories of which the greatest name is the newest (`models/2026-12-03T10-00`, ...).
public enum ModelSource: Sendable, Equatable {
    case directory(String)
    case versions(String)

    /// The model directory to load now.
    /// - Throws: `ModelStoreError` when a versions folder holds no model directory.
    public func current() throws(ModelStoreError) -> String {
        switch self {
        case .directory(let path): return path
        case .versions(let folder):
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            let candidates = names.filter { name in
                !name.hasPrefix(".")
                    && FileManager.default.fileExists(atPath: folder + "/" + name + "/manifest.json")
            }.sorted()
            guard let newest = candidates.last else {
                throw ModelStoreError(path: folder, "holds no model directory (a folder with manifest.json)")
            }
            return folder + "/" + newest
        }
    }
}

/// The model requests are answered with, swapped atomically on reload: a request takes the model
/// once and finishes with it even when a reload lands meanwhile; a model directory that does not
/// load is refused and the old model keeps serving.
public final class ModelSlot: @unchecked Sendable { // `served` is guarded by `lock`
    private let lock = NSLock()
    private var served: ServedModel
    private var loads = 0
    public let source: ModelSource

    /// Loads the source's current model.
    /// - Throws: `ModelStoreError` for a directory that is not a readable model.
    public init(source: ModelSource) throws(ModelStoreError) {
        self.source = source
        served = try Self.load(source.current())
    }

    public init(model: TrainedModel, path: String = "memory") {
        source = .directory(path)
        served = ServedModel(
            trained: model, path: path, version: URL(fileURLWithPath: path).lastPathComponent, loadedAt: Date())
    }

    /// The model to answer the next request with.
    public var current: ServedModel { lock.withLock { served } }

    /// Loads the source's current model directory and swaps it in.
    /// - Throws: `ModelStoreError` (the old model stays) when it does not load.
    @discardableResult
    public func reload() throws(ModelStoreError) -> ServedModel {
        var next = try Self.load(source.current())
        lock.withLock {
            loads += 1
            next.generation = loads
            served = next
        }
        return next
    }

    /// Serves `trained`, already saved at `path`, from the next request on.
    @discardableResult
    func install(_ trained: TrainedModel, path: String) -> ServedModel {
        var next = ServedModel(
            trained: trained, path: path, version: URL(fileURLWithPath: path).lastPathComponent, loadedAt: Date())
        lock.withLock {
            loads += 1
            next.generation = loads
            served = next
        }
        return next
    }

    static func load(_ path: String) throws(ModelStoreError) -> ServedModel {
        let trained = try TrainedModel.load(path)
        return ServedModel(
            trained: trained, path: path, version: URL(fileURLWithPath: path).lastPathComponent, loadedAt: Date())
    }
}

/// Items added through the API, one addition at a time: the served model with the new items is
/// saved as a new version (beside the others in a versions folder, named after the served one with
/// `+items-` and the time; in place for a single model directory) and then served.
final class ItemAdditions: Sendable {
    private let lock = NSLock()

    func add(ids: [String], catalog: ItemCatalog, to slot: ModelSlot) throws -> ServedModel {
        try lock.withLock {
            let served = slot.current
            let added: TrainedModel
            do { added = try served.trained.addingItems(ids: ids, catalog: catalog) } catch {
                throw APIError(.conflict, "cannot_add_items", "\(error)")
            }
            let path = Self.versionPath(after: served, in: slot.source)
            do { try added.save(to: path) } catch {
                throw APIError(.internalServerError, "save_failed", "the new version could not be saved: \(error)")
            }
            return slot.install(added, path: path)
        }
    }

    /// Where the version with added items goes: in a versions folder, `<served>+items-<UTC time>`
    /// (after the served version in name order, and after earlier additions to it).
    static func versionPath(after served: ServedModel, in source: ModelSource) -> String {
        guard case .versions(let folder) = source else { return served.path }
        let base = served.version.components(separatedBy: "+items-")[0]
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss.SSS"
        let stamp = formatter.string(from: Date())
        var path = "\(folder)/\(base)+items-\(stamp)"
        var repeated = 1
        while FileManager.default.fileExists(atPath: path) {
            repeated += 1
            path = "\(folder)/\(base)+items-\(stamp)-\(repeated)"
        }
        return path
    }
}
