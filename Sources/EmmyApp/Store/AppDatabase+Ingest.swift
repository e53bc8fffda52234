import Foundation
import GRDB

/// Ingest's writes on SQLite: a batch row first, then one write transaction per chunk.
extension AppDatabase {
    public func createBatch(_ batch: NewBatch) async throws {
        try await writer.write { db in
            try db.execute(sql: "INSERT INTO batch (id, created_at, source, template, client, file_name) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [batch.id, batch.createdAt.timeIntervalSince1970, batch.source, batch.template, batch.client, batch.fileName])
        }
    }

    /// One read snapshot, one indexed query per 500 keys instead of one per message, and none
    /// when no other batch queued anything within the window (see `BatchLastMessage.swift`).
    /// The watermark is the highest message id in the snapshot: message rows are never
    /// deleted, so every row committed after it has a higher id.
    public func recentMessages(among keys: [DedupeKey], since cutoff: Date, otherThan batchID: String?) async throws -> RecentMessages {
        let since = cutoff, cutoff = cutoff.timeIntervalSince1970
        return try await read { db in
            let lastID = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM message") ?? 0
            guard try Self.otherBatchQueued(since: cutoff, otherThan: batchID, in: db) else {
                return RecentMessages(keys: [], watermark: lastID, since: since)
            }
            var found: Set<DedupeKey> = []
            let values = Array(Set(keys.map(\.value)))
            for start in stride(from: 0, to: values.count, by: 500) {
                let slice = values[start..<min(values.count, start + 500)]
                let marks = Array(repeating: "?", count: slice.count).joined(separator: ",")
                // Cached: every full slice has the same text, and parsing 500 placeholders costs
                // more than running the query (a third of this reader's time at 100,000 rows).
                let query = try db.cachedStatement(sql: "SELECT phone, body_hash FROM message WHERE dedupe_key IN (\(marks)) AND created_at >= ?")
                let rows = try Row.fetchCursor(query, arguments: StatementArguments(slice.map { $0 as any DatabaseValueConvertible } + [cutoff]))
                while let row = try rows.next() {
                    found.insert(DedupeKey(phone: row["phone"], bodyHash: row["body_hash"]))
                }
            }
            return RecentMessages(keys: found, watermark: lastID, since: since)
        }
    }

    public func storeChunk(_ chunk: IngestChunk, screen: @escaping ChunkScreen) async throws -> ScreenedChunk {
        try await writer.write { db in
            var recent = chunk.recent?.keys ?? []
            if let snapshot = chunk.recent {
                try recent.formUnion(Self.committed(after: snapshot.watermark, among: chunk.keys, otherThan: chunk.batchID, in: db))
            }
            let optedOut = try Self.optedOut(chunk.candidates.map(\.phone), in: db)
            var decided = screen(recent, optedOut)
            decided.rejections = chunk.rejections + decided.rejections
            if !decided.queue.isEmpty {
                try MessageInserter(batchID: chunk.batchID, now: chunk.now.timeIntervalSince1970, in: db).insert(decided.queue)
                try Self.noteMessagesQueued(at: chunk.now.timeIntervalSince1970, batchID: chunk.batchID, in: db)
            }
            if !decided.rejections.isEmpty {
                let reject = try db.makeStatement(sql: "INSERT INTO rejection (batch_id, row, field, kind, reason, raw) VALUES (?, ?, ?, ?, ?, ?)")
                for rejection in decided.rejections {
                    let error = rejection.error
                    reject.setUncheckedArguments([chunk.batchID, error.position, error.field, error.kind.rawValue, error.reason, rejection.raw.text])
                    try reject.execute()
                }
            }
            return decided
        }
    }

    /// The pairs among `keys` that rows committed after the snapshot hold: a scan of those
    /// rows only, inside the write transaction. Rows of the asking batch are skipped in SQL,
    /// because a batch never repeats a number; what is left is a concurrent batch's rows, if any.
    private static func committed(after watermark: Int64, among keys: [DedupeKey], otherThan batchID: String, in db: Database) throws -> Set<DedupeKey> {
        var wanted: Set<Int64> = []  // built only if such rows exist, which is rare
        var found: Set<DedupeKey> = []
        let rows = try Row.fetchCursor(db, sql: "SELECT phone, body_hash, dedupe_key FROM message WHERE id > ? AND batch_id <> ?",
                                       arguments: [watermark, batchID])
        while let row = try rows.next() {
            if wanted.isEmpty { wanted = Set(keys.map(\.value)) }
            if wanted.contains(row["dedupe_key"]) { found.insert(DedupeKey(phone: row["phone"], bodyHash: row["body_hash"])) }
        }
        return found
    }

    /// The database runs `synchronous = NORMAL`, which loses no commit when the process dies
    /// but may lose the last ones on power loss or an OS crash. This one commit runs with
    /// `FULL`, which fsyncs the write-ahead log; the log is appended in order, so that one
    /// fsync also makes every row the batch committed before it durable. One fsync per batch,
    /// not one per transaction: a 202 means the batch survives a power cut.
    public func completeBatch(id: String, counts: BatchCounts) async throws {
        try await writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
            try db.inTransaction {
                try db.execute(sql: "UPDATE batch SET accepted = ?, rejected = ?, duplicates = ?, complete = 1 WHERE id = ?",
                               arguments: [counts.accepted, counts.rejected, counts.duplicates, id])
                return .commit
            }
        }
    }
}
