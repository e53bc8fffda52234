import Foundation
import GRDB

/// Reads behind the web pages (kept apart from AppDatabase+Queries, which the API and metrics use).
extension AppDatabase {
    struct BatchRow: Sendable {
        var id: String
        var createdAt: Date
        var source: String
        var template: String
        var accepted: Int
        var rejected: Int
        var duplicates: Int
        var complete: Bool
        var statuses: [String: Int]
        var segments: Int
        var fileName: String?

        var total: Int { statuses.values.reduce(0, +) }
        /// Messages no longer waiting to be sent.
        var finished: Int { total - (statuses["queued"] ?? 0) - (statuses["sending"] ?? 0) }
    }

    /// Batches newest first with their counts by status, `limit` after the batch `before`.
    func batchRows(limit: Int, before: String? = nil, id: String? = nil) async throws -> [BatchRow] {
        try await read { db in
            var sql = "SELECT * FROM batch"
            var arguments: StatementArguments = []
            if let id {
                sql += " WHERE id = ?"
                arguments += [id]
            } else if let before {
                sql += " WHERE (created_at, id) < (SELECT created_at, id FROM batch WHERE id = ?)"
                arguments += [before]
            }
            sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
            arguments += [limit]
            var rows = try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                BatchRow(id: row["id"], createdAt: Date(timeIntervalSince1970: row["created_at"]), source: row["source"], template: row["template"],
                         accepted: row["accepted"], rejected: row["rejected"], duplicates: row["duplicates"], complete: row["complete"],
                         statuses: [:], segments: 0, fileName: row["file_name"])
            }
            for index in rows.indices {
                for count in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n, SUM(segments) AS s FROM message WHERE batch_id = ? GROUP BY status",
                                              arguments: [rows[index].id]) {
                    rows[index].statuses[count["status"]] = count["n"]
                    rows[index].segments += count["s"] as Int? ?? 0
                }
            }
            return rows
        }
    }

    struct MessageRow: Sendable {
        var id: Int64
        var row: Int
        var phone: String
        var body: String
        var encoding: String
        var segments: Int
        var status: String
        var updatedAt: Date
    }

    /// One page of a batch's messages (by id, after `cursor`), optionally of one status.
    func messageRows(batch: String, status: String?, after cursor: Int64, limit: Int) async throws -> [MessageRow] {
        try await read { db in
            var sql = "SELECT * FROM message WHERE batch_id = ? AND id > ?"
            var arguments: StatementArguments = [batch, cursor]
            if let status { sql += " AND status = ?"; arguments += [status] }
            sql += " ORDER BY id LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.messageRow)
        }
    }

    static func messageRow(_ row: Row) -> MessageRow {
        MessageRow(id: row["id"], row: row["row"], phone: row["phone"], body: row["body"], encoding: row["encoding"], segments: row["segments"],
                   status: row["status"], updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
    }

    struct RejectionRow: Sendable {
        var row: Int
        var field: String
        var kind: String
        var reason: String
        var original: String
    }

    func rejectionRows(batch: String, limit: Int) async throws -> [RejectionRow] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT row, field, kind, reason, raw FROM rejection WHERE batch_id = ? ORDER BY row, id LIMIT ?",
                             arguments: [batch, limit]).map {
                RejectionRow(row: $0["row"], field: $0["field"], kind: $0["kind"], reason: $0["reason"], original: $0["raw"])
            }
        }
    }

    struct Activity: Sendable {
        /// Messages that reached sent or delivered in the window, per second.
        var sendRate: Double
        /// Failed or undelivered among the messages that finished in the window.
        var errorRatio: Double?
        var window: TimeInterval
        var lastErrors: [MessageRow]
    }

    /// Sending activity over the last `window` seconds, from the messages' own timestamps.
    func activity(window: TimeInterval = 300, now: Date = Date()) async throws -> Activity {
        let since = now.timeIntervalSince1970 - window
        return try await read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT SUM(status IN ('sent', 'delivered')) AS ok, SUM(status IN ('failed', 'undelivered')) AS bad
                FROM message WHERE updated_at >= ? AND status IN ('sent', 'delivered', 'failed', 'undelivered')
                """, arguments: [since])
            let ok: Int = row?["ok"] ?? 0, bad: Int = row?["bad"] ?? 0
            let errors = try Row.fetchAll(db, sql: "SELECT * FROM message WHERE status IN ('failed', 'undelivered') ORDER BY updated_at DESC LIMIT 10")
                .map(Self.messageRow)
            return Activity(sendRate: Double(ok) / window, errorRatio: ok + bad == 0 ? nil : Double(bad) / Double(ok + bad),
                            window: window, lastErrors: errors)
        }
    }
}
