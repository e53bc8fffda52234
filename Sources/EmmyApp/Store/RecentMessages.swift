import GRDB

/// The (number, text) pairs of a batch that were already queued, as seen by a read snapshot,
/// and where that snapshot ends, so the writer can add what was committed after it.
struct RecentMessages: Sendable {
    var keys: Set<DedupeKey>
    /// The highest message id in the snapshot. Message rows are never deleted, so every row
    /// committed after the snapshot has a higher id.
    var lastID: Int64

    /// The pairs among `keys` that rows committed after the snapshot hold: a scan of those
    /// rows only, inside the write transaction. Rows of the asking batch are skipped in SQL,
    /// because a batch never repeats a number; what is left is a concurrent batch's rows, if any.
    func committedSince(among keys: [DedupeKey], otherThan batchID: String, in db: Database) throws -> Set<DedupeKey> {
        var wanted: Set<Int64> = []  // built only if such rows exist, which is rare
        var found: Set<DedupeKey> = []
        let rows = try Row.fetchCursor(db, sql: "SELECT phone, body_hash, dedupe_key FROM message WHERE id > ? AND batch_id <> ?",
                                       arguments: [lastID, batchID])
        while let row = try rows.next() {
            if wanted.isEmpty { wanted = Set(keys.map(\.value)) }
            if wanted.contains(row["dedupe_key"]) { found.insert(DedupeKey(phone: row["phone"], bodyHash: row["body_hash"])) }
        }
        return found
    }
}
