import GRDB

/// The (number, text) pairs of a batch that were already queued, as seen by a read snapshot,
/// and where that snapshot ends, so the writer can add what was committed after it.
struct RecentMessages: Sendable {
    var keys: Set<DedupeKey>
    /// The highest message id in the snapshot. Message rows are never deleted, so every row
    /// committed after the snapshot has a higher id.
    var lastID: Int64

    /// The pairs among `keys` that rows committed after the snapshot hold: a scan of those
    /// rows only (none, or a concurrent batch's last transaction), inside the write transaction.
    func committedSince(among keys: [DedupeKey], in db: Database) throws -> Set<DedupeKey> {
        let wanted = Set(keys.map(\.value))
        var found: Set<DedupeKey> = []
        let rows = try Row.fetchCursor(db, sql: "SELECT phone, body_hash, dedupe_key FROM message WHERE id > ?", arguments: [lastID])
        while let row = try rows.next() {
            if wanted.contains(row["dedupe_key"]) { found.insert(DedupeKey(phone: row["phone"], bodyHash: row["body_hash"])) }
        }
        return found
    }
}
