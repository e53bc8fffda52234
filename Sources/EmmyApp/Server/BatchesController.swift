import Foundation
import GRDB
import HTTPTypes
import Hummingbird

/// Read API over batches and messages, paged by cursor (the last id seen).
struct BatchesController: Sendable {
    let database: AppDatabase

    func add(to router: Router<AppRequestContext>) {
        router.get("/api/batches", use: list)
        router.get("/api/batches/:id", use: batch)
        router.get("/api/batches/:id/rejected.csv", use: rejectedCSV)
        router.get("/api/messages", use: messages)
    }

    struct BatchItem: Encodable {
        var id: String
        var createdAt: Date
        var source: String
        var template: String
        var accepted: Int
        var rejected: Int
        var duplicates: Int
        var complete: Bool
        /// True when the server died while ingesting it: closed at the next start, with the
        /// counts of the rows it had stored (see `AppDatabase.closeInterruptedBatches`).
        var interrupted: Bool
        /// The uploaded file's name (CSV batches).
        var fileName: String?
        var statuses: [String: Int]?
    }

    static func item(_ row: Row) -> BatchItem {
        BatchItem(id: row["id"], createdAt: Date(timeIntervalSince1970: row["created_at"]), source: row["source"], template: row["template"],
                  accepted: row["accepted"], rejected: row["rejected"], duplicates: row["duplicates"], complete: row["complete"],
                  interrupted: row["interrupted"], fileName: row["file_name"])
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
        let items = try await database.read { db in
            let rows = try before.map { cursor in
                try Row.fetchAll(db, sql: """
                    SELECT * FROM batch WHERE (created_at, id) < (SELECT created_at, id FROM batch WHERE id = ?)
                    ORDER BY created_at DESC, id DESC LIMIT ?
                    """, arguments: [cursor, limit])
            } ?? Row.fetchAll(db, sql: "SELECT * FROM batch ORDER BY created_at DESC, id DESC LIMIT ?", arguments: [limit])
            return rows.map(Self.item)
        }
        struct Page: Encodable { var batches: [BatchItem]; var nextCursor: String? }
        return try jsonResponse(Page(batches: items, nextCursor: items.count == limit ? items.last?.id : nil))
    }

    @Sendable func batch(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let item: BatchItem? = try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM batch WHERE id = ?", arguments: [id]) else { return nil }
            var item = Self.item(row)
            var statuses: [String: Int] = [:]
            for count in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM message WHERE batch_id = ? GROUP BY status", arguments: [id]) {
                statuses[count["status"]] = count["n"]
            }
            item.statuses = statuses
            return item
        }
        guard let item else { throw APIError(.notFound, code: "no_such_batch", "no batch \(id)", field: "id") }
        return try jsonResponse(item)
    }

    static let statuses = Set(MessageStatus.allCases.map(\.rawValue))

    struct MessageItem: Encodable {
        var id: Int64
        var batchId: String
        var row: Int
        var phone: String
        var body: String
        var encoding: String
        var segments: Int
        var status: String
        var createdAt: Date
        var updatedAt: Date
        var attempts: Int
        var providerId: String?
        var errorCode: String?
        var errorMessage: String?
    }

    @Sendable func messages(_ request: Request, context: AppRequestContext) async throws -> Response {
        let limit = try limit(request)
        let query = request.uri.queryParameters
        let batch = query["batch"].map(String.init)
        let status = query["status"].map(String.init)
        if let status, !Self.statuses.contains(status) {
            throw APIError.badRequest("invalid_status", "status must be one of \(Self.statuses.sorted().joined(separator: ", "))", field: "status")
        }
        var cursor: Int64 = 0
        if let text = query["cursor"] {
            guard let value = Int64(text), value >= 0 else { throw APIError.badRequest("invalid_cursor", "cursor must be a message id", field: "cursor") }
            cursor = value
        }
        let after = cursor
        let items = try await database.read { db in
            var sql = "SELECT * FROM message WHERE id > ?"
            var arguments: StatementArguments = [after]
            if let batch { sql += " AND batch_id = ?"; arguments += [batch] }
            if let status { sql += " AND status = ?"; arguments += [status] }
            sql += " ORDER BY id LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                MessageItem(id: row["id"], batchId: row["batch_id"], row: row["row"], phone: row["phone"], body: row["body"],
                            encoding: row["encoding"], segments: row["segments"], status: row["status"],
                            createdAt: Date(timeIntervalSince1970: row["created_at"]), updatedAt: Date(timeIntervalSince1970: row["updated_at"]),
                            attempts: row["attempts"], providerId: row["provider_id"], errorCode: row["error_code"], errorMessage: row["error_message"])
            }
        }
        struct Page: Encodable { var messages: [MessageItem]; var nextCursor: String? }
        return try jsonResponse(Page(messages: items, nextCursor: items.count == limit ? items.last.map { String($0.id) } : nil))
    }

    /// Every rejected contact of a batch with its reason, as CSV a spreadsheet opens safely.
    @Sendable func rejectedCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let download: CSVDownload? = try await database.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM batch WHERE id = ?", arguments: [id]) == true else { return nil }
            let download = try CSVDownload(header: ["row", "field", "kind", "reason", "original"])
            let rows = try Row.fetchCursor(db, sql: "SELECT row, field, kind, reason, raw FROM rejection WHERE batch_id = ? ORDER BY row, id",
                                           arguments: [id])
            while let row = try rows.next() {
                try download.add(["\(row["row"] as Int)", row["field"], row["kind"], row["reason"], row["raw"]])
            }
            return download
        }
        guard let download else { throw APIError(.notFound, code: "no_such_batch", "no batch \(id)", field: "id") }
        return try download.response(filename: "rejected-\(id).csv")
    }
}
