import Foundation
import GRDB
import RecKit

/// One interaction an application reports: a user did something with an item, with a strength
/// (a rating, a play count, 1 for a click) at a time (Unix seconds).
public struct Event: Codable, Sendable, Equatable {
    public var user: String
    public var item: String
    public var value: Float
    public var time: Int64

    public init(user: String, item: String, value: Float = 1, time: Int64) {
        self.user = user
        self.item = item
        self.value = value
        self.time = time
    }
}

/// What storing a batch did: how many events it holds, and whether the batch had been stored before
/// under the same idempotency key (then nothing was stored again).
public struct AppendResult: Codable, Sendable, Equatable {
    public var stored: Int
    public var duplicate: Bool
}

/// Where the server keeps the events it acknowledges. A batch is stored whole or not at all, and is
/// durable when `append` returns (a 2xx is sent only then); a batch retried with the same
/// idempotency key is stored once.
public protocol EventStore: Sendable {
    func append(_ events: [Event], idempotencyKey: String?) async throws -> AppendResult
    /// The user's events, oldest first (ties in the order they were stored).
    func events(user: String) async throws -> [Event]
    /// Every event, in the order stored.
    func allEvents() async throws -> [Event]
    func count() async throws -> Int
    /// How many events each item has with a time at or after `time` (Unix seconds).
    func itemCounts(since time: Int64) async throws -> [String: Int]
}

/// A store that cannot be opened, or an append it refused.
public struct EventStoreError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The default event store: one SQLite file through GRDB, in WAL mode with `synchronous=FULL`, so a
/// committed batch survives a crash of the process or the machine. One server process owns the file:
/// it keeps the set of users with events in memory, so that asking for a user without any costs no
/// read (replicas share PostgreSQL instead).
public final class SQLiteEventStore: EventStore, @unchecked Sendable { // `users` is guarded by `lock`
    let pool: DatabasePool
    public let path: String
    private let lock = NSLock()
    private var users: Set<String> = []

    /// Opens (or creates) the store at `path`.
    /// - Throws: `EventStoreError` naming the file when it cannot be opened or is not an event store.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try pool.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE IF NOT EXISTS events (
                            id INTEGER PRIMARY KEY AUTOINCREMENT,
                            user TEXT NOT NULL, item TEXT NOT NULL, value REAL NOT NULL, time INTEGER NOT NULL,
                            batch TEXT);
                        CREATE INDEX IF NOT EXISTS events_by_user ON events(user, id);
                        CREATE INDEX IF NOT EXISTS events_by_time ON events(time);
                        CREATE TABLE IF NOT EXISTS batches (
                            key TEXT PRIMARY KEY, count INTEGER NOT NULL, received INTEGER NOT NULL);
                        """)
            }
            users = Set(try pool.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT user FROM events") })
        } catch {
            throw EventStoreError("\(path): cannot be opened as an event store: \(error)")
        }
    }

    public func append(_ events: [Event], idempotencyKey: String?) async throws -> AppendResult {
        let result = try await pool.write { db in
            if let idempotencyKey {
                if let count = try Int.fetchOne(
                    db, sql: "SELECT count FROM batches WHERE key = ?", arguments: [idempotencyKey])
                {
                    return AppendResult(stored: count, duplicate: true)
                }
                try db.execute(
                    sql: "INSERT INTO batches (key, count, received) VALUES (?, ?, ?)",
                    arguments: [idempotencyKey, events.count, Int64(Date().timeIntervalSince1970)])
            }
            let statement = try db.cachedStatement(
                sql: "INSERT INTO events (user, item, value, time, batch) VALUES (?, ?, ?, ?, ?)")
            for event in events {
                try statement.execute(arguments: [
                    event.user, event.item, Double(event.value), event.time, idempotencyKey,
                ])
            }
            return AppendResult(stored: events.count, duplicate: false)
        }
        if !result.duplicate { lock.withLock { users.formUnion(events.map(\.user)) } }
        return result
    }

    public func events(user: String) async throws -> [Event] {
        guard lock.withLock({ users.contains(user) }) else { return [] }
        return try await pool.read { db in
            try Self.events(db, sql: "SELECT user, item, value, time FROM events WHERE user = ? ORDER BY id", [user])
        }
    }

    public func allEvents() async throws -> [Event] {
        try await pool.read { db in try Self.events(db, sql: "SELECT user, item, value, time FROM events ORDER BY id") }
    }

    public func count() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0 }
    }

    public func itemCounts(since time: Int64) async throws -> [String: Int] {
        try await pool.read { db in
            var counts: [String: Int] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT item, COUNT(*) FROM events WHERE time >= ? GROUP BY item", arguments: [time])
            while let row = try rows.next() { counts[row[0]] = row[1] }
            return counts
        }
    }

    static func events(_ db: Database, sql: String, _ arguments: StatementArguments = []) throws -> [Event] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            Event(user: row[0], item: row[1], value: Float(row[2] as Double), time: row[3])
        }
    }
}

/// Opens the store a `--events` text names: `sqlite:PATH` (or a plain path) or a
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` URL.
public enum EventStores {
    public static func open(_ text: String) async throws -> any EventStore {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            return try await PostgresEventStore.connect(text)
        }
        let path = text.hasPrefix("sqlite:") ? String(text.dropFirst("sqlite:".count)) : text
        guard !path.isEmpty else { throw EventStoreError("--events sqlite:PATH needs a file path") }
        return try SQLiteEventStore(path: path)
    }
}

extension Dataset {
    /// Stored events as a data set to train on: values as ratings, times as timestamps, users and
    /// items numbered in the loaders' order.
    /// - Throws: `EventStoreError` when there is no event.
    public init(events: [Event], name: String) throws {
        guard !events.isEmpty else { throw EventStoreError("\(name): holds no event to train on") }
        let users = IDMap(sorting: events.map(\.user))
        let items = IDMap(sorting: events.map(\.item))
        let interactions = try Interactions(
            users: events.map { users.index(of: $0.user)! }, items: events.map { items.index(of: $0.item)! },
            ratings: events.map(\.value), timestamps: events.map(\.time), userCount: users.count,
            itemCount: items.count)
        self.init(name: name, format: .delimited, interactions: interactions, users: users, items: items)
    }

    /// The interactions as events (value: rating, else weight, else 1; time: timestamp, else `time`).
    public func events(defaultTime time: Int64) -> [Event] {
        (0..<interactions.count).map { row in
            Event(
                user: users.id(at: interactions.users[row]), item: items.id(at: interactions.items[row]),
                value: interactions.ratings?[row] ?? interactions.weights?[row] ?? 1,
                time: interactions.timestamps?[row] ?? time)
        }
    }
}

/// Events as CSV: a `user,item,value,time` header, then one line per event (fields quoted when they
/// hold a comma, a quote or a line break) — what `reckit events export` writes and `import` reads.
public enum EventCSV {
    public static func text(_ events: [Event]) -> String {
        var text = "user,item,value,time\n"
        for event in events {
            text += "\(field(event.user)),\(field(event.item)),\(event.value),\(event.time)\n"
        }
        return text
    }

    static func field(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
