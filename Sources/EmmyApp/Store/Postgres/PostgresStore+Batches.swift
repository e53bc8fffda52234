import Foundation
import Logging
import PostgresNIO

/// Reads of batches, their messages and rejections on PostgreSQL, for the API and the web
/// pages alike: the SQLite engine's queries (AppDatabase+Batches.swift) in this dialect.
extension PostgresStore {
    static let batchColumns = "id, created_at, source, template, accepted, rejected, duplicates, complete, interrupted, file_name"

    public func batches(limit: Int, before: String?, withStatuses: Bool) async throws -> [BatchRecord] {
        var binds = PostgresBindings()
        var sql = "SELECT \(Self.batchColumns) FROM batch"
        if let before {
            binds.append(before)
            sql += " WHERE (created_at, id) < (SELECT created_at, id FROM batch WHERE id = $1)"
        }
        binds.append(limit)
        sql += " ORDER BY created_at DESC, id DESC LIMIT $\(binds.count)"
        var batches = try await Self.batchRecords(engine.client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger))
        if withStatuses { try await addStatuses(to: &batches) }
        return batches
    }

    public func batch(id: String) async throws -> BatchRecord? {
        var batches = try await Self.batchRecords(engine.client.query("SELECT \(unescaped: Self.batchColumns) FROM batch WHERE id = \(id)",
                                                                      logger: logger))
        try await addStatuses(to: &batches)
        return batches.first
    }

    private static func batchRecords(_ rows: PostgresRowSequence) async throws -> [BatchRecord] {
        try await rows.decode((String, Date, String, String, Int, Int, Int, Bool, Bool, String?).self).array().map {
            BatchRecord(id: $0.0, createdAt: $0.1, source: $0.2, template: $0.3, accepted: $0.4, rejected: $0.5, duplicates: $0.6,
                        complete: $0.7, interrupted: $0.8, fileName: $0.9)
        }
    }

    /// Counts by status and segments for all of them in one query.
    private func addStatuses(to batches: inout [BatchRecord]) async throws {
        guard !batches.isEmpty else { return }
        var statuses: [String: [String: Int]] = [:]
        var segments: [String: Int] = [:]
        for try await (batchID, status, count, sum) in try await engine.client.query("""
            SELECT batch_id, status, count(*), coalesce(sum(segments), 0) FROM message WHERE batch_id = ANY(\(batches.map(\.id)))
            GROUP BY batch_id, status
            """, logger: logger).decode((String, String, Int, Int).self) {
            statuses[batchID, default: [:]][status] = count
            segments[batchID, default: 0] += sum
        }
        for index in batches.indices {
            batches[index].statuses = statuses[batches[index].id] ?? [:]
            batches[index].segments = segments[batches[index].id] ?? 0
        }
    }

    public func messages(_ query: MessageQuery) async throws -> [MessageRecord] {
        var found: [MessageRecord] = []
        for try await row in try await engine.client.query(Self.messageQuery(query), logger: logger) { found.append(try Self.messageRecord(row)) }
        return found
    }

    /// Rows stream from the server as `body` takes them (postgres-nio asks for more as the
    /// sequence is consumed), so a download of any size holds a few rows at a time.
    public func forEachMessage(_ query: MessageQuery, _ body: @escaping @Sendable (MessageRecord) throws -> Void) async throws {
        for try await row in try await engine.client.query(Self.messageQuery(query), logger: logger) { try body(try Self.messageRecord(row)) }
    }

    private static func messageQuery(_ query: MessageQuery) -> PostgresQuery {
        var conditions: [String] = []
        var binds = PostgresBindings()
        if let batch = query.batchID {
            binds.append(batch)
            conditions.append("batch_id = $\(binds.count)")
        }
        if let statuses = query.statuses {
            binds.append(statuses.map(\.rawValue))
            conditions.append("status = ANY($\(binds.count))")
        }
        if query.afterID > 0 {
            binds.append(query.afterID)
            conditions.append("id > $\(binds.count)")
        }
        var sql = "SELECT id, batch_id, row, phone, body, encoding, segments, status, created_at, updated_at, attempts, provider_id, error_code, error_message FROM message"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        switch query.order {
        case .id: sql += " ORDER BY id"
        case .row: sql += " ORDER BY row, id"
        case .lastUpdated: sql += " ORDER BY updated_at DESC"
        }
        if let limit = query.limit {
            binds.append(limit)
            sql += " LIMIT $\(binds.count)"
        }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    private static func messageRecord(_ row: PostgresRow) throws -> MessageRecord {
        let (id, batchID, position, phone, body, encoding, segments, status, createdAt, updatedAt, attempts, providerID, errorCode, errorMessage)
            = try row.decode((Int64, String, Int, String, String, String, Int, String, Date, Date, Int, String?, String?, String?).self)
        return MessageRecord(id: id, batchId: batchID, row: position, phone: phone, body: body, encoding: encoding, segments: segments,
                             status: status, createdAt: createdAt, updatedAt: updatedAt, attempts: attempts, providerId: providerID,
                             errorCode: errorCode, errorMessage: errorMessage)
    }

    public func forEachRejection(batchID: String, _ body: @escaping @Sendable (RejectionRecord) throws -> Void) async throws -> Bool {
        let exists = try await engine.client.query("SELECT EXISTS (SELECT 1 FROM batch WHERE id = \(batchID))", logger: logger)
            .decode(Bool.self).array().first ?? false
        guard exists else { return false }
        for try await row in try await rejectionRows(batchID: batchID, limit: nil) { try body(try Self.rejectionRecord(row)) }
        return true
    }

    public func rejections(batchID: String, limit: Int) async throws -> [RejectionRecord] {
        var found: [RejectionRecord] = []
        for try await row in try await rejectionRows(batchID: batchID, limit: limit) { found.append(try Self.rejectionRecord(row)) }
        return found
    }

    private func rejectionRows(batchID: String, limit: Int?) async throws -> PostgresRowSequence {
        try await engine.client.query("""
            SELECT row, field, kind, reason, raw FROM rejection WHERE batch_id = \(batchID) ORDER BY row, id LIMIT \(limit)
            """, logger: logger)
    }

    private static func rejectionRecord(_ row: PostgresRow) throws -> RejectionRecord {
        let (position, field, kind, reason, raw) = try row.decode((Int, String, String, String, String).self)
        return RejectionRecord(row: position, field: field, kind: kind, reason: reason, original: raw)
    }

    public func batchProgress(id: String, since: Date) async throws -> BatchProgress {
        var progress = BatchProgress()
        let counts = try await engine.client.query("""
            SELECT count(*) FILTER (WHERE status = 'queued'),
                   count(*) FILTER (WHERE status = 'sending' AND claimed_by IS NULL),
                   count(*) FILTER (WHERE status NOT IN ('queued', 'sending') AND updated_at >= \(since))
            FROM message WHERE batch_id = \(id)
            """, logger: logger).decode((Int, Int, Int).self).array().first
        (progress.queued, progress.retrying, progress.finishedInWindow) = counts ?? (0, 0, 0)
        progress.claimedIDs = try await engine.client.query("""
            SELECT id FROM message WHERE batch_id = \(id) AND status = 'sending' AND claimed_by IS NOT NULL ORDER BY id
            """, logger: logger).decode(Int64.self).array()
        return progress
    }
}
