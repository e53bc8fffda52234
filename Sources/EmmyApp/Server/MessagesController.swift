import Foundation
import Hummingbird
import NIOCore

/// `POST /messages` (JSON) and `POST /upload` (multipart CSV): the seed's ingest API.
struct MessagesController: Sendable {
    let ingest: IngestService
    var config: ServerConfig { ingest.config }

    func add(to router: Router<AppRequestContext>) {
        router.post("/messages", use: messages)
        router.post("/upload", use: upload)
    }

    /// The answer to an ingest: the seed's fields, plus why each rejected contact was refused.
    struct IngestResponse: Encodable {
        var batchId: String
        var accepted: Int
        var rejected: Int
        var duplicates: Int
        var message: String
        var errors: [ErrorItem]
        var errorsTruncated: Bool

        struct ErrorItem: Encodable {
            var index: Int?
            var row: Int?
            var field: String
            var kind: String
            var reason: String
        }

        init(_ summary: BatchSummary, source: BatchIngest.Source) {
            batchId = summary.batchID
            accepted = summary.accepted
            rejected = summary.rejected
            duplicates = summary.duplicates
            message = summary.message
            errorsTruncated = summary.errorsTruncated
            errors = summary.errors.map { error in
                ErrorItem(index: source == .json ? error.position : nil, row: source == .csv ? error.position : nil,
                          field: error.field, kind: error.kind.rawValue, reason: error.reason)
            }
        }
    }

    @Sendable func messages(_ request: Request, context: AppRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        // JSON only: a text/plain body is what a cross-site page can post without a preflight.
        let type = WebGuardMiddleware.mediaType(request.headers[.contentType])
        guard type == "application/json" || type.hasSuffix("+json") else {
            throw APIError(.unsupportedMediaType, code: "not_json", "send the contacts as JSON with `Content-Type: application/json`")
        }
        let body = try await readBody(request)
        let payload = try Self.decode(body)
        guard !payload.contacts.isEmpty else { throw APIError.badRequest("no_contacts", "contacts must not be empty", field: "contacts") }
        guard payload.contacts.count <= config.limits.contactsPerRequest else { throw tooManyContacts }
        let options = try ingest.options(template: payload.message, region: payload.defaultRegion, phoneField: payload.phoneField)
        let contacts = payload.contacts.enumerated().map { index, contact in
            ContactInput(position: index, values: contact.values, raw: .object(contact.values),
                         problem: problem(index: index, contact: contact))
        }
        let batch = try await ingest.begin(options, source: .json, client: context.peer)
        for start in stride(from: 0, to: contacts.count, by: 5000) {
            try await batch.add(Array(contacts[start..<min(contacts.count, start + 5000)]))
        }
        let summary = try await ingest.finish(batch, source: .json, started: started, logger: context.logger)
        return try jsonResponse(IngestResponse(summary, source: .json), status: .accepted)
    }

    private var tooManyContacts: APIError {
        APIError(.contentTooLarge, code: "too_many_contacts",
                 "at most \(config.limits.contactsPerRequest) contacts per request; split the list", field: "contacts")
    }

    /// Collects the body, counting contacts as it streams in: a body over either cap is
    /// refused (413) at the first byte or contact past it, before any contact is built.
    func readBody(_ request: Request) async throws -> ByteBuffer {
        var counter = MessagesRequestContactCounter()
        var body = ByteBuffer()
        // One allocation for the declared size instead of doubling copies (a 64 MB body would
        // briefly take 96 MB); untouched pages of an overstated length cost no memory.
        if let declared = request.headers[.contentLength].flatMap(Int.init) {
            body.reserveCapacity(max(0, min(declared, config.limits.jsonBodyBytes)))
        }
        for try await chunk in request.body {
            guard body.readableBytes + chunk.readableBytes <= config.limits.jsonBodyBytes else {
                throw APIError(.contentTooLarge, code: "body_too_large", "the body is larger than \(config.limits.jsonBodyBytes) bytes", field: "contacts")
            }
            chunk.withUnsafeReadableBytes { counter.feed($0) }
            guard counter.contacts <= config.limits.contactsPerRequest else { throw tooManyContacts }
            body.writeImmutableBuffer(chunk)
        }
        return body
    }

    /// The fast reader for well-formed requests; `JSONDecoder` for the rest, to name what is wrong.
    static func decode(_ body: ByteBuffer) throws -> MessagesRequest {
        if let request = body.withUnsafeReadableBytes(MessagesRequestParser.parse) { return request }
        do {
            return try JSONDecoder().decode(MessagesRequest.self, from: Data(buffer: body))
        } catch let error as DecodingError {
            throw APIError.badRequest("invalid_body", error.summary, field: error.fieldPath.isEmpty ? nil : error.fieldPath)
        }
    }

    private func problem(index: Int, contact: MessagesRequest.Contact) -> RowError? {
        if let field = contact.unusable.first {
            return RowError(position: index, field: field, kind: .malformedRow, reason: "`\(field)` must be text or a number")
        }
        if let (field, _) = contact.values.first(where: { $0.value.utf8.count > config.limits.fieldBytes }) {
            return RowError(position: index, field: field, kind: .tooLong, reason: "`\(field)` is longer than \(config.limits.fieldBytes) bytes")
        }
        return nil
    }
}
