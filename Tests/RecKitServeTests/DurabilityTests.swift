import AsyncHTTPClient
import Foundation
import Hummingbird
import RecKit
import Testing
import _RecKitTestSupport

@testable import RecKitServe

/// Acknowledged events survive a crash: the built `reckit serve` takes batches from 8 concurrent
/// clients and is killed with SIGKILL at a random moment, then restarted; the clients retry every
/// batch that was not acknowledged, with its idempotency key. Afterwards every event is in the store
/// exactly once.
@Suite(.serialized) struct DurabilityTests {
    /// The `reckit` built beside this test bundle.
    static var binary: String {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let beside = folder.appendingPathComponent("reckit").path
        return FileManager.default.isExecutableFile(atPath: beside)
            ? beside : SharedData.packageRoot + "/.build-test/release/reckit"
    }

    final class Server: @unchecked Sendable { // the process is started and killed by one task at a time
        var process: Process?
        let arguments: [String]
        let log: String

        init(arguments: [String], log: String) {
            self.arguments = arguments
            self.log = log
        }

        func start() throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: DurabilityTests.binary)
            process.arguments = arguments
            if !FileManager.default.fileExists(atPath: log) {
                FileManager.default.createFile(atPath: log, contents: nil)
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            handle.seekToEndOfFile()
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            self.process = process
        }

        func kill() {
            guard let process else { return }
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// A count shared by the clients.
    final class Counter: @unchecked Sendable { // guarded by `lock`
        private let lock = NSLock()
        private var count = 0
        /// Counts one more batch and returns the new total.
        func add() -> Int {
            lock.withLock {
                count += 1
                return count
            }
        }
        var value: Int { lock.withLock { count } }
    }

    @Test func everyAcknowledgedEventIsStoredExactlyOnceAcrossAKill() async throws {
        let folder = TemporaryDirectory()
        let store = folder.path + "/events.sqlite"
        try await Self.killAndRetry(folder, events: "sqlite:" + store) {
            try await SQLiteEventStore(path: store).allEvents()
        }
    }

    @Test(.enabled(if: PostgresCluster.enabled, Comment(rawValue: PostgresCluster.missing)))
    func everyAcknowledgedEventIsStoredExactlyOnceAcrossAKillOnPostgres() async throws {
        try await PostgresCluster.with { cluster in
            try await Self.killAndRetry(TemporaryDirectory(), events: cluster.url) {
                let store = try await PostgresEventStore.connect(cluster.url)
                defer { store.close() }
                return try await store.allEvents()
            }
        }
    }

    /// Serves a model with events stored in `events`, kills the server while 8 clients post 100,000
    /// events, restarts it, and checks `stored()` holds each event once.
    static func killAndRetry(
        _ folder: TemporaryDirectory, events: String, stored: () async throws -> [Event]
    ) async throws {
        let data = SyntheticData.generate(preset: .tiny, seed: 8).ratings
        try TrainedModel(training: try ConfiguredModel("popularity"), on: data).save(to: folder.path + "/model")
        let port = try PostgresCluster.freePort()
        let server = Server(
            arguments: ["serve", "--model", folder.path + "/model", "--port", "\(port)", "--events", events],
            log: folder.path + "/serve.log")
        try server.start()
        let base = "http://127.0.0.1:\(port)"
        try await Self.waitUntilUp(base)
        let clients = 8
        let batchesPerClient = 50
        let eventsPerBatch = 250 // 100,000 events
        let started = Counter()
        let batches = clients * batchesPerClient
        let killAt = Int.random(in: batches / 20...batches * 3 / 4) // the kill lands while clients are posting
        // The client that starts batch number `killAt` kills the server first, so the kill cannot fall after the last
        // batch however the tasks are scheduled: the other clients' requests in flight are cut off, and that client's
        // own batch finds no server (the restart comes 200 ms later) and must be retried. The HTTP client does not
        // wait for the server to come back (`retryConnectionEstablishment` off): a refused connection fails the
        // request at once, as it would for a client with its own retry loop.
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let killed = Counter()
        let restarter = Task {
            while killed.value == 0 { try await Task.sleep(for: .milliseconds(2)) }
            try await Task.sleep(for: .milliseconds(200))
            try server.start()
        }
        let retries: Int
        do {
            retries = try await withThrowingTaskGroup(of: Int.self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var retries = 0
                        for batch in 0..<batchesPerClient {
                            if started.add() == killAt {
                                server.kill()
                                _ = killed.add()
                            }
                            let events = (0..<eventsPerBatch).map {
                                #"{"user":"c\#(client)","item":"b\#(batch)-\#($0)"}"#
                            }
                            let body = #"{"events":[\#(events.joined(separator: ","))]}"#
                            var request = HTTPClientRequest(url: base + "/v1/events")
                            request.method = .POST
                            request.headers.add(name: "Content-Type", value: "application/json")
                            request.headers.add(name: "Idempotency-Key", value: "c\(client)-b\(batch)")
                            request.body = .bytes(ByteBuffer(string: body))
                            retries += try await Self.post(request, with: http)
                        }
                        return retries
                    }
                }
                return try await group.reduce(0, +)
            }
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
        try await restarter.value
        server.kill()
        let events = try await stored()
        #expect(events.count == clients * batchesPerClient * eventsPerBatch, "retries: \(retries)")
        #expect(
            retries > 0,
            "batches were refused while the server was down (killed as batch \(killAt) of \(batches) started)")
        #expect(Set(events.map { $0.user + "/" + $0.item }).count == events.count)
        let log = (try? String(contentsOfFile: folder.path + "/serve.log", encoding: .utf8)) ?? ""
        #expect(log.components(separatedBy: "Server started").count - 1 == 2, "the server was killed and restarted")
    }

    /// Posts `request` until the server acknowledges it, every 50 ms for at most 60 s; returns how many
    /// attempts failed.
    static func post(_ request: HTTPClientRequest, with http: HTTPClient) async throws -> Int {
        let deadline = Date().addingTimeInterval(60)
        var failures = 0
        while true {
            if let response = try? await http.execute(request, timeout: .seconds(10)),
                (200..<300).contains(Int(response.status.code))
            {
                return failures
            }
            failures += 1
            guard Date() < deadline else { throw WebDriver.Failure(description: "no answer in 60 s") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func waitUntilUp(_ base: String) async throws {
        for _ in 0..<200 {
            let request = HTTPClientRequest(url: base + "/healthz")
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(1)),
                response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw WebDriver.Failure(description: "the server did not start at \(base)")
    }
}
