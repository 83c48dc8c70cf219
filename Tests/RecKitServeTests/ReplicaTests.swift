import AsyncHTTPClient
import Foundation
import NIOCore
import RecKit
import Testing
import _RecKitTestSupport

@testable import RecKitServe

/// Two `reckit serve` processes on one PostgreSQL database and one models directory behave as one
/// service: an event posted to either changes the other's recommendations at once (fold-in), and
/// both serve the same new version after a reload.
@Suite(.serialized) struct ReplicaTests {
    static func get(_ url: String) async throws -> [String: Any] {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        #expect(response.status == .ok, "\(url): \(String(buffer: body))")
        return try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
    }

    static func post(_ url: String, _ json: String) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        return Int(try await HTTPClient.shared.execute(request, timeout: .seconds(10)).status.code)
    }

    static func items(_ object: [String: Any]) -> [String] {
        (object["items"] as? [[String: Any]] ?? []).compactMap { $0["item"] as? String }
    }

    @Test(.enabled(if: PostgresCluster.enabled, Comment(rawValue: PostgresCluster.missing)))
    func twoServersOnOnePostgresDatabaseActAsOne() async throws {
        try await PostgresCluster.with { cluster in
            let folder = TemporaryDirectory()
            let data = SyntheticData.generate(preset: .tiny, seed: 8).ratings
            let ials = try ConfiguredModel("ials", settings: ["factors": "8", "alpha": "10", "iterations": "3"])
            let trained = try TrainedModel(training: ials, on: data)
            try trained.save(to: folder.path + "/models/v1")
            var bases: [String] = []
            var servers: [DurabilityTests.Server] = []
            defer { for server in servers { server.kill() } }
            for name in ["a", "b"] {
                let port = try PostgresCluster.freePort()
                let server = DurabilityTests.Server(
                    arguments: [
                        "serve", "--models-dir", folder.path + "/models", "--port", "\(port)", "--events", cluster.url,
                    ],
                    log: folder.path + "/\(name).log")
                try server.start()
                servers.append(server)
                bases.append("http://127.0.0.1:\(port)")
            }
            for base in bases { try await DurabilityTests.waitUntilUp(base) }
            let (a, b) = (bases[0], bases[1])

            // A newcomer is answered with the popular items by both.
            let before = try await Self.get(b + "/v1/recommendations?user=newcomer&k=10")
            #expect(before["path"] as? String == "popular")

            // Five events posted to A: B folds them in at once, and both answer alike.
            let history = (0..<5).map { data.items.id(at: $0 * 3) }
            let events = history.map { #"{"user":"newcomer","item":"\#($0)","value":1}"# }
            #expect(try await Self.post(a + "/v1/events", #"{"events":[\#(events.joined(separator: ","))]}"#) == 201)
            let fromB = try await Self.get(b + "/v1/recommendations?user=newcomer&k=10")
            let fromA = try await Self.get(a + "/v1/recommendations?user=newcomer&k=10")
            #expect(fromB["path"] as? String == "fold-in")
            #expect(Self.items(fromB) == Self.items(fromA))
            let expected = RecommendationPolicy().recommend(
                .init(user: "newcomer", history: history, k: 10, excludeSeen: true), with: trained)
            #expect(Self.items(fromB) == expected.recommendations.map(\.item))
            #expect(Set(Self.items(fromB)).isDisjoint(with: history))

            // A retrain writes v2 beside v1; each replica reloads it.
            let retrained = try TrainedModel(
                training: try ConfiguredModel("ials", settings: ["factors": "8", "alpha": "10", "iterations": "4"]),
                on: data)
            try retrained.save(to: folder.path + "/models/v2")
            for base in bases {
                #expect(try await Self.post(base + "/v1/models/reload", "{}") == 200)
                #expect(try await Self.get(base + "/readyz")["model_version"] as? String == "v2")
            }
            let afterA = try await Self.get(a + "/v1/recommendations?user=newcomer&k=10")
            let afterB = try await Self.get(b + "/v1/recommendations?user=newcomer&k=10")
            #expect(Self.items(afterA) == Self.items(afterB) && afterB["model_version"] as? String == "v2")
        }
    }
}
