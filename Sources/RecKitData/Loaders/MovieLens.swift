import Foundation

/// Loaders for the MovieLens families (GroupLens): 100K, 1M/10M (`::` files) and 20M/latest (CSV).
public enum MovieLens {
    /// The 19 genres of `u.genre`, in flag order, used when the file is absent.
    static let genres100K = [
        "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
        "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
    ]

    /// Loads a MovieLens 100K folder: `u.data` plus `u.item` (Latin-1), `u.user`, `u.genre`, `u.occupation`
    /// when present.
    public static func load100K(folder: String, options: InteractionFileOptions = .init()) throws(DataError) -> Dataset
    {
        var fileOptions = options
        fileOptions.format = DelimitedFormat(delimiter: .tab, hasHeader: false, quoting: false)
        fileOptions.mapping = ColumnMapping(
            user: .position(0), item: .position(1), rating: .position(2), timestamp: .position(3))
        let loaded = try InteractionFileLoader.load(join(folder, "u.data"), options: fileOptions)
        var dataset = Dataset(
            name: "ml-100k", format: .movieLens100K, interactions: loaded.interactions, users: loaded.users,
            items: loaded.items, report: loaded.report)
        let genrePath = join(folder, "u.genre")
        var genreNames = genres100K
        if FileManager.default.fileExists(atPath: genrePath) {
            let table = try DelimitedTable.read(
                genrePath, delimiter: .pipe, hasHeader: false, encoding: .latin1, quoting: false, fieldCount: 2)
            genreNames = table.rows.map { $0[0] }
        }
        let itemPath = join(folder, "u.item")
        if FileManager.default.fileExists(atPath: itemPath) {
            let table = try DelimitedTable.read(
                itemPath, delimiter: .pipe, hasHeader: false, encoding: .latin1, quoting: false,
                fieldCount: 5 + genreNames.count)
            var titles = [String?](repeating: nil, count: dataset.items.count)
            var years = [Int?](repeating: nil, count: dataset.items.count)
            var genres = [[String]](repeating: [], count: dataset.items.count)
            var releaseDates = [String?](repeating: nil, count: dataset.items.count)
            var urls = [String?](repeating: nil, count: dataset.items.count)
            for (row, fields) in table.rows.enumerated() {
                guard let item = dataset.items.index(of: fields[0]) else { continue } // never rated
                let index = Int(item)
                titles[index] = fields[1]
                releaseDates[index] = fields[2].isEmpty ? nil : fields[2]
                urls[index] = fields[4].isEmpty ? nil : fields[4]
                years[index] =
                    fields[2].split(separator: "-").last.flatMap { Int($0) } ?? ItemCatalog.year(fromTitle: fields[1])
                for (flag, name) in zip(fields[5...], genreNames) {
                    guard flag == "0" || flag == "1" else {
                        throw table.error(row: row, field: name, .invalidValue(flag, "is not a 0/1 genre flag"))
                    }
                    if flag == "1" { genres[index].append(name) }
                }
            }
            dataset.itemCatalog = ItemCatalog(
                titles: titles, years: years, genres: MultiValuedColumn(lists: genres, vocabulary: genreNames),
                attributes: ["releaseDate": releaseDates, "url": urls])
        }
        let userPath = join(folder, "u.user")
        if FileManager.default.fileExists(atPath: userPath) {
            let table = try DelimitedTable.read(
                userPath, delimiter: .pipe, hasHeader: false, quoting: false, fieldCount: 5)
            dataset.userAttributes = attributes(
                table, idColumn: 0, names: [(1, "age"), (2, "gender"), (3, "occupation"), (4, "zip")],
                ids: dataset.users)
        }
        return dataset
    }

    /// The names of MovieLens 100K's predefined splits.
    public static let predefinedSplitNames = ["u1", "u2", "u3", "u4", "u5", "ua", "ub"]

    /// Reads `NAME.base` and `NAME.test` of a 100K folder, indexed by `dataset`'s ID maps (the whole of
    /// `u.data`), so both halves share one `IDMap`.
    /// - Throws: `DataError` for a bad file or a pair that names a user or item not in `u.data`.
    public static func predefinedSplit(_ name: String, folder: String, dataset: Dataset) throws(DataError)
        -> (train: Interactions, test: Interactions)
    {
        guard predefinedSplitNames.contains(name) else {
            throw DataError(.invalidValue(name, "is not a MovieLens 100K split (u1–u5, ua, ub)"))
        }
        func read(_ suffix: String) throws(DataError) -> Interactions {
            try readIndexed(join(folder, "\(name).\(suffix)"), users: dataset.users, items: dataset.items)
        }
        return (try read("base"), try read("test"))
    }

    /// Reads a tab-separated `user item rating time` file whose IDs must exist in the given maps.
    static func readIndexed(_ path: String, users: IDMap, items: IDMap) throws(DataError) -> Interactions {
        let table = try DelimitedTable.read(path, delimiter: .tab, hasHeader: false, quoting: false, fieldCount: 4)
        var userColumn: [Int32] = []
        var itemColumn: [Int32] = []
        var ratings: [Float] = []
        var times: [Int64] = []
        for (row, fields) in table.rows.enumerated() {
            guard let user = users.index(of: fields[0]) else {
                throw table.error(row: row, field: "user", .invalidValue(fields[0], "is not in u.data"))
            }
            guard let item = items.index(of: fields[1]) else {
                throw table.error(row: row, field: "item", .invalidValue(fields[1], "is not in u.data"))
            }
            guard let rating = Float(fields[2]) else {
                throw table.error(row: row, field: "rating", .notANumber(fields[2]))
            }
            guard let time = Int64(fields[3]) else {
                throw table.error(row: row, field: "timestamp", .notATime(fields[3]))
            }
            userColumn.append(user)
            itemColumn.append(item)
            ratings.append(rating)
            times.append(time)
        }
        return try Interactions(
            users: userColumn, items: itemColumn, ratings: ratings, timestamps: times, userCount: users.count,
            itemCount: items.count)
    }

    /// Loads MovieLens 1M/10M: `ratings.dat` (`user::movie::rating::time`), plus `movies.dat` and
    /// `users.dat` when present. `path` is the folder or the ratings file.
    public static func loadDat(
        _ path: String, options: InteractionFileOptions = .init(), encoding: TextEncoding = .latin1
    )
        throws(DataError) -> Dataset
    {
        let (folder, ratingsPath) = resolve(path, ratingsFile: "ratings.dat")
        var fileOptions = options
        fileOptions.format = DelimitedFormat(
            delimiter: .doubleColon, hasHeader: false, encoding: encoding, quoting: false)
        fileOptions.mapping = ColumnMapping(
            user: .position(0), item: .position(1), rating: .position(2), timestamp: .position(3))
        let loaded = try InteractionFileLoader.load(ratingsPath, options: fileOptions)
        var dataset = Dataset(
            name: (folder as NSString).lastPathComponent, format: .movieLensDat, interactions: loaded.interactions,
            users: loaded.users, items: loaded.items, report: loaded.report)
        let moviesPath = join(folder, "movies.dat")
        if FileManager.default.fileExists(atPath: moviesPath) {
            let table = try DelimitedTable.read(
                moviesPath, delimiter: .doubleColon, hasHeader: false, encoding: encoding, quoting: false, fieldCount: 3
            )
            dataset.itemCatalog = catalog(table, ids: dataset.items, idColumn: 0, titleColumn: 1, genreColumn: 2)
        }
        let usersPath = join(folder, "users.dat")
        if FileManager.default.fileExists(atPath: usersPath) {
            let table = try DelimitedTable.read(
                usersPath, delimiter: .doubleColon, hasHeader: false, encoding: encoding, quoting: false, fieldCount: 5)
            dataset.userAttributes = attributes(
                table, idColumn: 0, names: [(1, "gender"), (2, "age"), (3, "occupation"), (4, "zip")],
                ids: dataset.users)
        }
        return dataset
    }

    /// Loads MovieLens 20M/25M/latest: `ratings.csv` (`userId,movieId,rating,timestamp`), plus
    /// `movies.csv` (quoted titles, `|` genres), `tags.csv` and `links.csv` when present.
    public static func loadCSV(_ path: String, options: InteractionFileOptions = .init()) throws(DataError) -> Dataset {
        let (folder, ratingsPath) = resolve(path, ratingsFile: "ratings.csv")
        var fileOptions = options
        fileOptions.format = DelimitedFormat(delimiter: .comma, hasHeader: true)
        fileOptions.mapping = ColumnMapping(
            user: .name("userId"), item: .name("movieId"), rating: .name("rating"), timestamp: .name("timestamp"))
        let loaded = try InteractionFileLoader.load(ratingsPath, options: fileOptions)
        var dataset = Dataset(
            name: (folder as NSString).lastPathComponent, format: .movieLensCSV, interactions: loaded.interactions,
            users: loaded.users, items: loaded.items, report: loaded.report)
        let moviesPath = join(folder, "movies.csv")
        guard FileManager.default.fileExists(atPath: moviesPath) else { return dataset }
        let movies = try DelimitedTable.read(moviesPath, delimiter: .comma, hasHeader: true, fieldCount: 3)
        var catalog = catalog(
            movies, ids: dataset.items, idColumn: try movies.column("movieId"),
            titleColumn: try movies.column("title"), genreColumn: try movies.column("genres"))
        let tagsPath = join(folder, "tags.csv")
        if FileManager.default.fileExists(atPath: tagsPath) {
            let tags = try DelimitedTable.read(tagsPath, delimiter: .comma, hasHeader: true, minimumFieldCount: 3)
            let itemColumn = try tags.column("movieId")
            let tagColumn = try tags.column("tag")
            var lists = [[String]](repeating: [], count: dataset.items.count)
            for fields in tags.rows {
                guard let item = dataset.items.index(of: fields[itemColumn]) else { continue }
                let tag = fields[tagColumn]
                if !lists[Int(item)].contains(tag) { lists[Int(item)].append(tag) }
            }
            catalog.tags = MultiValuedColumn(lists: lists)
        }
        let linksPath = join(folder, "links.csv")
        if FileManager.default.fileExists(atPath: linksPath) {
            let links = try DelimitedTable.read(linksPath, delimiter: .comma, hasHeader: true, fieldCount: 3)
            let itemColumn = try links.column("movieId")
            for name in ["imdbId", "tmdbId"] {
                let column = try links.column(name)
                var values = [String?](repeating: nil, count: dataset.items.count)
                for fields in links.rows {
                    if let item = dataset.items.index(of: fields[itemColumn]), !fields[column].isEmpty {
                        values[Int(item)] = fields[column]
                    }
                }
                catalog.attributes[name] = values
            }
        }
        dataset.itemCatalog = catalog
        return dataset
    }

    /// An item catalogue from an `id, title, genres` table (genres `|`-separated,
    /// `(no genres listed)` meaning none).
    static func catalog(_ table: DelimitedTable, ids: IDMap, idColumn: Int, titleColumn: Int, genreColumn: Int)
        -> ItemCatalog
    {
        var titles = [String?](repeating: nil, count: ids.count)
        var years = [Int?](repeating: nil, count: ids.count)
        var genres = [[String]](repeating: [], count: ids.count)
        for fields in table.rows {
            guard let item = ids.index(of: fields[idColumn]) else { continue }
            let index = Int(item)
            titles[index] = fields[titleColumn]
            years[index] = ItemCatalog.year(fromTitle: fields[titleColumn])
            let genreText = fields[genreColumn]
            genres[index] = genreText == "(no genres listed)" ? [] : genreText.split(separator: "|").map(String.init)
        }
        return ItemCatalog(titles: titles, years: years, genres: MultiValuedColumn(lists: genres))
    }

    static func attributes(_ table: DelimitedTable, idColumn: Int, names: [(Int, String)], ids: IDMap) -> AttributeTable
    {
        var columns = names.map { ($0.1, [String?](repeating: nil, count: ids.count)) }
        for fields in table.rows {
            guard let user = ids.index(of: fields[idColumn]) else { continue }
            for (position, (column, _)) in names.enumerated() { columns[position].1[Int(user)] = fields[column] }
        }
        return AttributeTable(columns: columns)
    }

    /// `(folder, ratings file)` for a folder or a file path.
    static func resolve(_ path: String, ratingsFile: String) -> (String, String) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return (path, join(path, ratingsFile))
        }
        let folder = (path as NSString).deletingLastPathComponent
        return (folder.isEmpty ? "." : folder, path)
    }
}

/// `folder/name`.
func join(_ folder: String, _ name: String) -> String {
    folder.hasSuffix("/") ? folder + name : folder + "/" + name
}
