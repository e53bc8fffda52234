import Foundation
import HTTPTypes
import Hummingbird

/// Read API over batches and messages, paged by cursor (the last id seen).
struct BatchesController: Sendable {
    let database: any AppStore

    func add(to router: Router<AppRequestContext>) {
        router.get("/api/batches", use: list)
        router.get("/api/batches/:id", use: batch)
        router.get("/api/batches/:id/rejected.csv", use: rejectedCSV)
        router.get("/api/messages", use: messages)
    }

    func limit(_ request: Request, default value: Int = 50) throws -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return value }
        guard let limit = Int(text), (1...1000).contains(limit) else {
            throw APIError.badRequest("invalid_limit", "limit must be a number from 1 to 1000", field: "limit")
        }
        return limit
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let limit = try limit(request)
        let before = request.uri.queryParameters["cursor"].map(String.init)
        let items = try await database.batches(limit: limit, before: before, withStatuses: false)
        struct Page: Encodable { var batches: [BatchRecord]; var nextCursor: String? }
        return try jsonResponse(Page(batches: items, nextCursor: items.count == limit ? items.last?.id : nil))
    }

    @Sendable func batch(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let item = try await database.batch(id: id) else { throw APIError(.notFound, code: "no_such_batch", "no batch \(id)", field: "id") }
        return try jsonResponse(item)
    }

    @Sendable func messages(_ request: Request, context: AppRequestContext) async throws -> Response {
        let limit = try limit(request)
        let query = request.uri.queryParameters
        let batch = query["batch"].map(String.init)
        let statuses = try query["status"].map { (word: Substring) throws -> [MessageStatus] in
            guard let status = MessageStatus(rawValue: String(word)) else {
                throw APIError.badRequest("invalid_status", "status must be one of \(MessageStatus.names.sorted().joined(separator: ", "))", field: "status")
            }
            return [status]
        }
        var cursor: Int64 = 0
        if let text = query["cursor"] {
            guard let value = Int64(text), value >= 0 else { throw APIError.badRequest("invalid_cursor", "cursor must be a message id", field: "cursor") }
            cursor = value
        }
        let items = try await database.messages(MessageQuery(batchID: batch, statuses: statuses, afterID: cursor, limit: limit))
        struct Page: Encodable { var messages: [MessageRecord]; var nextCursor: String? }
        return try jsonResponse(Page(messages: items, nextCursor: items.count == limit ? items.last.map { String($0.id) } : nil))
    }

    /// Every rejected contact of a batch with its reason, as CSV a spreadsheet opens safely.
    @Sendable func rejectedCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let download = try CSVDownload(header: ["row", "field", "kind", "reason", "original"])
        let found = try await database.forEachRejection(batchID: id) { rejection in
            try download.add(["\(rejection.row)", rejection.field, rejection.kind, rejection.reason, rejection.original])
        }
        guard found else { throw APIError(.notFound, code: "no_such_batch", "no batch \(id)", field: "id") }
        return try download.response(filename: "rejected-\(id).csv")
    }
}
