import Foundation
import GRDB

/// Reads of batches, their messages and rejections, for the API and the web pages alike.
extension AppDatabase {
    /// Batches newest first, `limit` after the batch `before`; with their counts by status and
    /// segments when `withStatuses`.
    public func batches(limit: Int, before: String?, withStatuses: Bool) async throws -> [BatchRecord] {
        try await read { db in
            var sql = "SELECT * FROM batch"
            var arguments: StatementArguments = []
            if let before {
                sql += " WHERE (created_at, id) < (SELECT created_at, id FROM batch WHERE id = ?)"
                arguments += [before]
            }
            sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
            arguments += [limit]
            var batches = try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.batchRecord)
            if withStatuses {
                for index in batches.indices { try Self.addStatuses(to: &batches[index], in: db) }
            }
            return batches
        }
    }

    /// One batch with its counts by status and segments; nil when there is no such batch.
    public func batch(id: String) async throws -> BatchRecord? {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM batch WHERE id = ?", arguments: [id]) else { return nil }
            var batch = Self.batchRecord(row)
            try Self.addStatuses(to: &batch, in: db)
            return batch
        }
    }

    private static func batchRecord(_ row: Row) -> BatchRecord {
        BatchRecord(id: row["id"], createdAt: Date(timeIntervalSince1970: row["created_at"]), source: row["source"], template: row["template"],
                    accepted: row["accepted"], rejected: row["rejected"], duplicates: row["duplicates"], complete: row["complete"],
                    interrupted: row["interrupted"], fileName: row["file_name"])
    }

    private static func addStatuses(to batch: inout BatchRecord, in db: Database) throws {
        var statuses: [String: Int] = [:]
        var segments = 0
        for count in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n, SUM(segments) AS s FROM message WHERE batch_id = ? GROUP BY status",
                                      arguments: [batch.id]) {
            statuses[count["status"]] = count["n"]
            segments += count["s"] as Int? ?? 0
        }
        batch.statuses = statuses
        batch.segments = segments
    }

    /// Messages matching `query`.
    public func messages(_ query: MessageQuery) async throws -> [MessageRecord] {
        try await read { db in
            let (sql, arguments) = Self.messageSQL(query)
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.messageRecord)
        }
    }

    /// Hands each message matching `query` to `body` as it is read, for downloads of any size.
    public func forEachMessage(_ query: MessageQuery, _ body: @escaping @Sendable (MessageRecord) throws -> Void) async throws {
        try await read { db in
            let (sql, arguments) = Self.messageSQL(query)
            let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            while let row = try rows.next() { try body(Self.messageRecord(row)) }
        }
    }

    private static func messageSQL(_ query: MessageQuery) -> (String, StatementArguments) {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let batch = query.batchID { conditions.append("batch_id = ?"); arguments += [batch] }
        if let statuses = query.statuses {
            if statuses.count == 1 {
                conditions.append("status = ?")
                arguments += [statuses[0].rawValue]
            } else {
                conditions.append("status IN \(MessageStatus.sqlList(statuses))")
            }
        }
        if query.afterID > 0 { conditions.append("id > ?"); arguments += [query.afterID] }
        var sql = "SELECT * FROM message"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        switch query.order {
        case .id: sql += " ORDER BY id"
        case .row: sql += " ORDER BY row, id"
        case .lastUpdated: sql += " ORDER BY updated_at DESC"
        }
        if let limit = query.limit { sql += " LIMIT ?"; arguments += [limit] }
        return (sql, arguments)
    }

    private static func messageRecord(_ row: Row) -> MessageRecord {
        MessageRecord(id: row["id"], batchId: row["batch_id"], row: row["row"], phone: row["phone"], body: row["body"],
                      encoding: row["encoding"], segments: row["segments"], status: row["status"],
                      createdAt: Date(timeIntervalSince1970: row["created_at"]), updatedAt: Date(timeIntervalSince1970: row["updated_at"]),
                      attempts: row["attempts"], providerId: row["provider_id"], errorCode: row["error_code"], errorMessage: row["error_message"])
    }

    /// Hands each rejection of a batch (by row) to `body` as it is read; false when there is
    /// no such batch.
    public func forEachRejection(batchID: String, _ body: @escaping @Sendable (RejectionRecord) throws -> Void) async throws -> Bool {
        try await read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM batch WHERE id = ?", arguments: [batchID]) == true else { return false }
            try Self.eachRejection(batchID: batchID, limit: nil, in: db, body)
            return true
        }
    }

    /// The first `limit` rejections of a batch, by row.
    public func rejections(batchID: String, limit: Int) async throws -> [RejectionRecord] {
        try await read { db in
            var found: [RejectionRecord] = []
            try Self.eachRejection(batchID: batchID, limit: limit, in: db) { found.append($0) }
            return found
        }
    }

    private static func eachRejection(batchID: String, limit: Int?, in db: Database, _ body: (RejectionRecord) throws -> Void) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT row, field, kind, reason, raw FROM rejection WHERE batch_id = ? ORDER BY row, id LIMIT ?",
                                       arguments: [batchID, limit ?? -1])
        while let row = try rows.next() {
            try body(RejectionRecord(row: row["row"], field: row["field"], kind: row["kind"], reason: row["reason"], original: row["raw"]))
        }
    }
}
