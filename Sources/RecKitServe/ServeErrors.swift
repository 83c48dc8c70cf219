import Foundation
import Hummingbird

/// Every error the API returns: a status, a stable machine-readable `code` and a message for people,
/// as `{"error": {"code": "unknown_item", "message": "..."}}`.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// Headers the response carries besides its JSON type (`Allow` on a 405).
    public let headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try RecKitServer.encoder.encode(["error": ["code": code, "message": message]])
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
}

/// Turns every error a route throws into the API's JSON error (Hummingbird's own, such as an unknown
/// route's 404, included); an unexpected error is a 500 with a generic message, logged in full.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The routes served, method and path pattern (`{id}` matches one segment): a path served for
    /// other methods only is a 405 with `Allow`, not a 404.
    let routes: [(method: String, pattern: String)]

    func allowedMethods(for path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return routes.filter { route in
            let pattern = route.pattern.split(separator: "/", omittingEmptySubsequences: false)
            return pattern.count == segments.count
                && zip(pattern, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }.map(\.method)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as any HTTPResponseError {
            let allowed = allowedMethods(for: request.uri.path)
            if error.status == .notFound, !allowed.isEmpty {
                throw APIError(
                    .methodNotAllowed, "method_not_allowed",
                    "\(request.method) is not served at \(request.uri.path); use \(allowed.joined(separator: ", "))",
                    headers: [.allow: allowed.joined(separator: ", ")])
            }
            let code = error.status == .notFound ? "not_found" : "http_\(error.status.code)"
            let message =
                error.status == .notFound
                ? "no such route: \(request.method) \(request.uri.path)" : "\(error.status.reasonPhrase)"
            throw APIError(error.status, code, message)
        } catch {
            context.logger.error("\(request.method) \(request.uri.path): \(error)")
            throw APIError(.internalServerError, "internal", "the server failed to answer; see its log")
        }
    }
}
