import ArgumentParser
import Foundation
import RecKit

struct ItemsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "items", abstract: "Change a trained model's catalogue.", subcommands: [ItemsAdd.self])
}

struct ItemsAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add brand-new items to a trained model from their metadata, as a new model directory.",
        discussion: """
            The model must take items from metadata (`content`): each new item's vector comes from its
            title, genres, tags and year, so it is recommended and shown by `similar` at once. Write the
            result as a new version in a server's --models-dir folder and it is served on the next reload.
              reckit items add --model models/content --out models/content-2 \\
                --id 78499 --title "Toy Story 3 (2010)" --genres "Adventure|Animation|Children|Comedy|Fantasy"
              reckit items add --model models/content --out models/content-2 --file new-movies.csv
            A file is CSV with a header: id, title, and optionally genres and tags (`|`-separated) and year.
            """)

    @Option(help: "The trained model directory.") var model: String
    @Option(help: "The model directory to write (the model with the items added).") var out: String
    @Option(help: "A CSV file of new items: id,title[,genres][,tags][,year].") var file: String?
    @Option(help: "One new item's ID.") var id: String?
    @Option(help: "Its title (a trailing (1995) gives the year).") var title: String?
    @Option(help: "Its genres, |-separated.") var genres: String?
    @Option(help: "Its tags, |-separated.") var tags: String?
    @Option(help: "Its release year.") var year: Int?
    @Flag(help: "No summary on stderr.") var quiet = false

    func validate() throws {
        if (file == nil) == (id == nil) { throw ValidationError("give --file, or --id with --title/--genres/--tags") }
        if file != nil && (title != nil || genres != nil || tags != nil || year != nil) {
            throw ValidationError("--title, --genres, --tags and --year describe the one item of --id, not a --file")
        }
        if let id, id.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--id is empty") }
    }

    func run() async throws {
        let trained = try TrainedModel.load(model)
        let (ids, catalog): ([String], ItemCatalog)
        if let file {
            (ids, catalog) = try ItemCatalog.newItems(csv: file)
        } else {
            let name = title?.trimmingCharacters(in: .whitespaces)
            (ids, catalog) = (
                [id!],
                ItemCatalog(
                    titles: [name], years: [year ?? name.flatMap(ItemCatalog.year(fromTitle:))],
                    genres: MultiValuedColumn(lists: [ItemCatalog.list(genres ?? "")]),
                    tags: MultiValuedColumn(lists: [ItemCatalog.list(tags ?? "")]))
            )
        }
        let added: TrainedModel
        do { added = try trained.addingItems(ids: ids, catalog: catalog) } catch {
            throw RuntimeError(error.description)
        }
        try added.save(to: out)
        if !quiet {
            let plural = ids.count == 1 ? "" : "s"
            Terminal.error(
                "added \(ids.count) item\(plural) to \(trained.kind); saved \(added.items.count) items to \(out)")
        }
    }
}
