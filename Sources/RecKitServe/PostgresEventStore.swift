import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// The event store replicas share: one PostgreSQL database through PostgresNIO, with the SQLite
/// store's schema (an `events` table and a `batches` table of idempotency keys). A batch is one
/// transaction; PostgreSQL commits it durably (its default `synchronous_commit=on`) before
/// `append` returns. Nothing is cached in the process: every replica reads what any other stored.
public final class PostgresEventStore: EventStore, Sendable {
    let client: PostgresClient
    let runner: Task<Void, Never>
    let logger = Logger(label: "reckit.events.postgres")
    /// The URL with its password removed, for messages.
    public let location: String

    /// Connects to the database a `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` URL names
    /// (`?sslmode=disable|prefer|require`, default prefer; `?host=/socket/folder` for a Unix socket)
    /// and creates the tables when missing.
    /// - Throws: `EventStoreError` naming the URL (without its password) when it is malformed or
    ///   the database cannot be reached or refuses.
    public static func connect(_ url: String) async throws -> PostgresEventStore {
        let address = try Address(url)
        // One direct connection first: it fails at once with the reason (refused, no such
        // database, authentication), where a pool would retry in the background.
        do {
            let connection = try await PostgresConnection.connect(
                configuration: try address.connection(), id: 0, logger: Logger(label: "reckit.events.postgres"))
            do {
                try await createSchema(connection)
                try await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
        } catch let error as EventStoreError {
            throw error
        } catch {
            throw EventStoreError("\(address.redacted): cannot be opened as an event store: \(describe(error))")
        }
        return PostgresEventStore(configuration: address.client(), location: address.redacted)
    }

    init(configuration: PostgresClient.Configuration, location: String) {
        self.location = location
        client = PostgresClient(configuration: configuration)
        let client = client
        runner = Task { await client.run() }
    }

    deinit { runner.cancel() }

    /// Closes the connections (the store is unusable afterwards).
    public func close() { runner.cancel() }

    static func createSchema(_ connection: PostgresConnection) async throws {
        let logger = Logger(label: "reckit.events.postgres")
        // Replicas starting together must not race to create the same table: one at a time.
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(7233001)", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS events (
                    id BIGSERIAL PRIMARY KEY,
                    "user" TEXT NOT NULL, item TEXT NOT NULL, value REAL NOT NULL, time BIGINT NOT NULL,
                    batch TEXT)
                """, logger: logger)
            try await connection.query(
                #"CREATE INDEX IF NOT EXISTS events_by_user ON events("user", id)"#, logger: logger)
            try await connection.query("CREATE INDEX IF NOT EXISTS events_by_time ON events(time)", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS batches (
                    key TEXT PRIMARY KEY, count INTEGER NOT NULL, received BIGINT NOT NULL)
                """,
                logger: logger)
        }
    }

    public func append(_ events: [Event], idempotencyKey: String?) async throws -> AppendResult {
        let logger = logger
        return try await client.withTransaction(logger: logger) { connection in
            if let idempotencyKey {
                // A concurrent transaction holding the same key makes this wait for its outcome:
                // committed, the row conflicts and this batch is a duplicate; rolled back, this one inserts.
                let received = Int64(Date().timeIntervalSince1970)
                let inserted = try await connection.query(
                    """
                    INSERT INTO batches (key, count, received)
                    VALUES (\(idempotencyKey), \(Int32(events.count)), \(received))
                    ON CONFLICT (key) DO NOTHING RETURNING count
                    """, logger: logger
                ).collect()
                if inserted.isEmpty {
                    let rows = try await connection.query(
                        "SELECT count FROM batches WHERE key = \(idempotencyKey)", logger: logger)
                    var count = 0
                    for try await stored in rows.decode(Int32.self) { count = Int(stored) }
                    return AppendResult(stored: count, duplicate: true)
                }
            }
            // One statement for the whole batch, in the batch's order.
            try await connection.query(
                """
                INSERT INTO events ("user", item, value, time, batch)
                SELECT u, i, v, t, \(idempotencyKey)
                FROM unnest(\(events.map(\.user))::text[], \(events.map(\.item))::text[],
                            \(events.map(\.value))::real[], \(events.map(\.time))::bigint[])
                     WITH ORDINALITY AS batch(u, i, v, t, n)
                ORDER BY n
                """, logger: logger)
            return AppendResult(stored: events.count, duplicate: false)
        }
    }

    public func events(user: String) async throws -> [Event] {
        try await events(
            #"SELECT "user", item, value, time FROM events WHERE "user" = \#(user) ORDER BY id"#)
    }

    public func allEvents() async throws -> [Event] {
        try await events(#"SELECT "user", item, value, time FROM events ORDER BY id"#)
    }

    public func count() async throws -> Int {
        var count = 0
        for try await value in try await client.query("SELECT COUNT(*) FROM events", logger: logger).decode(Int64.self)
        {
            count = Int(value)
        }
        return count
    }

    public func itemCounts(since time: Int64) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        let rows = try await client.query(
            "SELECT item, COUNT(*) FROM events WHERE time >= \(time) GROUP BY item", logger: logger)
        for try await (item, count) in rows.decode((String, Int64).self) { counts[item] = Int(count) }
        return counts
    }

    func events(_ query: PostgresQuery) async throws -> [Event] {
        var events: [Event] = []
        let rows = try await client.query(query, logger: logger)
        for try await (user, item, value, time) in rows.decode((String, String, Float, Int64).self) {
            events.append(Event(user: user, item: item, value: value, time: time))
        }
        return events
    }

    /// What went wrong, in PostgreSQL's words where it gave any (PostgresNIO's own descriptions
    /// hide them).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError {
            let inner = error.beginError ?? error.closureError ?? error.commitError ?? error.rollbackError
            return inner.map(describe) ?? "the transaction failed"
        }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                return message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
            }
            return error.underlying.map { "\(error.code): \($0)" } ?? "\(error.code)"
        }
        return "\(error)"
    }

    /// Where a `postgres://` URL points, and how to log in.
    struct Address {
        var host: String?
        var socket: String?
        var port: Int
        var user: String
        var password: String?
        var database: String?
        var sslmode: String
        /// The URL without its password.
        var redacted: String

        init(_ text: String) throws {
            var shown = URLComponents(string: text)
            if shown?.password != nil { shown?.password = "***" }
            redacted = shown?.string ?? "the postgres:// URL"
            let redacted = redacted
            let bad = { (why: String) in EventStoreError("\(redacted): \(why)") }
            guard let url = URLComponents(string: text), url.scheme == "postgres" || url.scheme == "postgresql" else {
                throw bad("not a postgres://USER@HOST[:PORT]/DATABASE URL")
            }
            let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
            let unknown = Set(query.keys).subtracting(["sslmode", "host", "port", "user", "password"])
            guard unknown.isEmpty else { throw bad("unknown parameter \(unknown.sorted().joined(separator: ", "))") }
            user = query["user"] ?? url.user ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
            password = query["password"] ?? url.password
            database = url.path.count > 1 ? String(url.path.dropFirst()) : nil
            if let text = query["port"] {
                guard let port = Int(text), (1...65535).contains(port) else { throw bad("port must be in 1...65535") }
                self.port = port
            } else {
                port = url.port ?? 5432
            }
            sslmode = query["sslmode"] ?? "prefer"
            guard ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].contains(sslmode) else {
                throw bad("sslmode \(sslmode) is not one of disable, prefer, require")
            }
            if let folder = query["host"], folder.hasPrefix("/") {
                socket = folder + "/.s.PGSQL.\(port)"
            } else {
                guard let host = query["host"] ?? url.host, !host.isEmpty else { throw bad("no host") }
                self.host = host
            }
        }

        func connection() throws -> PostgresConnection.Configuration {
            if let socket {
                return .init(unixSocketPath: socket, username: user, password: password, database: database)
            }
            let tls: PostgresConnection.Configuration.TLS
            switch sslmode {
            case "disable": tls = .disable
            case "allow", "prefer": tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            default: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            return .init(host: host!, port: port, username: user, password: password, database: database, tls: tls)
        }

        func client() -> PostgresClient.Configuration {
            if let socket {
                return .init(unixSocketPath: socket, username: user, password: password, database: database)
            }
            let tls: PostgresClient.Configuration.TLS
            switch sslmode {
            case "disable": tls = .disable
            case "allow", "prefer": tls = .prefer(.makeClientConfiguration())
            default: tls = .require(.makeClientConfiguration())
            }
            return .init(host: host!, port: port, username: user, password: password, database: database, tls: tls)
        }
    }
}
