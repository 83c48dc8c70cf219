import Foundation
import Hummingbird
import Prometheus

/// The server's Prometheus metrics, in a registry of its own (two servers in one process, as in the
/// tests, never mix their counts): requests by route, method and status, request latency by route,
/// events stored, fold-ins, answers by policy path, and the served model's version.
public final class ServeMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .seconds(1),
    ]

    public init() {}

    func requestEnded(route: String, method: String, status: Int, nanoseconds: Int64) {
        registry.makeCounter(
            name: "reckit_http_requests_total",
            labels: [("route", route), ("method", method), ("status", "\(status)")],
            help: "HTTP requests answered, by route, method and status"
        ).increment()
        registry.makeDurationHistogram(
            name: "reckit_http_request_duration_seconds", labels: [("route", route)], buckets: Self.latencyBuckets,
            help: "Time from a request's arrival to its response, by route"
        ).recordNanoseconds(nanoseconds)
    }

    func answered(path: String) {
        registry.makeCounter(
            name: "reckit_recommendations_total", labels: [("path", path)],
            help: "Recommendation answers by the cold-start policy's path (model, fold-in, similar-items, ...)"
        ).increment()
    }

    func eventsStored(_ count: Int) {
        registry.makeCounter(name: "reckit_events_stored_total", help: "Events stored (acknowledged with a 2xx)")
            .increment(by: Int64(count))
    }

    func modelLoaded(_ served: ServedModel) {
        registry.makeGauge(
            name: "reckit_model_loaded_timestamp_seconds",
            labels: [("version", served.version), ("kind", served.trained.kind)],
            help: "When each served model version was loaded (the greatest is the active one)"
        ).set(served.loadedAt.timeIntervalSince1970)
    }

    public func text() -> String { registry.emitToString() }
}

/// Counts and times every request under its route pattern (`/v1/items/{id}/similar`, not each ID).
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServeMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let start = DispatchTime.now().uptimeNanoseconds
        func record(_ status: HTTPResponse.Status) {
            metrics.requestEnded(
                route: context.endpointPath ?? "unmatched", method: "\(request.method)", status: status.code,
                nanoseconds: Int64(DispatchTime.now().uptimeNanoseconds - start))
        }
        do {
            let response = try await next(request, context)
            record(response.status)
            return response
        } catch let error as any HTTPResponseError {
            record(error.status)
            throw error
        } catch {
            record(.internalServerError)
            throw error
        }
    }
}
