import Foundation
import HTTPTypes
import Hummingbird
import Logging
import RecKit

/// Who may write: keys for `POST /v1/events` and keys for the admin routes (`POST /v1/models/reload`;
/// an admin key may also write). Read from a file of `write KEY` / `admin KEY` lines (`#` comments).
public struct APIKeys: Sendable, Equatable {
    public var write: Set<String>
    public var admin: Set<String>

    public init(write: Set<String> = [], admin: Set<String> = []) {
        self.write = write
        self.admin = admin
    }

    /// - Throws: `EventStoreError`-like `APIKeysError` naming the file and line of a bad line.
    public static func read(_ path: String) throws -> APIKeys {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw APIKeysError("\(path): cannot be read")
        }
        var keys = APIKeys()
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count == 2, ["write", "admin"].contains(fields[0]), fields[1].count >= 16 else {
                throw APIKeysError(
                    "\(path):\(number + 1): expected `write KEY` or `admin KEY` with a key of 16 or more characters")
            }
            if fields[0] == "admin" { keys.admin.insert(fields[1]) } else { keys.write.insert(fields[1]) }
        }
        guard !keys.write.isEmpty || !keys.admin.isEmpty else { throw APIKeysError("\(path): holds no key") }
        return keys
    }
}

public struct APIKeysError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// `reckit serve`: the JSON API over a served model and an event store, the web page, health and
/// Prometheus metrics. `openapi.yaml` (a resource of this target, served at `/openapi.yaml`) is the
/// contract; the tests check the routes against it.
public struct RecKitServer: Sendable {
    public struct Options: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// Keys for writes and admin routes; nil leaves them open (a local, single-user server).
        public var keys: APIKeys?
        public var policy = RecommendationPolicy()
        /// The largest `k` a request may ask for.
        public var maxK = 1000
        /// The most events one `POST /v1/events` may carry, and items a history may hold.
        public var maxBatch = 10_000
        /// The largest request body, in bytes.
        public var maxBodyBytes = 4 << 20
        /// With a window (seconds), those with nothing known get the items with the most stored
        /// events over that window (`trending`), recounted every `trendingRefresh` seconds.
        public var trendingWindow: Int64?
        public var trendingRefresh: TimeInterval = 10
        public init() {}
    }

    public let slot: ModelSlot
    public let store: any EventStore
    public let options: Options
    public let metrics = ServeMetrics()
    let batcher = UserScoringBatcher()
    let additions = ItemAdditions()
    let trending: TrendingCache?

    public init(slot: ModelSlot, store: any EventStore, options: Options = Options()) {
        self.slot = slot
        self.store = store
        self.options = options
        trending = options.trendingWindow.map { TrendingCache(window: $0, refresh: options.trendingRefresh) }
        metrics.modelLoaded(slot.current)
    }

    /// The application, ready to `runService()` (or to test with HummingbirdTesting).
    public func application(logger: Logger = Logger(label: "reckit.serve")) -> some ApplicationProtocol {
        Application(
            router: router(),
            configuration: ApplicationConfiguration(
                address: .hostname(options.host, port: options.port), serverName: "reckit"),
            logger: logger)
    }

    /// Every route: method, path, handler. The one list the router and the 405 answers are made from.
    typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response
    var routes: [(method: HTTPRequest.Method, path: String, handler: Handler)] {
        [
            (.get, "/v1/recommendations", { request, _ in try await recommendationsForUser(request) }),
            (.post, "/v1/recommendations", { request, _ in try await recommendationsForRequest(request) }),
            (.get, "/v1/items", { request, _ in try searchItems(request) }),
            (.post, "/v1/items", { request, context in try await addItems(request, logger: context.logger) }),
            (
                .get, "/v1/items/{id}/similar",
                { request, context in try similarItems(request, id: context.parameters.get("id") ?? "") }
            ),
            (
                .get, "/v1/users/{id}/explain",
                { request, context in try await explain(request, user: context.parameters.get("id") ?? "") }
            ),
            (.post, "/v1/explain", { request, _ in try await explainHistory(request) }),
            (.post, "/v1/events", { request, _ in try await postEvents(request) }),
            (.get, "/v1/models", { _, _ in try json(["active": slot.current.description]) }),
            (.post, "/v1/models/reload", { request, context in try reload(request, logger: context.logger) }),
            (.get, "/healthz", { _, _ in try json(["status": "ok"]) }),
            (.get, "/readyz", { _, _ in try await ready() }),
            (
                .get, "/metrics",
                { _, _ in
                    Response(
                        status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.text())))
                }
            ),
            (.get, "/openapi.yaml", { _, _ in try resource("openapi.yaml", type: "application/yaml") }),
            (.get, "/", { _, _ in try resource("index.html", type: "text/html; charset=utf-8") }),
        ]
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        let routes = self.routes
        router.middlewares.add(MetricsMiddleware(metrics: metrics))
        router.middlewares.add(JSONErrorMiddleware(routes: routes.map { ("\($0.method)", $0.path) }))
        for route in routes { router.on(RouterPath(route.path), method: route.method, use: route.handler) }
        return router
    }

    // MARK: Recommendations

    /// One recommended item in a response.
    struct Item: Encodable {
        var item: String
        var score: Float
        var rank: Int
        var title: String?
    }

    /// A recommendation response, written by hand (`JSONWriter`): keys in sorted order, as the
    /// server's JSONEncoder writes every other response.
    struct Recommendations {
        var user: String?
        var path: String
        var modelVersion: String
        var items: [Item]
        var unknownItems: [String]
        var ignored: [String]?

        var json: [UInt8] {
            var writer = JSONWriter(capacity: 128 + items.count * 96)
            if let ignored {
                writer.raw("{")
                writer.key("ignored")
                writer.strings(ignored)
                writer.raw(",")
            } else {
                writer.raw("{")
            }
            writer.key("items")
            writer.raw("[")
            for (index, item) in items.enumerated() {
                writer.raw(index == 0 ? "{" : ",{")
                writer.key("item")
                writer.string(item.item)
                writer.raw(",")
                writer.key("rank")
                writer.number(item.rank)
                writer.raw(",")
                writer.key("score")
                writer.number(item.score)
                if let title = item.title {
                    writer.raw(",")
                    writer.key("title")
                    writer.string(title)
                }
                writer.raw("}")
            }
            writer.raw("],")
            writer.key("model_version")
            writer.string(modelVersion)
            writer.raw(",")
            writer.key("path")
            writer.string(path)
            writer.raw(",")
            writer.key("unknown_items")
            writer.strings(unknownItems)
            if let user {
                writer.raw(",")
                writer.key("user")
                writer.string(user)
            }
            writer.raw("}")
            return writer.bytes
        }
    }

    func recommendationsForUser(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        guard let user = query["user"].map(String.init), !user.isEmpty else {
            throw APIError(.badRequest, "missing_user", "give ?user=ID (or POST a history)")
        }
        let k = try count(query["k"].map(String.init), name: "k", default: 10, maximum: options.maxK)
        let excludeSeen = try flag(query["exclude_seen"].map(String.init), name: "exclude_seen", default: true)
        let events = try await store.events(user: user)
        return try await answer(
            RecommendationPolicy.Request(user: user, history: events.map(\.item), k: k, excludeSeen: excludeSeen),
            ignored: nil)
    }

    /// The body of `POST /v1/recommendations`.
    struct RecommendationRequest: Decodable {
        var user: String?
        var history: [String]?
        var session: [String]?
        var userFeatures: [String: String]?
        var context: [String: String]?
        var k: Int?
        var exclude: [String]?
        var excludeSeen: Bool?

        enum CodingKeys: String, CodingKey {
            case user, history, session, userFeatures = "user_features", context, k, exclude
            case excludeSeen = "exclude_seen"
        }
    }

    func recommendationsForRequest(_ request: Request) async throws -> Response {
        let body: RecommendationRequest = try await decode(
            request,
            allowed: ["user", "history", "session", "user_features", "context", "k", "exclude", "exclude_seen"])
        if body.history != nil && body.session != nil {
            throw APIError.badRequest("give history or session, not both")
        }
        let k = body.k ?? 10
        guard (1...options.maxK).contains(k) else { throw APIError.badRequest("k must be in 1...\(options.maxK)") }
        let given = body.session ?? body.history ?? []
        guard given.count <= options.maxBatch, (body.exclude?.count ?? 0) <= options.maxBatch else {
            throw APIError(
                .badRequest, "too_many_items", "at most \(options.maxBatch) items in a history, session or exclude list"
            )
        }
        var history: [String] = []
        if let user = body.user { history = try await store.events(user: user).map(\.item) }
        history += given
        var ignored: [String] = []
        if let features = body.userFeatures {
            if let model = slot.current.trained.model as? any FeatureAwareRecommender {
                let known = Set(model.features.transform.requestSources(.user))
                let unused = features.keys.filter { !known.contains($0) }.sorted()
                if !unused.isEmpty {
                    ignored.append(
                        "user_features \(unused.joined(separator: ", ")) (the served model does not read them)")
                }
            } else {
                ignored.append("user_features (the served model reads no features)")
            }
        }
        if body.context != nil { ignored.append("context (the served model reads no context)") }
        let isSession = body.session != nil
        return try await answer(
            RecommendationPolicy.Request(
                user: body.user, history: history, isSession: isSession, k: k, exclude: body.exclude ?? [],
                excludeSeen: body.excludeSeen ?? !isSession, userFeatures: body.userFeatures ?? [:]),
            ignored: ignored.isEmpty ? nil : ignored)
    }

    func answer(_ request: RecommendationPolicy.Request, ignored: [String]?) async throws -> Response {
        let served = slot.current
        let answer: RecommendationPolicy.Answer
        let trending = await trending?.scores(for: served, store: store)
        switch options.policy.route(request, with: served.trained, trending: trending) {
        case .answered(let computed): answer = computed
        case .userScores(let user, let excluded, let k):
            let list = await batcher.topK(
                model: served.trained.model, generation: served.generation, input: .user(user), excluded: excluded,
                k: k)
            answer = RecommendationPolicy.Answer(
                recommendations: served.trained.recommendations(list), path: .model, unknown: [])
        case .historyScores(let history, let excluded, let k, let unknown):
            let list = await batcher.topK(
                model: served.trained.model, generation: served.generation, input: .history(history),
                excluded: excluded, k: k)
            answer = RecommendationPolicy.Answer(
                recommendations: served.trained.recommendations(list), path: .foldIn, unknown: unknown)
        }
        metrics.answered(path: answer.path.rawValue)
        let body = Recommendations(
            user: request.user, path: answer.path.rawValue, modelVersion: served.version,
            items: answer.recommendations.enumerated().map { rank, item in
                Item(item: item.item, score: item.score, rank: rank + 1, title: item.title)
            }, unknownItems: answer.unknown, ignored: ignored)
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body.json)))
    }

    // MARK: Items

    struct FoundItem: Encodable {
        var item: String
        var title: String?
        var interactions: Int
    }

    /// `GET /v1/items?q=toy+story&k=20`: items whose title (or ID) contains the text, the most popular
    /// first; without `q`, the most popular items.
    func searchItems(_ request: Request) throws -> Response {
        let query = request.uri.queryParameters
        let k = try count(query["k"].map(String.init), name: "k", default: 20, maximum: options.maxK)
        let text = (query["q"].map(String.init) ?? "").replacingOccurrences(of: "+", with: " ")
            .trimmingCharacters(in: .whitespaces)
        let trained = slot.current.trained
        let popularity = trained.popularityScores
        let indices: [Int32]
        if text.isEmpty {
            indices = trained.popular(k: k).compactMap { trained.items.index(of: $0.item) }
        } else {
            var found = trained.itemTitles.map { ItemCatalog(titles: $0).search(title: text) } ?? []
            let needle = text.lowercased()
            let byID = (0..<Int32(trained.items.count)).filter {
                trained.items.id(at: $0).lowercased().contains(needle) && !found.contains($0)
            }
            found += byID.sorted {
                popularity[Int($0)] != popularity[Int($1)] ? popularity[Int($0)] > popularity[Int($1)] : $0 < $1
            }
            indices = Array(found.prefix(k))
        }
        return try json([
            "items": indices.map {
                FoundItem(
                    item: trained.items.id(at: $0), title: trained.title(of: $0), interactions: Int(popularity[Int($0)])
                )
            }
        ])
    }

    struct Similar: Encodable {
        var item: Item
        var modelVersion: String
        var items: [Item]

        enum CodingKeys: String, CodingKey { case item, modelVersion = "model_version", items }
    }

    func similarItems(_ request: Request, id: String) throws -> Response {
        let k = try count(
            request.uri.queryParameters["k"].map(String.init), name: "k", default: 10, maximum: options.maxK)
        let served = slot.current
        guard served.trained.items.index(of: id) != nil else {
            throw APIError(.notFound, "unknown_item", "the model knows no item '\(id)'")
        }
        do {
            let (item, similar) = try served.trained.similar(to: id, k: k)
            return try json(
                Similar(
                    item: Item(item: item.item, score: 1, rank: 0, title: item.title), modelVersion: served.version,
                    items: similar.enumerated().map {
                        Item(item: $1.item, score: $1.score, rank: $0 + 1, title: $1.title)
                    }))
        } catch {
            throw APIError(.unprocessableContent, "no_similarity", "\(error)")
        }
    }

    struct Contribution: Encodable {
        var item: String
        var title: String?
        var contribution: Float
    }

    /// `GET /v1/users/{id}/explain?item=`: the user's items (training items and stored events) that
    /// drove the item's score (iALS).
    func explain(_ request: Request, user: String) async throws -> Response {
        guard let itemID = request.uri.queryParameters["item"].map(String.init), !itemID.isEmpty else {
            throw APIError(.badRequest, "missing_item", "give ?item=ID")
        }
        let trained = slot.current.trained
        let known = trained.users.index(of: user)
        var history: [(item: Int32, value: Float)] = []
        if let known {
            history = zip(trained.seen.columns(inRow: Int(known)), trained.seen.values(inRow: Int(known))).map {
                (item: $0.0, value: $0.1)
            }
        }
        for event in try await store.events(user: user) {
            if let item = trained.items.index(of: event.item) { history.append((item, event.value)) }
        }
        guard known != nil || !history.isEmpty else {
            throw APIError(.notFound, "unknown_user", "the model knows no user '\(user)' and it has no events")
        }
        return try explanation(of: itemID, history: history, k: 5)
    }

    /// `POST /v1/explain` `{history, item, k}`: the items of an ad-hoc history (the page's) that drove
    /// the item's fold-in score.
    func explainHistory(_ request: Request) async throws -> Response {
        struct Body: Decodable {
            var history: [String]
            var item: String
            var k: Int?
        }
        let body: Body = try await decode(request, allowed: ["history", "item", "k"])
        guard body.history.count <= options.maxBatch else {
            throw APIError(.badRequest, "too_many_items", "at most \(options.maxBatch) items in a history")
        }
        let k = body.k ?? 5
        guard (1...100).contains(k) else { throw APIError.badRequest("k must be in 1...100") }
        let items = slot.current.trained.items
        let history = body.history.compactMap { items.index(of: $0) }.map { (item: $0, value: Float(1)) }
        guard !history.isEmpty else { throw APIError(.notFound, "unknown_item", "the model knows no history item") }
        return try explanation(of: body.item, history: history, k: k)
    }

    func explanation(of itemID: String, history: [(item: Int32, value: Float)], k: Int) throws -> Response {
        let trained = slot.current.trained
        guard let als = trained.model as? ImplicitALS else {
            throw APIError(.unprocessableContent, "cannot_explain", "a \(trained.kind) model cannot explain; ials can")
        }
        guard let item = trained.items.index(of: itemID) else {
            throw APIError(.notFound, "unknown_item", "the model knows no item '\(itemID)'")
        }
        let explanation = als.explain(item: item, history: history, k: k)
        return try json([
            "contributions": explanation.contributions.map {
                Contribution(
                    item: trained.items.id(at: $0.index), title: trained.title(of: $0.index), contribution: $0.score)
            }
        ])
    }

    // MARK: Events and models

    struct EventInput: Decodable {
        var user: String
        var item: String
        var value: Double?
        var time: Int64?
    }

    struct EventBatch: Decodable {
        var events: [EventInput]
    }

    func postEvents(_ request: Request) async throws -> Response {
        try authorize(request, admin: false)
        let key = request.headers[HTTPField.Name("Idempotency-Key")!]
        if let key, key.isEmpty || key.count > 200 {
            throw APIError.badRequest("Idempotency-Key must be 1 to 200 characters")
        }
        let batch: EventBatch = try await decode(
            request, allowed: ["events"], nested: ("events", ["user", "item", "value", "time"]))
        guard !batch.events.isEmpty else { throw APIError.badRequest("events is empty") }
        guard batch.events.count <= options.maxBatch else {
            throw APIError(.badRequest, "too_many_items", "at most \(options.maxBatch) events in a batch")
        }
        let now = Int64(Date().timeIntervalSince1970)
        var events: [Event] = []
        events.reserveCapacity(batch.events.count)
        for (index, input) in batch.events.enumerated() {
            guard !input.user.isEmpty, input.user.count <= 256, !input.item.isEmpty, input.item.count <= 256 else {
                throw APIError.badRequest("events[\(index)]: user and item must be 1 to 256 characters")
            }
            let value = input.value ?? 1
            guard value.isFinite, abs(value) <= 3e38 else {
                throw APIError.badRequest("events[\(index)].value must be a number within ±3e38")
            }
            events.append(Event(user: input.user, item: input.item, value: Float(value), time: input.time ?? now))
        }
        let result = try await store.append(events, idempotencyKey: key)
        if !result.duplicate { metrics.eventsStored(result.stored) }
        return try json(result, status: result.duplicate ? .ok : .created)
    }

    /// The body of `POST /v1/items`: brand-new items described by their metadata.
    struct NewItems: Decodable {
        struct NewItem: Decodable {
            var id: String
            var title: String?
            var genres: [String]?
            var tags: [String]?
            var year: Int?
        }
        var items: [NewItem]
    }

    /// `POST /v1/items` (admin key): adds brand-new items to the served model from their metadata
    /// (a model that takes them, `content`), writes the result as a new model version and serves it;
    /// the 201 comes after the version is on disk.
    func addItems(_ request: Request, logger: Logger) async throws -> Response {
        try authorize(request, admin: true)
        let body: NewItems = try await decode(
            request, allowed: ["items"], nested: ("items", ["id", "title", "genres", "tags", "year"]))
        guard !body.items.isEmpty else { throw APIError.badRequest("items is empty") }
        guard body.items.count <= options.maxBatch else {
            throw APIError(.badRequest, "too_many_items", "at most \(options.maxBatch) items at once")
        }
        for (index, item) in body.items.enumerated() {
            let texts = [item.id, item.title ?? ""] + (item.genres ?? []) + (item.tags ?? [])
            guard !item.id.isEmpty, texts.allSatisfy({ $0.count <= 256 }) else {
                throw APIError.badRequest("items[\(index)]: id must be 1 to 256 characters, as must every text")
            }
            if let year = item.year, !(1...9999).contains(year) {
                throw APIError.badRequest("items[\(index)].year must be in 1...9999")
            }
        }
        let titles = body.items.map { $0.title?.trimmingCharacters(in: .whitespaces) }
        let catalog = ItemCatalog(
            titles: titles,
            years: zip(body.items, titles).map { item, title in item.year ?? title.flatMap(ItemCatalog.year(fromTitle:))
            },
            genres: MultiValuedColumn(lists: body.items.map { Self.labels($0.genres) }),
            tags: MultiValuedColumn(lists: body.items.map { Self.labels($0.tags) }))
        let served = try additions.add(ids: body.items.map(\.id), catalog: catalog, to: slot)
        metrics.modelLoaded(served)
        logger.info("added \(body.items.count) items; serving \(served.path)")
        return try json(
            ["added": .array(body.items.map { .string($0.id) }), "active": .object(served.description)]
                as [String: JSONValue], status: .created)
    }

    /// Genres or tags as given, trimmed, without empty ones.
    static func labels(_ given: [String]?) -> [String] {
        (given ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func reload(_ request: Request, logger: Logger) throws -> Response {
        try authorize(request, admin: true)
        do {
            let served = try slot.reload()
            metrics.modelLoaded(served)
            logger.info("model reloaded: \(served.path)")
            return try json(["active": served.description])
        } catch {
            logger.error("reload refused, the old model keeps serving: \(error)")
            throw APIError(.conflict, "reload_refused", "\(error); the old model keeps serving")
        }
    }

    func ready() async throws -> Response {
        do { _ = try await store.count() } catch {
            throw APIError(.serviceUnavailable, "store_unavailable", "the event store does not answer: \(error)")
        }
        return try json(["status": "ready", "model_version": slot.current.version])
    }

    // MARK: Helpers

    func authorize(_ request: Request, admin: Bool) throws {
        guard let keys = options.keys else { return }
        var given = request.headers[HTTPField.Name("X-API-Key")!]
        if given == nil, let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") {
            given = String(authorization.dropFirst("Bearer ".count))
        }
        guard let given, !given.isEmpty else {
            throw APIError(.unauthorized, "missing_key", "this route needs an API key (X-API-Key or Bearer)")
        }
        let allowed = admin ? keys.admin : keys.write.union(keys.admin)
        guard allowed.contains(given) else {
            throw APIError(.forbidden, "forbidden", "the key is not allowed \(admin ? "admin routes" : "to write")")
        }
    }

    /// The body as `T`, after checking that it names no key `T` does not take (`allowed`, and
    /// `nested`: the keys of each object in an array field): a misspelt `histroy` is an error, not an
    /// empty history.
    func decode<T: Decodable>(
        _ request: Request, allowed: Set<String>, nested: (field: String, keys: Set<String>)? = nil
    ) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: options.maxBodyBytes) } catch {
            throw APIError(.contentTooLarge, "too_large", "the body is over \(options.maxBodyBytes) bytes")
        }
        if let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] {
            if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
                throw APIError.badRequest(
                    "unknown field '\(unknown)'; this route takes \(allowed.sorted().joined(separator: ", "))")
            }
            if let nested, let list = object[nested.field] as? [[String: Any]] {
                for (index, entry) in list.enumerated() {
                    if let unknown = entry.keys.sorted().first(where: { !nested.keys.contains($0) }) {
                        throw APIError.badRequest(
                            "\(nested.field)[\(index)]: unknown field '\(unknown)'; an entry takes "
                                + nested.keys.sorted().joined(separator: ", "))
                    }
                }
            }
        }
        do { return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView)) } catch let error
            as DecodingError
        {
            throw APIError.badRequest("the body is not the JSON this route takes: \(Self.describe(error))")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "" : "\(text.hasPrefix(".") ? String(text.dropFirst()) : text): "
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context))\(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context))\(context.debugDescription)"
        case .dataCorrupted(let context): return "\(path(context))\(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    func count(_ text: String?, name: String, default value: Int, maximum: Int) throws -> Int {
        guard let text else { return value }
        guard let number = Int(text), (1...maximum).contains(number) else {
            throw APIError.badRequest("\(name) must be a whole number in 1...\(maximum)")
        }
        return number
    }

    func flag(_ text: String?, name: String, default value: Bool) throws -> Bool {
        guard let text else { return value }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw APIError.badRequest("\(name) must be true or false")
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try Self.encoder.encode(value))))
    }

    func resource(_ name: String, type: String) throws -> Response {
        let parts = name.split(separator: ".")
        guard
            let url = Bundle.module.url(
                forResource: String(parts[0]), withExtension: String(parts[1]), subdirectory: "Resources"),
            let data = try? Data(contentsOf: url)
        else { throw APIError(.notFound, "not_found", "\(name) is missing from this build") }
        return Response(
            status: .ok, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
