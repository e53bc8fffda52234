import Foundation
import Logging
import PostgresNIO

/// Ingest's writes on PostgreSQL: the batch row, and each chunk of validated contacts in one
/// transaction of three statements whatever its size, with the rows passed as arrays
/// (`unnest`), so a 40,000-row chunk costs three round trips, not 40,000.
///
/// Duplicates across batches, and across replicas ingesting at the same moment, are decided by
/// an upsert on `dedupe_entry`: a pair is queued only when its entry is new or older than the
/// window, and a concurrent insert of the same pair waits on PostgreSQL's row lock and then
/// sees the winner's entry. Opt-outs and ingest exclude each other through one advisory lock
/// (ingests share it, an opt-out takes it alone), so a STOP either lands before a chunk
/// (which then refuses the number) or after it (and cancels what the chunk queued).
public struct PostgresIngestStore: Sendable {
    let engine: PostgresEngine

    public init(engine: PostgresEngine) { self.engine = engine }

    /// Records the batch before any row, as the SQLite engine does: a crash mid-upload leaves
    /// an incomplete batch whose stored rows are visible and sendable.
    public func createBatch(id: String, source: BatchIngest.Source, template: String, client: String?, fileName: String?,
                            at now: Date) async throws {
        try await engine.client.query("""
            INSERT INTO batch (id, created_at, source, template, client, file_name)
            VALUES (\(id), \(now), \(source.rawValue), \(template), \(client), \(NewBatch.cleanFileName(fileName)))
            """, logger: engine.logger)
    }

    /// A contact refused before the database was asked, with the text the client sent.
    public struct Rejection: Sendable {
        public var error: RowError
        public var raw: String
        public init(error: RowError, raw: String) {
            self.error = error
            self.raw = raw
        }
    }

    /// What one chunk did: how many messages were queued, and every contact refused (those
    /// given plus the duplicates and opted-out numbers found now), in row order.
    public struct ChunkOutcome: Sendable {
        public var queued: Int
        public var errors: [RowError]
    }

    /// Stores one chunk: queues the messages whose number is not opted out and whose text did
    /// not go to that number within `dedupeWindow` (0 turns the check off), and records every
    /// rejection. `messages` hold distinct numbers (in-batch duplicates are screened earlier).
    public func storeChunk(batchID: String, messages: [ValidatedMessage], rejections known: [Rejection], dedupeWindow: TimeInterval,
                           phoneField: String, now: Date) async throws -> ChunkOutcome {
        let logger = engine.logger
        return try await engine.transaction { connection in
            try await connection.run("SELECT pg_advisory_xact_lock_shared(\(PostgresOptOuts.lockKey))", logger: logger)
            let optedOut = Set(try await connection.run("SELECT phone FROM opt_out WHERE phone = ANY(\(messages.map(\.phone)))", logger: logger)
                .decode(String.self).array())
            let candidates = messages.filter { !optedOut.contains($0.phone) }
            // Entries at or after the cutoff are duplicates; with the check off, none is.
            let cutoff = dedupeWindow > 0 ? now.addingTimeInterval(-dedupeWindow) : Date.distantFuture
            let queuedRows = Set(try await connection.run("""
                WITH input AS (
                    SELECT * FROM unnest(\(candidates.map(\.position)), \(candidates.map(\.phone)), \(candidates.map(\.body)),
                                         \(candidates.map(\.bodyHash)), \(candidates.map(\.encoding.rawValue)), \(candidates.map(\.segments)))
                        AS t (row, phone, body, body_hash, encoding, segments)
                ), fresh AS (
                    INSERT INTO dedupe_entry AS d (phone, body_hash, queued_at)
                    SELECT phone, body_hash, \(now) FROM input ORDER BY phone, body_hash
                    ON CONFLICT (phone, body_hash) DO UPDATE SET queued_at = excluded.queued_at WHERE d.queued_at < \(cutoff)
                    RETURNING phone, body_hash
                )
                INSERT INTO message (batch_id, row, phone, body, body_hash, encoding, segments, status, created_at, updated_at)
                SELECT \(batchID), i.row, i.phone, i.body, i.body_hash, i.encoding, i.segments, 'queued', \(now), \(now)
                FROM input i JOIN fresh f ON f.phone = i.phone AND f.body_hash = i.body_hash
                ORDER BY i.row
                RETURNING row
                """, logger: logger).decode(Int.self).array())
            var rejections = known
            for message in messages where !queuedRows.contains(message.position) {
                rejections.append(optedOut.contains(message.phone)
                    ? Rejection(error: RowError(position: message.position, field: phoneField, kind: .optedOut,
                                                reason: "\(message.phone) opted out (replied STOP or was added to the opt-out list)"),
                                raw: message.raw.text)
                    : Rejection(error: RowError(position: message.position, field: "message", kind: .duplicate,
                                                reason: "the same text was queued for \(message.phone) within the last \(Int(dedupeWindow / 3600))h"),
                                raw: message.raw.text))
            }
            rejections.sort { $0.error.position < $1.error.position }
            if !rejections.isEmpty {
                let errors = rejections.map(\.error)
                try await connection.run("""
                    INSERT INTO rejection (batch_id, row, field, kind, reason, raw)
                    SELECT \(batchID), * FROM unnest(\(errors.map(\.position)), \(errors.map(\.field)), \(errors.map(\.kind.rawValue)),
                                                     \(errors.map(\.reason)), \(rejections.map(\.raw)))
                    """, logger: logger)
            }
            return ChunkOutcome(queued: queuedRows.count, errors: rejections.map(\.error))
        }
    }

    /// Marks the batch complete with its counts. PostgreSQL's commit is durable
    /// (`synchronous_commit` on) before it returns, so the 202 that follows is too.
    public func finishBatch(id: String, accepted: Int, rejected: Int, duplicates: Int) async throws {
        try await engine.client.query("""
            UPDATE batch SET accepted = \(accepted), rejected = \(rejected), duplicates = \(duplicates), complete = true WHERE id = \(id)
            """, logger: engine.logger)
    }
}
