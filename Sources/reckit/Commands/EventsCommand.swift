import ArgumentParser
import Foundation
import RecKit
import RecKitServe

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Move events between a server's event store and CSV files.",
        subcommands: [EventsImport.self, EventsExport.self])
}

struct EventsImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Store the interactions of a file or data set as events (any format `data inspect` reads).",
        discussion: """
            Stored in batches of 10,000 whose idempotency keys come from the file's content: importing the
            same file again stores nothing twice.
              reckit events import ratings.csv --events sqlite:events.sqlite
            """)

    @Argument(help: "A data-set folder or interaction file.") var path: String
    @Option(help: "The event store: sqlite:PATH or postgres://USER@HOST[:PORT]/DATABASE.") var events: String
    @Flag(help: "No progress on stderr.") var quiet = false
    @OptionGroup var load: LoadOptions

    func run() async throws {
        let dataset = try load.load(path, quiet: quiet)
        let store: any EventStore
        do { store = try await EventStores.open(events) } catch { throw RuntimeError("\(error)") }
        let all = dataset.events(defaultTime: Int64(Date().timeIntervalSince1970))
        let digest = Fingerprint.hex(Data(EventCSV.text(all).utf8))
        var stored = 0
        var repeated = 0
        for (number, start) in stride(from: 0, to: all.count, by: 10_000).enumerated() {
            let batch = Array(all[start..<min(all.count, start + 10_000)])
            let result = try await store.append(batch, idempotencyKey: "import:\(digest.prefix(32)):\(number)")
            if result.duplicate { repeated += result.stored } else { stored += result.stored }
        }
        if !quiet {
            Terminal.error(
                "stored \(stored) events from \(path)"
                    + (repeated > 0 ? " (\(repeated) were stored by an earlier import of the same data)" : ""))
        }
    }
}

struct EventsExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write every stored event as CSV (user,item,value,time).")

    @Option(help: "The event store: sqlite:PATH or postgres://USER@HOST[:PORT]/DATABASE.") var events: String
    @Option(help: "The CSV file to write (default: standard output).") var out: String?

    func run() async throws {
        let store: any EventStore
        do { store = try await EventStores.open(events) } catch { throw RuntimeError("\(error)") }
        let text = EventCSV.text(try await store.allEvents())
        if let out { try AtomicFile.write(text, to: out) } else { Terminal.output(text) }
    }
}
