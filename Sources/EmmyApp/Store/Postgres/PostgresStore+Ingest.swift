import Foundation
import Logging
import PostgresNIO

/// Ingest's writes on PostgreSQL: the batch row, and each chunk in one transaction of a few
/// statements whatever its size, with the rows passed as arrays (`unnest`), so a 40,000-row
/// chunk costs a handful of round trips, not 40,000.
///
/// Duplicates across batches, and across replicas ingesting at the same moment, are decided by
/// an upsert on `dedupe_entry`: a pair is new when its entry is missing or older than the
/// window, and a concurrent upsert of the same pair waits on PostgreSQL's row lock and then
/// sees the winner's entry (where the SQLite engine relies on its single writer). Opt-outs and
/// ingest exclude each other through one advisory lock (chunks share it, an opt-out takes it
/// alone), so a STOP lands either before a chunk (which then refuses the number) or after it
/// (and cancels what the chunk queued).
extension PostgresStore {
    /// Records the batch before any row, owned by this process: a crash mid-upload leaves an
    /// open batch whose stored rows are visible and sendable, closed by the next recovery once
    /// this process's heartbeat has stopped.
    public func createBatch(_ batch: NewBatch) async throws {
        let (logger, instanceID) = (self.logger, self.instanceID)
        try await engine.transaction { connection in
            try await Self.beat([instanceID], in: connection, logger: logger)
            try await connection.run("""
                INSERT INTO batch (id, created_at, source, template, client, file_name, ingest_run)
                VALUES (\(batch.id), \(batch.createdAt), \(batch.source), \(batch.template), \(batch.client), \(batch.fileName), \(instanceID))
                """, logger: logger)
        }
    }

    /// The watermark is unused here: the write's upsert decides, so nothing committed after
    /// this read can be missed. `batchID` is unused too: a batch never repeats a number, so
    /// its own claims never match.
    public func recentMessages(among keys: [DedupeKey], since cutoff: Date, otherThan batchID: String?) async throws -> RecentMessages {
        let found = try await engine.client.query("""
            SELECT d.phone, d.body_hash FROM dedupe_entry d
            JOIN unnest(\(keys.map(\.phone)), \(keys.map(\.bodyHash))) AS k (phone, body_hash) ON d.phone = k.phone AND d.body_hash = k.body_hash
            WHERE d.queued_at >= \(cutoff)
            """, logger: logger).decode((String, Int64).self).array()
        return RecentMessages(keys: Set(found.map { DedupeKey(phone: $0.0, bodyHash: $0.1) }), watermark: 0, since: cutoff)
    }

    public func optedOut(_ phones: [String]) async throws -> Set<String> {
        guard !phones.isEmpty else { return [] }
        return Set(try await engine.client.query("SELECT phone FROM opt_out WHERE phone = ANY(\(phones))", logger: logger).decode(String.self).array())
    }

    public func storeChunk(_ chunk: IngestChunk, screen: @escaping ChunkScreen) async throws -> ScreenedChunk {
        let logger = self.logger
        return try await engine.transaction { connection in
            try await connection.run("SELECT pg_advisory_xact_lock_shared(\(PostgresOptOuts.lockKey))", logger: logger)
            let optedOut = Set(try await connection.run("SELECT phone FROM opt_out WHERE phone = ANY(\(chunk.candidates.map(\.phone)))",
                                                        logger: logger).decode(String.self).array())
            var recent = chunk.recent?.keys ?? []
            if let since = chunk.recent?.since {
                // Claim the window for each pair that may be queued; a pair not claimed was queued
                // within it, by an earlier batch or by another replica a moment ago. Opted-out
                // pairs are only looked at: the duplicate is reported first, as on SQLite.
                let open = chunk.keys.filter { !optedOut.contains($0.phone) }
                let claimed = Set(try await Self.stamp(open, now: chunk.now, unlessSince: since, in: connection, logger: logger))
                recent.formUnion(open.filter { !claimed.contains($0) })
                let closed = chunk.keys.filter { optedOut.contains($0.phone) }
                if !closed.isEmpty {
                    for try await (phone, hash) in try await connection.run("""
                        SELECT d.phone, d.body_hash FROM dedupe_entry d
                        JOIN unnest(\(closed.map(\.phone)), \(closed.map(\.bodyHash))) AS k (phone, body_hash)
                            ON d.phone = k.phone AND d.body_hash = k.body_hash
                        WHERE d.queued_at >= \(since)
                        """, logger: logger).decode((String, Int64).self) {
                        recent.insert(DedupeKey(phone: phone, bodyHash: hash))
                    }
                }
            }
            var decided = screen(recent, optedOut)
            decided.rejections = chunk.rejections + decided.rejections
            if chunk.recent == nil {
                // No check now, but a later batch with the check on must see these.
                _ = try await Self.stamp(decided.queue.map(\.1), now: chunk.now, unlessSince: nil, in: connection, logger: logger)
            }
            try await Self.insert(decided.queue.map(\.0), batchID: chunk.batchID, now: chunk.now, in: connection, logger: logger)
            try await Self.insert(decided.rejections, batchID: chunk.batchID, in: connection, logger: logger)
            return decided
        }
    }

    /// Records `now` as the pairs' last queueing, except for pairs queued at or after `since`;
    /// returns the pairs it stamped. Rows are locked in key order, so two chunks stamping
    /// overlapping pairs wait for each other instead of deadlocking.
    private static func stamp(_ keys: [DedupeKey], now: Date, unlessSince since: Date?, in connection: PostgresConnection,
                              logger: Logger) async throws -> [DedupeKey] {
        guard !keys.isEmpty else { return [] }
        return try await connection.run("""
            INSERT INTO dedupe_entry AS d (phone, body_hash, queued_at)
            SELECT phone, body_hash, \(now) FROM unnest(\(keys.map(\.phone)), \(keys.map(\.bodyHash))) AS k (phone, body_hash)
            ORDER BY phone, body_hash
            ON CONFLICT (phone, body_hash) DO UPDATE SET queued_at = excluded.queued_at WHERE d.queued_at < \(since ?? Date.distantFuture)
            RETURNING phone, body_hash
            """, logger: logger).decode((String, Int64).self).array().map { DedupeKey(phone: $0.0, bodyHash: $0.1) }
    }

    private static func insert(_ messages: [ValidatedMessage], batchID: String, now: Date, in connection: PostgresConnection,
                               logger: Logger) async throws {
        guard !messages.isEmpty else { return }
        try await connection.run("""
            INSERT INTO message (batch_id, row, phone, body, body_hash, encoding, segments, status, created_at, updated_at)
            SELECT \(batchID), row, phone, body, body_hash, encoding, segments, 'queued', \(now), \(now)
            FROM unnest(\(messages.map(\.position)), \(messages.map(\.phone)), \(messages.map(\.body)), \(messages.map(\.bodyHash)),
                        \(messages.map(\.encoding.rawValue)), \(messages.map(\.segments)))
                WITH ORDINALITY AS t (row, phone, body, body_hash, encoding, segments, n)
            ORDER BY n
            """, logger: logger)
    }

    private static func insert(_ rejections: [RejectedContact], batchID: String, in connection: PostgresConnection, logger: Logger) async throws {
        guard !rejections.isEmpty else { return }
        let errors = rejections.map(\.error)
        try await connection.run("""
            INSERT INTO rejection (batch_id, row, field, kind, reason, raw)
            SELECT \(batchID), row, field, kind, reason, raw
            FROM unnest(\(errors.map(\.position)), \(errors.map(\.field)), \(errors.map(\.kind.rawValue)), \(errors.map(\.reason)),
                        \(rejections.map(\.raw.text))) WITH ORDINALITY AS t (row, field, kind, reason, raw, n)
            ORDER BY n
            """, logger: logger)
    }

    /// PostgreSQL's commit is durable (`synchronous_commit` on) before it returns, so the 202
    /// that follows is too.
    public func completeBatch(id: String, counts: BatchCounts) async throws {
        try await engine.client.query("""
            UPDATE batch SET accepted = \(counts.accepted), rejected = \(counts.rejected), duplicates = \(counts.duplicates), complete = true
            WHERE id = \(id)
            """, logger: logger)
    }

    /// Closes the open batches of processes that are gone: with no owner, or an owner other
    /// than this process whose heartbeat stopped (another replica's ingest in progress is left
    /// alone). Counts are recomputed from the rows stored, as on SQLite.
    @discardableResult
    public func closeInterruptedBatches() async throws -> Int {
        let (logger, instanceID, lease) = (self.logger, self.instanceID, self.lease.seconds)
        return try await engine.transaction { try await Self.closeInterruptedBatches(otherThan: instanceID, lease: lease, in: $0, logger: logger) }
    }

    static func closeInterruptedBatches(otherThan instanceID: String, lease: Double, in connection: PostgresConnection,
                                        logger: Logger) async throws -> Int {
        try await connection.run("""
            UPDATE batch b SET
                accepted = (SELECT count(*) FROM message m WHERE m.batch_id = b.id),
                rejected = (SELECT count(*) FROM rejection r WHERE r.batch_id = b.id AND r.kind <> 'duplicate'),
                duplicates = (SELECT count(*) FROM rejection r WHERE r.batch_id = b.id AND r.kind = 'duplicate'),
                complete = true,
                interrupted = true
            WHERE NOT b.complete AND (b.ingest_run IS NULL OR b.ingest_run <> \(instanceID)
                AND NOT EXISTS (SELECT 1 FROM send_run r WHERE r.id = b.ingest_run AND r.heartbeat_at > now() - make_interval(secs => \(lease))))
            RETURNING b.id
            """, logger: logger).collect().count
    }
}
