import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// One structured log line per request, with a request id that is also returned as
/// `X-Request-Id` (a client-supplied id is kept when it is short and printable). Every 5xx is
/// logged with its cause, and an error that is not an HTTP error is answered as JSON.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        let supplied = request.headers[.requestID].flatMap { $0.count <= 64 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") } ? $0 : nil }
        let id = supplied ?? UUID().uuidString.lowercased()
        context.logger[metadataKey: "request_id"] = .string(id)
        let started = ContinuousClock.now
        var status = 500
        defer {
            context.logger.info("request", metadata: [
                "method": .string(request.method.rawValue),
                "path": .string(request.uri.path),
                "status": .stringConvertible(status),
                "duration_ms": .stringConvertible(((ContinuousClock.now - started).seconds * 1000).rounded()),
                "peer": .string(context.peer),
            ])
        }
        do {
            var response = try await next(request, context)
            response.headers[.requestID] = id
            status = response.status.code
            return response
        } catch let error as any HTTPResponseError {
            status = error.status.code
            if status >= 500 { context.logger.error("request failed", metadata: ["status": "\(status)", "error": "\(error)"]) }
            throw RequestIDError(base: error, id: id)
        } catch {
            // Anything else (a full disk, an unwritable directory, a database fault) would reach
            // Hummingbird as an empty 500: log its cause here, answer JSON that points at the log.
            status = 500
            context.logger.error("request failed", metadata: ["status": "500", "error": "\(error)"])
            throw RequestIDError(base: Self.internalError(id: id), id: id)
        }
    }

    /// The client's view of an unexpected failure: no internals, only where to look.
    static func internalError(id: String) -> APIError {
        APIError(.internalServerError, code: "internal_error",
                 "the server failed to handle this request; its log has the cause under request id \(id)")
    }
}

/// Carries the request id onto error responses too.
struct RequestIDError: HTTPResponseError {
    let base: any HTTPResponseError
    let id: String
    var status: HTTPResponse.Status { base.status }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try base.response(from: request, context: context)
        response.headers[.requestID] = id
        return response
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
}
