import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue`. curl sends it for every body over 1 MB (the README's
/// `curl -F csvFile=@…`) and then waits a full second for `100 Continue` before sending the
/// body; neither NIO nor Hummingbird answers it. The 100 goes out when something first reads
/// the body, so a request refused on its head alone (CSRF guard, rate limit, auth, a wrong
/// content type) gets its final answer instead, and its client never sends the body. A body
/// larger than any route accepts is refused here, from its Content-Length.
struct ExpectContinueMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    /// The largest body any route accepts.
    let maxBodyBytes: Int

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        guard let expectation = request.headers[.expect] else { return try await next(request, context) }
        guard expectation.lowercased() == "100-continue" else {
            throw APIError(.expectationFailed, code: "expectation_failed", "the only expectation understood is `Expect: 100-continue`")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            throw APIError(.contentTooLarge, code: "body_too_large", "the body is larger than \(maxBodyBytes) bytes")
        }
        var request = request
        request.body = RequestBody(asyncSequence: ContinueOnFirstRead(body: request.body, channel: context.channel))
        return try await next(request, context)
    }
}

/// A request body that tells the client to go on (`100 Continue`) when it is first read.
struct ContinueOnFirstRead: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let body: RequestBody
    let channel: any Channel

    struct AsyncIterator: AsyncIteratorProtocol {
        var body: RequestBody.AsyncIterator
        let channel: any Channel
        var continued = false

        mutating func next() async throws -> ByteBuffer? {
            if !continued {
                continued = true
                // Written through the pipeline's tail, as the response writer does; awaited, so
                // it is on the wire before the final response can be.
                try await channel.writeAndFlush(HTTPResponsePart.head(HTTPResponse(status: .continue)))
            }
            return try await body.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(body: body.makeAsyncIterator(), channel: channel)
    }
}
