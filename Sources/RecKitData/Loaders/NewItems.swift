import Foundation

extension ItemCatalog {
    /// New items to add to a trained model, from a CSV file with a header: `id` and `title`
    /// (required), `genres` and `tags` (`|`-separated, optional), `year` (optional; else read from a
    /// title ending in `(1995)`) — MovieLens's `movies.csv` is such a file.
    /// - Throws: `DataError` naming the file, line and field.
    public static func newItems(csv path: String) throws(DataError) -> (ids: [String], catalog: ItemCatalog) {
        let table = try DelimitedTable.read(path, delimiter: .comma, hasHeader: true)
        let idColumn = try table.column("id")
        let titleColumn = try table.column("title")
        func optional(_ name: String) throws(DataError) -> Int? {
            table.header!.contains { $0.lowercased() == name } ? try table.column(name) : nil
        }
        let (genreColumn, tagColumn, yearColumn) = (try optional("genres"), try optional("tags"), try optional("year"))
        var ids: [String] = []
        var titles: [String?] = []
        var years: [Int?] = []
        var genres: [[String]] = []
        var tags: [[String]] = []
        for (row, fields) in table.rows.enumerated() {
            let id = fields[idColumn].trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty else { throw table.error(row: row, field: "id", .invalidValue(id, "an empty ID")) }
            let title = fields[titleColumn].trimmingCharacters(in: .whitespaces)
            var year = ItemCatalog.year(fromTitle: title)
            if let yearColumn, !fields[yearColumn].isEmpty {
                guard let value = Int(fields[yearColumn].trimmingCharacters(in: .whitespaces)) else {
                    throw table.error(row: row, field: "year", .invalidValue(fields[yearColumn], "not a whole year"))
                }
                year = value
            }
            ids.append(id)
            titles.append(title.isEmpty ? nil : title)
            years.append(year)
            genres.append(genreColumn.map { Self.list(fields[$0]) } ?? [])
            tags.append(tagColumn.map { Self.list(fields[$0]) } ?? [])
        }
        return (
            ids,
            ItemCatalog(
                titles: titles, years: years, genres: MultiValuedColumn(lists: genres),
                tags: MultiValuedColumn(lists: tags))
        )
    }

    /// `Action|Comedy` as its values (trimmed, empty ones dropped).
    public static func list(_ text: String) -> [String] {
        text.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
