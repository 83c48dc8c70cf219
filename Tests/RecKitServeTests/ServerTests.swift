import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RecKit
import Testing
import _RecKitTestSupport

@testable import RecKitServe

/// The API in process (HummingbirdTesting's router mode): every route's answers and errors, events
/// changing recommendations at once, keys, reload, metrics, and the routes against openapi.yaml.
@Suite struct ServerTests {
    static let dataset = SyntheticData.generate(preset: .tiny, seed: 8).ratings
    static let trained: TrainedModel = {
        let ials = try! ConfiguredModel("ials", settings: ["factors": "8", "alpha": "10", "iterations": "3"])
        return try! TrainedModel(training: ials, on: dataset)
    }()
    static let writeKey = "write-key-0123456789", adminKey = "admin-key-0123456789"

    /// A server over a fresh event store in `folder`, with the models directory `folder/models`.
    func server(
        _ folder: TemporaryDirectory, keys: APIKeys? = nil, options: RecKitServer.Options = RecKitServer.Options()
    ) throws -> RecKitServer {
        try Self.trained.save(to: folder.path + "/models/v1")
        var options = options
        options.keys = keys
        return RecKitServer(
            slot: try ModelSlot(source: .versions(folder.path + "/models")),
            store: try SQLiteEventStore(path: folder.path + "/events.sqlite"), options: options)
    }

    func application(_ server: RecKitServer) -> some ApplicationProtocol { Application(router: server.router()) }

    static func object(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
    }

    static func items(_ object: [String: Any]) -> [String] {
        (object["items"] as? [[String: Any]] ?? []).compactMap { $0["item"] as? String }
    }

    static func body(_ json: String) -> ByteBuffer { ByteBuffer(string: json) }

    /// A feature model served: a newcomer's `user_features` are scored (`path: features`), keys it does
    /// not read are reported as ignored; the iALS server ignores features altogether.
    @Test func userFeaturesReachAFeatureModel() async throws {
        let folder = TemporaryDirectory()
        let fm = try TrainedModel(
            training: try ConfiguredModel("fm", settings: ["epochs": "1", "threads": "1"]), on: Self.dataset)
        try fm.save(to: folder.path + "/models/v1")
        let featureServer = RecKitServer(
            slot: try ModelSlot(source: .versions(folder.path + "/models")),
            store: try SQLiteEventStore(path: folder.path + "/events.sqlite"), options: RecKitServer.Options())
        let request = #"{"user_features":{"genres":"Drama","shoe_size":"42"},"k":4}"#
        let expected = RecommendationPolicy().recommend(
            .init(k: 4, userFeatures: ["genres": "Drama", "shoe_size": "42"]), with: fm)
        try await application(featureServer).test(.router) { client in
            try await client.execute(uri: "/v1/recommendations", method: .post, body: Self.body(request)) { response in
                #expect(response.status == .ok)
                let object = try Self.object(response)
                #expect(object["path"] as? String == "features")
                #expect(Self.items(object) == expected.recommendations.map(\.item))
                #expect((object["ignored"] as? [String])?.first?.hasPrefix("user_features genres, shoe_size") == true)
            }
        }
        let plain = try server(TemporaryDirectory())
        try await application(plain).test(.router) { client in
            try await client.execute(uri: "/v1/recommendations", method: .post, body: Self.body(request)) { response in
                let object = try Self.object(response)
                #expect(object["path"] as? String == "popular")
                #expect(object["ignored"] as? [String] == ["user_features (the served model reads no features)"])
            }
        }
    }

    /// `POST /v1/items` on a content model: the new items are saved as a version after the served one
    /// and served at once (found by title, recommended, similar); a restarted server loads that version;
    /// an iALS model refuses with 409, a known ID too; writes need the admin key.
    @Test func itemsAddedFromMetadataAreSavedAndServed() async throws {
        let folder = TemporaryDirectory()
        let content = try TrainedModel(
            training: try ConfiguredModel(
                "content", settings: ["base": "ials:factors=4:iterations=2", "epochs": "3", "hidden": "8"]),
            on: Self.dataset)
        try content.save(to: folder.path + "/models/v1")
        let store = try SQLiteEventStore(path: folder.path + "/events.sqlite")
        var options = RecKitServer.Options()
        options.keys = APIKeys(write: [Self.writeKey], admin: [Self.adminKey])
        let contentServer = RecKitServer(
            slot: try ModelSlot(source: .versions(folder.path + "/models")), store: store, options: options)
        let genres = Self.dataset.itemCatalog!.genres!.values(of: 0)
        let newItems = """
            {"items":[{"id":"brand-new","title":"A Brand New Film (2031)","genres":\(genres.description)},
            {"id":"bare-new"}]}
            """
        let expected = try content.addingItems(
            ids: ["brand-new", "bare-new"],
            catalog: ItemCatalog(
                titles: ["A Brand New Film (2031)", nil], years: [2031, nil],
                genres: MultiValuedColumn(lists: [genres, []]), tags: MultiValuedColumn(lists: [[], []])))
        let apiKey = HTTPField.Name("X-API-Key")!
        try await application(contentServer).test(.router) { client in
            let unkeyed = try await client.execute(uri: "/v1/items", method: .post, body: Self.body(newItems))
            #expect(unkeyed.status == .unauthorized)
            let writer = try await client.execute(
                uri: "/v1/items", method: .post, headers: [apiKey: Self.writeKey], body: Self.body(newItems))
            #expect(writer.status == .forbidden)
            let added = try await client.execute(
                uri: "/v1/items", method: .post, headers: [apiKey: Self.adminKey], body: Self.body(newItems))
            #expect(added.status == .created)
            let object = try Self.object(added)
            #expect(object["added"] as? [String] == ["brand-new", "bare-new"])
            let version = try #require((object["active"] as? [String: Any])?["version"] as? String)
            #expect(version.hasPrefix("v1+items-") && version > "v1")
            #expect((object["active"] as? [String: Any])?["items"] as? Int == Self.dataset.items.count + 2)
            let found = try await client.execute(uri: "/v1/items?q=brand+new+film", method: .get)
            #expect(Self.items(try Self.object(found)) == ["brand-new"])
            let similar = try await client.execute(uri: "/v1/items/brand-new/similar?k=5", method: .get)
            #expect(
                Self.items(try Self.object(similar))
                    == (try expected.similar(to: "brand-new", k: 5)).similar.map(\.item))
            let user = Self.dataset.users.id(at: 3)
            let all = try await client.execute(uri: "/v1/recommendations?user=\(user)&k=1000", method: .get)
            #expect(Self.items(try Self.object(all)) == (try expected.recommend(user: user, k: 1000)).map(\.item))
            // Again: the ID is known now.
            let again = try await client.execute(
                uri: "/v1/items", method: .post, headers: [apiKey: Self.adminKey], body: Self.body(newItems))
            #expect(again.status == .conflict)
            #expect((try Self.object(again)["error"] as? [String: Any])?["code"] as? String == "cannot_add_items")
            let bad = try await client.execute(
                uri: "/v1/items", method: .post, headers: [apiKey: Self.adminKey],
                body: Self.body(#"{"items":[{"id":"x","year":0}]}"#))
            #expect(bad.status == .badRequest)
        }
        // A server started afterwards serves the version with the items.
        let restarted = try ModelSlot(source: .versions(folder.path + "/models"))
        #expect(restarted.current.version.hasPrefix("v1+items-"))
        #expect(restarted.current.trained.items.index(of: "brand-new") != nil)
        // A model that cannot take items says so.
        let ialsServer = try server(TemporaryDirectory())
        try await application(ialsServer).test(.router) { client in
            let refused = try await client.execute(uri: "/v1/items", method: .post, body: Self.body(newItems))
            #expect(refused.status == .conflict)
            let message = (try Self.object(refused)["error"] as? [String: Any])?["message"] as? String
            #expect(message?.contains("cannot take new items") == true, "\(message ?? "")")
        }
    }

    @Test func recommendationsFollowThePolicyAndEventsChangeThemAtOnce() async throws {
        let folder = TemporaryDirectory()
        let server = try server(folder)
        let user = Self.dataset.users.id(at: 7)
        let expected = try Self.trained.recommend(user: user, k: 5).map(\.item)
        try await application(server).test(.router) { client in
            try await client.execute(uri: "/v1/recommendations?user=\(user)&k=5", method: .get) { response in
                #expect(response.status == .ok)
                let object = try Self.object(response)
                #expect(object["path"] as? String == "model" && Self.items(object) == expected)
                #expect(object["model_version"] as? String == "v1")
            }
            // An unknown user with no events: the popular items, labelled.
            try await client.execute(uri: "/v1/recommendations?user=nobody&k=5", method: .get) { response in
                let object = try Self.object(response)
                #expect(object["path"] as? String == "popular")
                #expect(Self.items(object) == Self.trained.popular(k: 5).map(\.item))
            }
            // Events for that user: acknowledged once, then similar items from them at once.
            let first = Self.dataset.items.id(at: 1)
            let second = Self.dataset.items.id(at: 2)
            let batch =
                #"{"events":[{"user":"nobody","item":"\#(first)"},{"user":"nobody","item":"\#(second)","value":2}]}"#
            for (attempt, status) in [(0, HTTPResponse.Status.created), (1, .ok)] {
                try await client.execute(
                    uri: "/v1/events", method: .post, headers: [HTTPField.Name("Idempotency-Key")!: "batch-1"],
                    body: Self.body(batch)
                ) { response in
                    #expect(response.status == status)
                    let object = try Self.object(response)
                    #expect(object["stored"] as? Int == 2 && object["duplicate"] as? Bool == (attempt == 1))
                }
            }
            #expect(try await server.store.count() == 2)
            try await client.execute(uri: "/v1/recommendations?user=nobody&k=5", method: .get) { response in
                let object = try Self.object(response)
                #expect(object["path"] as? String == "similar-items")
                let direct = RecommendationPolicy().recommend(
                    .init(history: [first, second], k: 5), with: Self.trained)
                #expect(Self.items(object) == direct.recommendations.map(\.item))
            }
            // POST: an ad-hoc history (fold-in), unknown items reported, exclusions honoured.
            let history = (1...4).map { Self.dataset.items.id(at: Int32($0)) }
            let excluded = Self.trained.recommend(history: history, k: 1).recommendations[0].item
            let request = #"{"history":\#(history + ["zzz"]),"k":5,"exclude":["\#(excluded)"]}"#
            try await client.execute(uri: "/v1/recommendations", method: .post, body: Self.body(request)) { response in
                let object = try Self.object(response)
                #expect(object["path"] as? String == "fold-in" && object["unknown_items"] as? [String] == ["zzz"])
                #expect(!Self.items(object).contains(excluded) && Self.items(object).count == 5)
            }
            // Items by title, similar items, the model.
            let title = try #require(Self.dataset.itemCatalog?.titles[3])
            let query = title.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let found = try await client.execute(uri: "/v1/items?q=\(query)&k=3", method: .get)
            #expect(Self.items(try Self.object(found)).first == Self.dataset.items.id(at: 3))
            let id = Self.dataset.items.id(at: 3)
            let similar = try Self.object(try await client.execute(uri: "/v1/items/\(id)/similar?k=4", method: .get))
            #expect(Self.items(similar) == (try Self.trained.similar(to: id, k: 4)).similar.map(\.item))
            try await client.execute(uri: "/v1/items/no-such-item/similar", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/users/\(user)/explain?item=\(id)", method: .get) { response in
                let contributions = try Self.object(response)["contributions"] as? [[String: Any]]
                #expect(response.status == .ok && contributions?.isEmpty == false)
            }
            // An ad-hoc history's explanation: its own items, largest contribution first, as ImplicitALS says.
            let explained = (10..<14).map { Self.dataset.items.id(at: Int32($0)) }
            let quoted = explained.map { "\"\($0)\"" }.joined(separator: ",")
            let asked = #"{"history":[\#(quoted),"no-such"],"item":"\#(id)","k":3}"#
            try await client.execute(uri: "/v1/explain", method: .post, body: Self.body(asked)) { response in
                #expect(response.status == .ok)
                let contributions = try Self.object(response)["contributions"] as? [[String: Any]] ?? []
                let als = try #require(Self.trained.model as? ImplicitALS)
                let expected = als.explain(
                    item: 3, history: (10..<14).map { (item: Int32($0), value: Float(1)) }, k: 3)
                #expect(
                    contributions.compactMap { $0["item"] as? String }
                        == expected.contributions.map {
                            Self.dataset.items.id(at: $0.index)
                        })
            }
            for (body, status) in [
                (#"{"history":["no-such"],"item":"\#(id)"}"#, HTTPResponse.Status.notFound),
                (#"{"history":["\#(explained[0])"],"item":"\#(id)","k":0}"#, .badRequest),
                (#"{"history":["\#(explained[0])"],"item":"\#(id)","why":1}"#, .badRequest),
            ] {
                try await client.execute(uri: "/v1/explain", method: .post, body: Self.body(body)) { response in
                    #expect(response.status == status, "\(body)")
                }
            }
            try await client.execute(uri: "/v1/models", method: .get) { response in
                let active = try Self.object(response)["active"] as? [String: Any]
                #expect(
                    active?["kind"] as? String == "ials"
                        && active?["training_fingerprint"] as? String == Self.trained.fingerprint)
            }
        }
    }

    /// `--trending 1h`: those with nothing known get the items with the most events in the last hour
    /// (older events and unknown items do not count), ties by training popularity.
    @Test func trendingItemsAnswerNewcomersWhenAWindowIsSet() async throws {
        let folder = TemporaryDirectory()
        var options = RecKitServer.Options()
        options.trendingWindow = 3600
        options.trendingRefresh = 0
        let server = try server(folder, options: options)
        let now = Int64(Date().timeIntervalSince1970)
        let (hot, warm, old) = (
            Self.dataset.items.id(at: 5), Self.dataset.items.id(at: 9), Self.dataset.items.id(at: 11)
        )
        let events =
            [(hot, now), (hot, now - 10), (hot, now - 20), (warm, now - 30), (old, now - 7200), (old, now - 7300)]
            .enumerated().map { #"{"user":"u\#($0.offset)","item":"\#($0.element.0)","time":\#($0.element.1)}"# }
            + [#"{"user":"x","item":"not-in-the-model","time":\#(now)}"#]
        try await application(server).test(.router) { client in
            try await client.execute(uri: "/v1/recommendations?user=nobody&k=5", method: .get) { response in
                let object = try Self.object(response)
                #expect(object["path"] as? String == "popular", "no events yet")
            }
            try await client.execute(
                uri: "/v1/events", method: .post, body: Self.body(#"{"events":[\#(events.joined(separator: ","))]}"#)
            ) { response in #expect(response.status == .created) }
            try await client.execute(uri: "/v1/recommendations?user=nobody&k=5", method: .get) { response in
                let object = try Self.object(response)
                #expect(object["path"] as? String == "trending")
                let items = Self.items(object)
                #expect(Array(items.prefix(2)) == [hot, warm], "two old events would have put \(old) second")
                let popular = Self.trained.popular(k: 5).map(\.item).filter { $0 != hot && $0 != warm }
                #expect(Array(items.dropFirst(2)) == Array(popular.prefix(3)), "the rest by training popularity")
            }
            // A known user is still answered by the model.
            let user = Self.dataset.users.id(at: 7)
            try await client.execute(uri: "/v1/recommendations?user=\(user)&k=5", method: .get) { response in
                let object = try Self.object(response)
                #expect(object["path"] as? String == "model")
            }
        }
    }

    @Test func badRequestsAreJSONErrorsWithStableCodes() async throws {
        let folder = TemporaryDirectory()
        let server = try server(folder)
        try await application(server).test(.router) { client in
            for (uri, method, body, status, code) in [
                ("/v1/recommendations", HTTPRequest.Method.get, nil, HTTPResponse.Status.badRequest, "missing_user"),
                ("/v1/recommendations?user=1&k=0", .get, nil, .badRequest, "bad_request"),
                ("/v1/recommendations?user=1&k=1001", .get, nil, .badRequest, "bad_request"),
                ("/v1/recommendations?user=1&exclude_seen=maybe", .get, nil, .badRequest, "bad_request"),
                ("/v1/recommendations", .post, #"{"history":[1]}"#, .badRequest, "bad_request"),
                ("/v1/recommendations", .post, #"{"history":["1"],"session":["1"]}"#, .badRequest, "bad_request"),
                ("/v1/recommendations", .post, "not json", .badRequest, "bad_request"),
                ("/v1/events", .post, #"{"events":[]}"#, .badRequest, "bad_request"),
                ("/v1/events", .post, #"{"events":[{"user":"","item":"1"}]}"#, .badRequest, "bad_request"),
                ("/v1/users/1/explain", .get, nil, .badRequest, "missing_item"),
                ("/v1/no-such-route", .get, nil, .notFound, "not_found"),
                ("/v1/recommendations", .post, #"{"histroy":["1"]}"#, .badRequest, "bad_request"),
                ("/v1/events", .post, #"{"events":[{"user":"a","item":"1","when":3}]}"#, .badRequest, "bad_request"),
                (
                    "/v1/events", .post, #"{"events":[{"user":"a","item":"1","value":1e39}]}"#, .badRequest,
                    "bad_request"
                ),
                ("/v1/models", .delete, nil, .methodNotAllowed, "method_not_allowed"),
                ("/v1/items/1/similar", .post, nil, .methodNotAllowed, "method_not_allowed"),
            ] {
                try await client.execute(uri: uri, method: method, body: body.map(Self.body)) { response in
                    #expect(response.status == status, "\(method) \(uri)")
                    let error = try Self.object(response)["error"] as? [String: Any]
                    #expect(error?["code"] as? String == code && (error?["message"] as? String)?.isEmpty == false)
                }
            }
            try await client.execute(uri: "/v1/recommendations", method: .delete) { response in
                #expect(response.headers[.allow] == "GET, POST")
            }
            // A body over the bound is refused, not read.
            let huge = #"{"history":["\#(String(repeating: "x", count: 5 << 20))"]}"#
            try await client.execute(uri: "/v1/recommendations", method: .post, body: Self.body(huge)) { response in
                #expect(response.status == .contentTooLarge)
            }
        }
    }

    @Test func keysGuardWritesAndReloadSwapsOrRefuses() async throws {
        let folder = TemporaryDirectory()
        let server = try server(folder, keys: APIKeys(write: [Self.writeKey], admin: [Self.adminKey]))
        let event = Self.body(#"{"events":[{"user":"a","item":"\#(Self.dataset.items.id(at: 0))"}]}"#)
        let apiKey = HTTPField.Name("X-API-Key")!
        try await application(server).test(.router) { client in
            for (headers, status) in [
                (HTTPFields(), HTTPResponse.Status.unauthorized), ([apiKey: "wrong-key-0123456789"], .forbidden),
                ([apiKey: Self.writeKey], .created), ([.authorization: "Bearer \(Self.adminKey)"], .created),
            ] {
                try await client.execute(uri: "/v1/events", method: .post, headers: headers, body: event) { response in
                    #expect(response.status == status)
                }
            }
            try await client.execute(uri: "/v1/models/reload", method: .post, headers: [apiKey: Self.writeKey]) {
                #expect($0.status == .forbidden)
            }
            // A newer version directory is picked up; a corrupt newer one is refused and v2 keeps serving.
            let ease = try TrainedModel(training: try ConfiguredModel("ease"), on: Self.dataset)
            try ease.save(to: folder.path + "/models/v2")
            let reloaded = try await client.execute(
                uri: "/v1/models/reload", method: .post, headers: [apiKey: Self.adminKey])
            #expect(reloaded.status == .ok)
            #expect((try Self.object(reloaded)["active"] as? [String: Any])?["version"] as? String == "v2")
            try FileManager.default.copyItem(atPath: folder.path + "/models/v2", toPath: folder.path + "/models/v3")
            try Data("not safetensors".utf8).write(
                to: URL(fileURLWithPath: folder.path + "/models/v3/weights.safetensors"))
            let refused = try await client.execute(
                uri: "/v1/models/reload", method: .post, headers: [apiKey: Self.adminKey])
            #expect(refused.status == .conflict)
            #expect((try Self.object(refused)["error"] as? [String: Any])?["code"] as? String == "reload_refused")
            try await client.execute(uri: "/v1/models", method: .get) { response in
                let active = try Self.object(response)["active"] as? [String: Any]
                #expect(active?["version"] as? String == "v2" && active?["kind"] as? String == "ease")
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"reckit_http_requests_total{route="/v1/events",method="POST",status="201"} 2"#))
                #expect(text.contains(#"reckit_http_requests_total{route="/v1/events",method="POST",status="401"} 1"#))
                #expect(text.contains("reckit_events_stored_total 2"))
                #expect(text.contains(#"reckit_model_loaded_timestamp_seconds{version="v2",kind="ease"}"#))
            }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok && String(buffer: response.body).contains("<title>RecKit</title>"))
            }
        }
    }

    @Test func everyRouteIsInTheOpenAPIDocument() async throws {
        let folder = TemporaryDirectory()
        let server = try server(folder)
        let document = try await application(server).test(.router) { client in
            let response = try await client.execute(uri: "/openapi.yaml", method: .get)
            #expect(response.status == .ok)
            return String(buffer: response.body)
        }
        #expect(document.hasPrefix("openapi: 3.1.0"))
        // Every route the server answers (the one list its router is built from), but the document
        // itself and the page.
        let routes = Set(server.routes.map(\.path)).subtracting(["/openapi.yaml", "/"])
        #expect(routes.count >= 11)
        for route in routes {
            #expect(document.contains("\n  \(route):\n"), "\(route) is not in openapi.yaml")
        }
    }

    @Test func keyFilesAreCheckedLineByLine() throws {
        let folder = TemporaryDirectory()
        let good = folder.write("keys.txt", "# keys\nwrite \(Self.writeKey)\nadmin \(Self.adminKey)\n")
        #expect(try APIKeys.read(good) == APIKeys(write: [Self.writeKey], admin: [Self.adminKey]))
        let bad = folder.write("bad.txt", "write \(Self.writeKey)\nroot short\n")
        #expect { try APIKeys.read(bad) } throws: { "\($0)".contains("bad.txt:2:") }
    }

    /// The hand-written recommendation JSON says what JSONEncoder would, escapes included.
    @Test func recommendationJSONIsWhatTheEncoderWouldWrite() throws {
        let tricky = "a \"quoted\" \\ title,\n\ttab \u{01} é ☃ 🎬"
        let response = RecKitServer.Recommendations(
            user: "u\"1", path: "fold-in", modelVersion: "v1",
            items: [
                .init(item: "i1", score: 1.25, rank: 1, title: tricky),
                .init(item: "i2", score: -0.5, rank: 2, title: nil),
                .init(item: "i3", score: .infinity, rank: 3, title: nil),
            ], unknownItems: ["x", "y\u{1F}"], ignored: ["context"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.json)) as? [String: Any])
        let items = try #require(object["items"] as? [[String: Any]])
        #expect(items[0]["title"] as? String == tricky && items[0]["score"] as? Double == 1.25)
        #expect(items[1]["title"] == nil && items[1]["rank"] as? Int == 2 && items[1]["score"] as? Double == -0.5)
        #expect((items[2]["score"] as? Double).map { Float($0) } == Float.greatestFiniteMagnitude)
        #expect(object["user"] as? String == "u\"1" && object["unknown_items"] as? [String] == ["x", "y\u{1F}"])
        #expect(object["ignored"] as? [String] == ["context"] && object["model_version"] as? String == "v1")
        #expect(Set(object.keys) == ["ignored", "items", "model_version", "path", "unknown_items", "user"])
    }
}
