import Foundation
import GRDB

/// The send queue on SQLite: message rows.
///
/// A claimed message is `sending` with `claimed_by` set to the claiming run. A retry waits as
/// `sending` with `claimed_by` NULL and a `next_attempt_at`, so no status ever moves back to
/// `queued`. A message still claimed by another run was cut off by a crash: it is marked
/// `in_doubt` and looked up at the provider (where possible) before it is sent again.
extension AppDatabase {
    public func recoverInDoubt(runID: String) async throws -> Int {
        try await writer.write { db in
            try db.execute(sql: "UPDATE message SET claimed_by = NULL, in_doubt = 1 WHERE status = 'sending' AND claimed_by IS NOT NULL AND claimed_by != ?",
                           arguments: [runID])
            return db.changesCount
        }
    }

    public func claim(limit: Int, runID: String, now: Date) async throws -> (jobs: [QueueJob], fresh: Int) {
        let time = now.timeIntervalSince1970
        return try await writer.write { db in
            let columns = "id, phone, body, segments, attempts, created_at, in_doubt"
            func jobs(_ rows: [Row]) -> [QueueJob] {
                rows.map { row in
                    QueueJob(message: OutgoingMessage(id: row["id"], to: row["phone"], body: row["body"], segments: row["segments"],
                                                      queuedAt: Date(timeIntervalSince1970: row["created_at"])),
                             attempts: row["attempts"], inDoubt: row["in_doubt"])
                }
            }
            let due = jobs(try Row.fetchAll(db, sql: """
                SELECT \(columns) FROM message WHERE status = 'sending' AND claimed_by IS NULL AND next_attempt_at <= ?
                ORDER BY next_attempt_at LIMIT ?
                """, arguments: [time, limit]))
            let fresh = due.count < limit
                ? jobs(try Row.fetchAll(db, sql: "SELECT \(columns) FROM message WHERE status = 'queued' ORDER BY id LIMIT ?",
                                        arguments: [limit - due.count]))
                : []
            let mark = try db.makeStatement(sql: "UPDATE message SET status = 'sending', claimed_by = ?, updated_at = ? WHERE id = ?")
            for job in due + fresh {
                mark.setUncheckedArguments([runID, time, job.message.id])
                try mark.execute()
            }
            return (due + fresh, fresh.count)
        }
    }

    /// One process owns the file, so no other run can die holding claims while this one runs.
    public var recoveryInterval: Duration? { nil }

    public func heartbeat(runID: String) async throws {}

    public func release(_ ids: [Int64], runID: String) async throws {
        guard !ids.isEmpty else { return }
        try await writer.write { db in
            let statement = try db.makeStatement(sql: "UPDATE message SET claimed_by = NULL WHERE id = ? AND status = 'sending' AND claimed_by = ?")
            for id in ids {
                statement.setUncheckedArguments([id, runID])
                try statement.execute()
            }
        }
    }

    /// One write transaction for many outcomes, so sending does not take the single SQLite
    /// writer away from ingest message by message.
    public func record(_ outcomes: [SendOutcome], now: Date) async throws -> [MessageStatus: Int] {
        guard !outcomes.isEmpty else { return [:] }
        let time = now.timeIntervalSince1970
        return try await writer.write { db in
            var entered: [MessageStatus: Int] = [:]
            let accept = try db.makeStatement(sql: """
                UPDATE message SET status = ?, provider_id = ?, attempts = attempts + ?, claimed_by = NULL, in_doubt = 0,
                    error_code = NULL, error_message = NULL, updated_at = ?
                WHERE id = ? AND status = 'sending'
                """)
            let retry = try db.makeStatement(sql: """
                UPDATE message SET attempts = attempts + ?, claimed_by = NULL, in_doubt = ?, next_attempt_at = ?,
                    error_code = ?, error_message = ?, updated_at = ?
                WHERE id = ? AND status = 'sending'
                """)
            let fail = try db.makeStatement(sql: """
                UPDATE message SET status = 'failed', attempts = attempts + 1, claimed_by = NULL, in_doubt = 0,
                    error_code = ?, error_message = ?, updated_at = ?
                WHERE id = ? AND status = 'sending'
                """)
            var accepted: [Int64] = []
            for outcome in outcomes {
                switch outcome {
                case let .accepted(id, providerID, status, attempted):
                    accept.setUncheckedArguments([status.rawValue, providerID, attempted ? 1 : 0, time, id])
                    try accept.execute()
                    if db.changesCount > 0 { entered[status, default: 0] += 1; accepted.append(id) }
                case let .retry(id, at, code, reason, inDoubt, attempted):
                    retry.setUncheckedArguments([attempted ? 1 : 0, inDoubt, at.timeIntervalSince1970, code, reason, time, id])
                    try retry.execute()
                case let .failed(id, code, reason):
                    fail.setUncheckedArguments([code, reason, time, id])
                    try fail.execute()
                    if db.changesCount > 0 { entered[.failed, default: 0] += 1 }
                }
            }
            // A status callback can beat the write that stored the provider id; apply it now.
            for (status, count) in try Self.applyEarlyCallbacks(accepted, at: time, in: db) { entered[status, default: 0] += count }
            return entered
        }
    }

    private static func applyEarlyCallbacks(_ ids: [Int64], at time: Double, in db: Database) throws -> [MessageStatus: Int] {
        guard !ids.isEmpty, try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM provider_event)") == true else { return [:] }
        var entered: [MessageStatus: Int] = [:]
        for status in [MessageStatus.delivered, .undelivered, .failed] {
            for start in stride(from: 0, to: ids.count, by: 500) {
                let slice = ids[start..<min(ids.count, start + 500)]
                try db.execute(sql: """
                    UPDATE message SET status = ?, updated_at = ?,
                        error_code = (SELECT error_code FROM provider_event e WHERE e.provider_id = message.provider_id AND e.status = ?)
                    WHERE id IN (\(slice.map(String.init).joined(separator: ","))) AND status IN \(MessageStatus.sqlList(status.predecessors))
                      AND EXISTS (SELECT 1 FROM provider_event e WHERE e.provider_id = message.provider_id AND e.status = ?)
                    """, arguments: [status.rawValue, time, status.rawValue, status.rawValue])
                entered[status, default: 0] += db.changesCount
            }
        }
        return entered
    }

    public func applyCallback(providerID: String, status: MessageStatus, errorCode: String?, now: Date) async throws -> CallbackEffect {
        let time = now.timeIntervalSince1970
        return try await writer.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO provider_event (provider_id, status, error_code, received_at) VALUES (?, ?, ?, ?)",
                           arguments: [providerID, status.rawValue, errorCode, time])
            guard db.changesCount > 0 else { return .duplicate }
            guard !status.predecessors.isEmpty else { return .ignored }
            try db.execute(sql: """
                UPDATE message SET status = ?, updated_at = ?, error_code = COALESCE(?, error_code)
                WHERE provider_id = ? AND status IN \(MessageStatus.sqlList(status.predecessors))
                """, arguments: [status.rawValue, time, errorCode, providerID])
            return db.changesCount > 0 ? .moved(status) : .ignored
        }
    }

    public func requeue(messageID: Int64, now: Date) async throws -> RequeueResult {
        let time = now.timeIntervalSince1970
        return try await writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT status, phone FROM message WHERE id = ?", arguments: [messageID]) else {
                return .notFound
            }
            let status: String = row["status"]
            guard MessageStatus.retryable.contains(where: { $0.rawValue == status }) else { return .refused(status: status) }
            if try Self.optedOut([row["phone"]], in: db).isEmpty == false { return .refused(status: "opted_out") }
            try db.execute(sql: Self.requeueSQL + " WHERE id = ?", arguments: [time, messageID])
            return .requeued
        }
    }

    public func requeueFailed(batchID: String, now: Date) async throws -> Int? {
        let time = now.timeIntervalSince1970
        return try await writer.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM batch WHERE id = ?", arguments: [batchID]) == true else { return nil }
            try db.execute(sql: Self.requeueSQL + """
                 WHERE batch_id = ? AND status IN \(MessageStatus.sqlList(MessageStatus.unsuccessful))
                  AND NOT EXISTS (SELECT 1 FROM opt_out o WHERE o.phone = message.phone)
                """, arguments: [time, batchID])
            return db.changesCount
        }
    }

    private static let requeueSQL = """
        UPDATE message SET status = 'queued', attempts = 0, next_attempt_at = 0, claimed_by = NULL, in_doubt = 0,
            provider_id = NULL, error_code = NULL, error_message = NULL, updated_at = ?
        """
}

extension MessageStatus {
    /// SQL list literal, e.g. `('queued', 'sending')`; the words are our own constants.
    static func sqlList(_ statuses: [MessageStatus]) -> String {
        "(" + statuses.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"
    }
}
