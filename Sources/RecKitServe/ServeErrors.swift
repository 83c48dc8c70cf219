import Foundation
import Hummingbird

/// Every error the API returns: a status, a stable machine-readable `code` and a message for people,
/// as `{"error": {"code": "unknown_item", "message": "..."}}`.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try RecKitServer.encoder.encode(["error": ["code": code, "message": message]])
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
}

/// Turns every error a route throws into the API's JSON error (Hummingbird's own, such as an unknown
/// route's 404, included); an unexpected error is a 500 with a generic message, logged in full.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as any HTTPResponseError {
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
