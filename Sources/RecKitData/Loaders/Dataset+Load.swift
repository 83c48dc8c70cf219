import Foundation

extension Dataset {
    /// Loads a data-set folder or an interaction file, detecting the format unless `format` is given.
    ///
    /// Folders: MovieLens 100K (`u.data`), MovieLens 1M/10M (`ratings.dat`), MovieLens CSV
    /// (`ratings.csv` with `movies.csv`), HetRec Last.fm (`user_artists.dat`), a `reckit data synth`
    /// folder (`dataset.json`), a `reckit data export` folder (`export.json`). Files: those names, a
    /// session click file (`SessionId` header), or any delimited file.
    /// `synthetic:PRESET[:SEED]` (`synthetic:ml-1m-like`, seed 42 by default) is no file: the
    /// preset's ratings and catalogue generated in memory, as `reckit data synth` would write them.
    /// - Throws: `DataError` for a missing path, an unknown folder or a bad file.
    public static func load(
        _ path: String, format: DatasetFormat? = nil, options: InteractionFileOptions = .init()
    ) throws(DataError) -> Dataset {
        if let (preset, seed) = try SyntheticData.location(path) {
            return SyntheticData.generate(preset: preset, seed: seed).ratings
        }
        let resolved: DatasetFormat
        if let format { resolved = format } else { resolved = try detectFormat(path) }
        switch resolved {
        case .movieLens100K:
            return try MovieLens.load100K(folder: folderOf(path, file: "u.data"), options: options)
        case .movieLensDat:
            return try MovieLens.loadDat(path, options: options)
        case .movieLensCSV:
            return try MovieLens.loadCSV(path, options: options)
        case .hetrecLastFM:
            return try HetRecLastFM.load(folder: folderOf(path, file: "user_artists.dat"), options: options)
        case .synthetic:
            return try SyntheticData.loadFolder(folderOf(path, file: SyntheticData.ratingsFile), options: options)
        case .sessions:
            let log = try SessionLog.load(path, options: options)
            return Dataset(
                name: (path as NSString).lastPathComponent, format: .sessions, interactions: log.clicks,
                users: log.sessionIDs, items: log.items, report: log.report)
        case .export:
            return try loadExport(folderOf(path, file: ExportManifest.fileName), options: options)
        case .delimited:
            let loaded = try InteractionFileLoader.load(path, options: options)
            return Dataset(
                name: (path as NSString).lastPathComponent, format: .delimited, interactions: loaded.interactions,
                users: loaded.users, items: loaded.items, report: loaded.report)
        }
    }

    /// The format of a folder or file, from its file names and first line.
    public static func detectFormat(_ path: String) throws(DataError) -> DatasetFormat {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(file: path, .fileNotFound)
        }
        if isDirectory.boolValue {
            let has = { (name: String) in manager.fileExists(atPath: join(path, name)) }
            if has(SyntheticData.manifestFile) && has(SyntheticData.ratingsFile) { return .synthetic }
            if has(ExportManifest.fileName) { return .export }
            if has("u.data") { return .movieLens100K }
            if has("ratings.dat") { return .movieLensDat }
            if has("ratings.csv") { return .movieLensCSV }
            if has("user_artists.dat") { return .hetrecLastFM }
            throw DataError(
                file: path,
                .unknownFormat(
                    "the folder has none of u.data, ratings.dat, ratings.csv, user_artists.dat, "
                        + SyntheticData.manifestFile + " or " + ExportManifest.fileName
                ))
        }
        let name = (path as NSString).lastPathComponent
        let folder = (path as NSString).deletingLastPathComponent
        switch name {
        case "u.data": return .movieLens100K
        case "ratings.dat": return .movieLensDat
        case "user_artists.dat": return .hetrecLastFM
        case SyntheticData.ratingsFile
        where manager.fileExists(atPath: join(folder.isEmpty ? "." : folder, SyntheticData.manifestFile)):
            return .synthetic
        default: break
        }
        let sniff = try Sniffer.sniff(path, format: .detect)
        if let header = sniff.header {
            let names = header.map(ColumnMapping.normalized)
            if names.contains("sessionid") { return .sessions }
            if name == "ratings.csv" && names.contains("userid") && names.contains("movieid") { return .movieLensCSV }
            if ColumnMapping.detect(header: header) == nil && sniff.fieldCount < 2 {
                throw DataError(
                    file: path, line: 1,
                    .unknownFormat("one column only; an interaction file needs user and item columns"))
            }
        } else if sniff.fieldCount < 2 {
            throw DataError(
                file: path, line: 1, .unknownFormat("one column only; an interaction file needs user and item columns"))
        }
        return .delimited
    }

    /// The folder of `path`, or `path` itself when it is a folder.
    public static func folderOf(_ path: String, file: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return path
        }
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    }
}
