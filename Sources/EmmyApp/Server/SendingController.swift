import Foundation
import Hummingbird
import PhoneNumbers

/// Operator actions on sending: retry a message or a batch's failures, and the opt-out list.
/// Behind auth like every other state-changing endpoint.
struct SendingController: Sendable {
    let database: any AppStore
    let config: ServerConfig

    func add(to router: Router<AppRequestContext>) {
        router.post("/api/messages/:id/retry", use: retryMessage)
        router.post("/api/batches/:id/retry-failed", use: retryFailed)
        router.post("/api/optouts", use: addOptOuts)
    }

    @Sendable func retryMessage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let text = try context.parameters.require("id")
        guard let id = Int64(text) else { throw APIError.badRequest("invalid_id", "message ids are numbers", field: "id") }
        switch try await SendQueue(database: database).requeue(messageID: id) {
        case .requeued:
            struct Requeued: Encodable { var id: Int64; var status: String }
            return try jsonResponse(Requeued(id: id, status: MessageStatus.queued.rawValue), status: .accepted)
        case .notFound:
            throw APIError(.notFound, code: "no_such_message", "no message \(id)", field: "id")
        case .refused(let status):
            let why = status == "opted_out" ? "its number opted out" : "it is \(status); only failed, undelivered or canceled messages are retried"
            throw APIError(.conflict, code: "not_retryable", "message \(id) cannot be retried: \(why)", field: "id")
        }
    }

    @Sendable func retryFailed(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let count = try await SendQueue(database: database).requeueFailed(batchID: id) else {
            throw APIError(.notFound, code: "no_such_batch", "no batch \(id)", field: "id")
        }
        // The batch page's button: a browser goes back to the page, which shows the requeued
        // messages; API clients keep the JSON answer.
        if WebGuardMiddleware.wantsHTML(request) { return WebPages.redirect("/batches/\(id)") }
        struct Requeued: Encodable { var batchId: String; var requeued: Int }
        return try jsonResponse(Requeued(batchId: id, requeued: count), status: .accepted)
    }

    struct OptOutRequest: Decodable {
        var phones: [String]
        var defaultRegion: String?
        enum CodingKeys: String, CodingKey { case phones, defaultRegion = "default_region" }
    }

    /// `{"phones": ["+254712345678", …]}`: every number is validated first; one bad number
    /// refuses the request and names it, so nothing is half-applied.
    @Sendable func addOptOuts(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 4 * 1024 * 1024)
        let payload: OptOutRequest
        do {
            payload = try JSONDecoder().decode(OptOutRequest.self, from: Data(buffer: body))
        } catch {
            throw APIError.badRequest("invalid_body", "send {\"phones\": [\"+254712345678\"]}", field: "phones")
        }
        guard !payload.phones.isEmpty, payload.phones.count <= 100_000 else {
            throw APIError.badRequest("invalid_phones", "phones must list 1 to 100000 numbers", field: "phones")
        }
        let parser = PhoneNumberParser(defaultRegion: payload.defaultRegion?.uppercased() ?? config.defaultRegion)
        var numbers: [String] = []
        for (index, text) in payload.phones.enumerated() {
            switch parser.validate(text) {
            case .success(let number): numbers.append(number.e164)
            case .failure(let error): throw APIError.badRequest("invalid_number", "\(text): \(error)", field: "phones[\(index)]")
            }
        }
        let result = try await OptOutList(database: database).add(numbers, source: "api")
        struct Added: Encodable { var added: Int; var canceled: Int }
        return try jsonResponse(Added(added: result.added, canceled: result.canceled), status: .created)
    }
}
