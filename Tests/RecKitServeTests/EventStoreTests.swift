import Foundation
import Testing
import _RecKitTestSupport

@testable import RecKitServe

/// What every event store promises — batches stored whole and in order, a key stored once (also
/// when the same batch races itself), events by user, everything back after reopening — checked on
/// SQLite and on a throw-away PostgreSQL cluster.
@Suite struct EventStoreTests {
    static let events = (0..<100).map {
        Event(user: "u\($0 % 7)", item: "i\($0)", value: Float($0) / 4, time: Int64($0))
    }

    /// The contract, on stores `open` opens (each call a new handle on the same storage).
    static func checkContract(_ open: () async throws -> any EventStore) async throws {
        do {
            let store = try await open()
            #expect(try await store.count() == 0)
            #expect(try await store.events(user: "u3").isEmpty)
            #expect(
                try await store.append(Array(events[..<60]), idempotencyKey: "a")
                    == AppendResult(stored: 60, duplicate: false))
            #expect(try await store.append(Array(events[60...]), idempotencyKey: nil).stored == 40)
        }
        let reopened = try await open()
        #expect(try await reopened.allEvents() == events)
        #expect(
            try await reopened.append(Array(events[..<5]), idempotencyKey: "a")
                == AppendResult(stored: 60, duplicate: true))
        #expect(try await reopened.count() == 100)
        #expect(try await reopened.events(user: "u3") == events.filter { $0.user == "u3" })
        // Eight copies of one batch at once: stored once, seven duplicates.
        let batch = (0..<50).map { Event(user: "race", item: "r\($0)", time: 0) }
        let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
            for _ in 0..<8 { group.addTask { try await reopened.append(batch, idempotencyKey: "race") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { !$0.duplicate }.count == 1 && results.allSatisfy { $0.stored == 50 })
        // Eight different batches at once: all stored, each in its own order.
        try await withThrowingTaskGroup(of: AppendResult.self) { group in
            for client in 0..<8 {
                let batch = (0..<50).map { Event(user: "c\(client)", item: "x\($0)", time: 0) }
                group.addTask { try await reopened.append(batch, idempotencyKey: "c\(client)") }
            }
            try await group.waitForAll()
        }
        #expect(try await reopened.count() == 100 + 50 + 8 * 50)
        #expect(try await reopened.events(user: "c5").map(\.item) == (0..<50).map { "x\($0)" })
        // Unicode survives.
        let odd = [Event(user: "ユーザー", item: "Amélie, \"le film\"\n", value: -3e38, time: -1)]
        _ = try await reopened.append(odd, idempotencyKey: nil)
        #expect(try await reopened.events(user: "ユーザー") == odd)
    }

    @Test func sqliteKeepsTheContract() async throws {
        let folder = TemporaryDirectory()
        try await Self.checkContract { try SQLiteEventStore(path: folder.path + "/events.sqlite") }
        #expect(throws: EventStoreError.self) { try SQLiteEventStore(path: folder.path + "/no/such/folder/e.sqlite") }
    }

    @Test(.enabled(if: PostgresCluster.enabled, Comment(rawValue: PostgresCluster.missing)))
    func postgresKeepsTheContract() async throws {
        try await PostgresCluster.with { cluster in
            var opened: [PostgresEventStore] = []
            defer { for store in opened { store.close() } }
            try await Self.checkContract {
                let store = try await PostgresEventStore.connect(cluster.url)
                opened.append(store)
                return store
            }
            // Through `--events`, with clear errors for a database that is not there.
            let store = try await EventStores.open(cluster.url)
            #expect(try await store.count() == 100 + 50 + 8 * 50 + 1)
            (store as? PostgresEventStore)?.close()
            let missing = cluster.url.replacingOccurrences(of: "/postgres?", with: "/nodb?")
            await #expect { _ = try await EventStores.open(missing) } throws: { error in
                "\(error)".contains(#"database "nodb" does not exist"#)
            }
        }
    }

    @Test func postgresURLsAreCheckedAndPasswordsNeverShown() async throws {
        let address = try PostgresEventStore.Address("postgres://me:secret@db.example:6543/events?sslmode=require")
        #expect(address.host == "db.example" && address.port == 6543 && address.user == "me")
        #expect(address.password == "secret" && address.database == "events" && address.sslmode == "require")
        #expect(!address.redacted.contains("secret"))
        let socket = try PostgresEventStore.Address("postgres:///events?host=/run/postgresql&user=me")
        #expect(socket.socket == "/run/postgresql/.s.PGSQL.5432" && socket.host == nil)
        for bad in [
            "postgres://me:secret@h/db?sslmode=maybe", "postgres://me:secret@h/db?colour=red",
            "postgres://me:secret@h/db?port=99999", "postgres:///db",
        ] {
            #expect {
                _ = try PostgresEventStore.Address(bad)
            } throws: { error in
                error is EventStoreError && !"\(error)".contains("secret")
            }
        }
        // Nothing listens: the direct connection's own error, naming the address (a pool would retry
        // for a minute and then report only that its circuit breaker tripped).
        let port = try PostgresCluster.freePort()
        await #expect {
            _ = try await EventStores.open("postgres://me:secret@127.0.0.1:\(port)/db?sslmode=disable")
        } throws: { error in
            "\(error)".contains("127.0.0.1:\(port)") && "\(error)".contains("refused") && !"\(error)".contains("secret")
        }
    }
}
