import Foundation

/// Loader for the HetRec 2011 Last.fm 2K folder (Cantador, Brusilovsky and Kuflik 2011).
public enum HetRecLastFM {
    /// Loads `user_artists.dat` (play counts as weights) plus, when present, `artists.dat` (names and
    /// URLs), `tags.dat` (Latin-1) with `user_taggedartists.dat` (tags per artist, by frequency) and
    /// `user_friends.dat` (links).
    public static func load(folder: String, options: InteractionFileOptions = .init()) throws(DataError) -> Dataset {
        var fileOptions = options
        fileOptions.format = DelimitedFormat(delimiter: .tab, hasHeader: true, quoting: false)
        fileOptions.mapping = ColumnMapping(user: .name("userID"), item: .name("artistID"), weight: .name("weight"))
        let loaded = try InteractionFileLoader.load(join(folder, "user_artists.dat"), options: fileOptions)
        var dataset = Dataset(
            name: "hetrec2011-lastfm-2k", format: .hetrecLastFM, interactions: loaded.interactions, users: loaded.users,
            items: loaded.items, report: loaded.report)
        let itemCount = dataset.items.count
        var catalog = ItemCatalog(titles: [String?](repeating: nil, count: itemCount))
        let artistsPath = join(folder, "artists.dat")
        if FileManager.default.fileExists(atPath: artistsPath) {
            let artists = try DelimitedTable.read(
                artistsPath, delimiter: .tab, hasHeader: true, quoting: false, minimumFieldCount: 2)
            var urls = [String?](repeating: nil, count: itemCount)
            for fields in artists.rows {
                guard let item = dataset.items.index(of: fields[0]) else { continue }
                catalog.titles[Int(item)] = fields[1]
                if fields.count > 2, !fields[2].isEmpty { urls[Int(item)] = fields[2] }
            }
            catalog.attributes["url"] = urls
        }
        let tagsPath = join(folder, "tags.dat")
        let taggedPath = join(folder, "user_taggedartists.dat")
        if FileManager.default.fileExists(atPath: tagsPath) && FileManager.default.fileExists(atPath: taggedPath) {
            let tags = try DelimitedTable.read(
                tagsPath, delimiter: .tab, hasHeader: true, encoding: .latin1, quoting: false, fieldCount: 2)
            let tagNames = Dictionary(tags.rows.map { ($0[0], $0[1]) }, uniquingKeysWith: { first, _ in first })
            let tagged = try DelimitedTable.read(
                taggedPath, delimiter: .tab, hasHeader: true, quoting: false, minimumFieldCount: 3)
            var counts = [[String: Int]](repeating: [:], count: itemCount)
            for (row, fields) in tagged.rows.enumerated() {
                guard let item = dataset.items.index(of: fields[1]) else { continue }
                guard let name = tagNames[fields[2]] else {
                    throw tagged.error(row: row, field: "tagID", .invalidValue(fields[2], "is not in tags.dat"))
                }
                counts[Int(item)][name, default: 0] += 1
            }
            // Most used tags first; ties by name, so the order is deterministic.
            let lists = counts.map { tagCounts in
                tagCounts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map(\.key)
            }
            catalog.tags = MultiValuedColumn(lists: lists)
        }
        dataset.itemCatalog = catalog
        let friendsPath = join(folder, "user_friends.dat")
        if FileManager.default.fileExists(atPath: friendsPath) {
            let friends = try DelimitedTable.read(
                friendsPath, delimiter: .tab, hasHeader: true, quoting: false, fieldCount: 2)
            dataset.userLinks = friends.rows.compactMap { fields in
                guard let from = dataset.users.index(of: fields[0]), let to = dataset.users.index(of: fields[1]) else {
                    return nil
                }
                return UserLink(from: from, to: to)
            }
        }
        return dataset
    }
}
