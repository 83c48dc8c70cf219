import ArgumentParser
import Foundation
import RecKit
import RecKitServe

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a trained model over HTTP: the JSON API, a web page, events, metrics.",
        discussion: """
            Examples:
              reckit serve --model models/ials
              reckit serve --models-dir models --events sqlite:events.sqlite --api-key-file keys.txt --port 8080
            The page is at http://HOST:PORT/, the API under /v1 (contract: /openapi.yaml), Prometheus metrics at
            /metrics. Posted events are stored durably (--events) and change a user's recommendations at once by
            fold-in. POST /v1/models/reload loads the newest version (the --models-dir folder with the greatest
            name, or --model again after a retrain replaced it); a model that does not load is refused and the
            old one keeps serving. A key file holds `write KEY` and `admin KEY` lines; without one, writes are open.
            """)

    @Option(help: "A model directory (reckit train --out).") var model: String?
    @Option(help: "A folder of model directories, one per version; the greatest name is served.") var modelsDir: String?
    @Option(help: "The address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface).")
    var host = "127.0.0.1"
    @Option(help: "The port.") var port = 8080
    @Option(help: "Where events are stored: sqlite:PATH, or postgres://USER@HOST[:PORT]/DATABASE shared by replicas.")
    var events = "sqlite:reckit-events.sqlite"
    @Option(help: "A file of `write KEY` / `admin KEY` lines guarding writes and admin routes.") var apiKeyFile: String?
    @Option(help: "Histories with fewer known items than this are answered by item similarity.")
    var foldInThreshold = 3
    @Option(
        help: ArgumentHelp(
            "Answer those with nothing known by the items with the most stored events over this window (30m, "
                + "24h, 7d) instead of the training data's most popular."))
    var trending: String?
    @Option(
        help: ArgumentHelp(
            "BLAS threads for scoring. One scoring thread batches concurrent requests; with 1 BLAS thread it "
                + "leaves the other cores to the HTTP work (measured faster on 2 cores)."))
    var blasThreads = 1

    func validate() throws {
        if (model == nil) == (modelsDir == nil) { throw ValidationError("give --model DIR or --models-dir DIR") }
        if !(1...65535).contains(port) { throw ValidationError("--port must be in 1...65535") }
        if foldInThreshold < 1 { throw ValidationError("--fold-in-threshold must be at least 1") }
        if blasThreads < 1 { throw ValidationError("--blas-threads must be at least 1") }
        if let trending, Self.seconds(trending) == nil {
            throw ValidationError("--trending takes a window such as 30m, 24h or 7d, not '\(trending)'")
        }
    }

    func run() async throws {
        BLASLibrary.setThreadCount(blasThreads)
        let source: ModelSource = model.map { .directory($0) } ?? .versions(modelsDir!)
        let slot: ModelSlot
        do { slot = try ModelSlot(source: source) } catch { throw RuntimeError(error.description) }
        let store: any EventStore
        do { store = try await EventStores.open(events) } catch { throw RuntimeError("\(error)") }
        var options = RecKitServer.Options()
        options.host = host
        options.port = port
        options.policy = RecommendationPolicy(foldInThreshold: foldInThreshold)
        options.trendingWindow = trending.flatMap(Self.seconds)
        if let apiKeyFile {
            do { options.keys = try APIKeys.read(apiKeyFile) } catch { throw RuntimeError("\(error)") }
        } else {
            Terminal.error("no --api-key-file: anyone who can reach the port may post events and reload the model")
        }
        let served = slot.current
        Terminal.error(
            "serving \(served.trained.kind) \(served.version) (\(served.trained.users.count) users, "
                + "\(served.trained.items.count) items) at http://\(host):\(port)/  events: \(events)")
        try await RecKitServer(slot: slot, store: store, options: options).application().runService()
    }

    /// `90s`, `30m`, `24h`, `7d` (or plain seconds) → seconds; nil for anything else.
    static func seconds(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        let unit = text.last.flatMap { units[$0] }
        guard let count = Int64(unit == nil ? text : String(text.dropLast())), count > 0 else { return nil }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: unit ?? 1)
        return overflow ? nil : seconds
    }
}
