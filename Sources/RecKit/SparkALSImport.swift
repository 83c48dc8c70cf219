import Foundation

/// Builds a RecKit model directory from the factors Spark MLlib's ALS wrote (`spark/train_als.py`):
/// an `ials` model with Spark's settings (Cholesky solves, λ scaled by each row's interaction count as
/// Spark does), so `recommend`, `similar`, `evaluate --saved` and fold-in treat it as their own.
///
/// The job's output folder holds `user_factors/` and `item_factors/` (CSV parts: `id,f0,…`) and
/// `metadata/` (a text part holding one JSON line: settings, Spark version, the export's fingerprint).
/// The training interactions come from the export the job read (`reckit data export`): they are the seen items
/// that recommendations exclude, and their fingerprint must match the one the job recorded.
public enum SparkALSImport {
    /// What the job recorded (`metadata/part-*`).
    public struct Metadata: Codable, Sendable, Equatable {
        public var tool: String
        public var sparkVersion: String
        public var implicitPrefs: Bool
        public var factors: Int
        public var regularization: Double
        public var alpha: Double
        public var iterations: Int
        public var seed: Int64
        public var input: String?
        public var exportFingerprint: String?
        public var fitSeconds: Double?
        public var master: String?

        enum CodingKeys: String, CodingKey {
            case tool, sparkVersion = "spark_version", implicitPrefs = "implicit_prefs", factors, regularization
            case alpha, iterations, seed, input, exportFingerprint = "export_fingerprint", fitSeconds = "fit_seconds"
            case master
        }
    }

    /// Errors that name the file and what is wrong with it.
    public struct ImportError: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ path: String, _ message: String) { description = "\(path): \(message)" }
    }

    /// Reads `folder/metadata`.
    public static func metadata(in folder: String) throws -> Metadata {
        let metadataFolder = folder + "/metadata"
        let names =
            ((try? FileManager.default.contentsOfDirectory(atPath: metadataFolder)) ?? [])
            .filter { $0.hasPrefix("part-") && !$0.hasSuffix(".crc") }.sorted()
        for name in names {
            let path = metadataFolder + "/" + name
            guard let text = FileManager.default.contents(atPath: path) else { continue }
            guard let line = text.split(separator: 0x0A).first(where: { !$0.isEmpty }) else { continue }
            do { return try JSONDecoder().decode(Metadata.self, from: Data(line)) } catch {
                throw ImportError(path, "not the metadata spark/train_als.py writes (\(error))")
            }
        }
        throw ImportError(
            metadataFolder, "no metadata (part-* files): is this an output folder of spark/train_als.py?")
    }

    /// The model `folder`'s factors make, with `data` (the exported training interactions) as its
    /// seen items. Users and items keep `data`'s indices.
    /// - Throws: `ImportError` for explicit-feedback factors, a width or fingerprint that does not
    ///   match, or IDs missing on either side; `DataError` for a bad factor file.
    public static func model(factors folder: String, data: Dataset) throws -> TrainedModel {
        let metadata = try metadata(in: folder)
        guard metadata.implicitPrefs else {
            throw ImportError(
                folder, "the factors come from explicit ALS (implicitPrefs=false); RecKit imports implicit ALS only")
        }
        let fingerprint = data.interactions.fingerprint()
        if let recorded = metadata.exportFingerprint, recorded != fingerprint {
            throw ImportError(
                folder,
                "the factors were trained on data with fingerprint \(recorded.prefix(16))…, but the data given has "
                    + "\(fingerprint.prefix(16))…: pass the export the job read")
        }
        let users = try FactorTable.read(folder: folder + "/user_factors")
        let items = try FactorTable.read(folder: folder + "/item_factors")
        let userVectors = try aligned(users, to: data.users, width: metadata.factors, path: folder + "/user_factors")
        let itemVectors = try aligned(items, to: data.items, width: metadata.factors, path: folder + "/item_factors")

        var config = ImplicitALS.Config()
        config.factorCount = metadata.factors
        config.regularization = Float(metadata.regularization)
        config.alpha = Float(metadata.alpha)
        config.iterationCount = metadata.iterations
        config.solver = .cholesky
        config.regularizationScaling = .count
        config.seed = UInt64(bitPattern: metadata.seed)
        try ImplicitALS.check(config)
        let model = ImplicitALS(
            config: config,
            factors: FactorModel(
                name: ImplicitALS.name, users: userVectors, items: itemVectors, width: metadata.factors)
        )
        var files: [String: JSONValue] = [:]
        for (name, hash) in users.files { files["user_factors/" + name] = .string(hash) }
        for (name, hash) in items.files { files["item_factors/" + name] = .string(hash) }
        var provenance: [String: JSONValue] = [
            "tool": .string(metadata.tool), "spark_version": .string(metadata.sparkVersion),
            "factors_folder": .string(folder), "files": .object(files),
            "settings": .object([
                "factors": .integer(Int64(metadata.factors)), "regularization": .number(metadata.regularization),
                "alpha": .number(metadata.alpha), "iterations": .integer(Int64(metadata.iterations)),
                "seed": .integer(metadata.seed), "implicit_prefs": .bool(true),
            ]),
        ]
        if let input = metadata.input { provenance["input"] = .string(input) }
        if let master = metadata.master { provenance["master"] = .string(master) }
        if let seconds = metadata.fitSeconds { provenance["fit_seconds"] = .number(seconds) }
        return TrainedModel(
            model: model, users: data.users, items: data.items, seen: InteractionMatrix.byUser(data.interactions),
            itemTitles: data.itemCatalog?.titles, fingerprint: fingerprint, provenance: provenance)
    }

    /// The table's vectors in the order of `ids`; every ID must have exactly one vector.
    static func aligned(_ table: FactorTable, to ids: IDMap, width: Int, path: String) throws -> [Float] {
        guard table.width == width else {
            throw ImportError(path, "\(table.width) factors per row; the metadata says \(width)")
        }
        var vectors = [Float](repeating: 0, count: ids.count * width)
        var found = [Bool](repeating: false, count: ids.count)
        for (row, id) in table.ids.enumerated() {
            guard let index = ids.index(of: id) else {
                throw ImportError(path, "ID '\(id)' is not in the data given (were the factors trained on it?)")
            }
            found[Int(index)] = true
            let start = Int(index) * width
            vectors.replaceSubrange(start..<(start + width), with: table.vector(row))
        }
        if let missing = found.firstIndex(of: false) {
            throw ImportError(path, "no factors for ID '\(ids.id(at: Int32(missing)))', which the data has")
        }
        return vectors
    }
}
