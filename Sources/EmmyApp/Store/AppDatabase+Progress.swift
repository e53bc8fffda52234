import Foundation
import GRDB

/// The live batch page's progress read on SQLite.
extension AppDatabase {
    /// The batch's unfinished messages by where they wait, and how many finished since `since`.
    /// A message's `updated_at` is when it last changed; for a finished one, when it finished
    /// (or when a later status callback arrived, which counts it once all the same).
    public func batchProgress(id: String, since: Date) async throws -> BatchProgress {
        try await read { db in
            var progress = BatchProgress()
            progress.queued = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message WHERE batch_id = ? AND status = 'queued'", arguments: [id]) ?? 0
            progress.claimedIDs = try Int64.fetchAll(db, sql: """
                SELECT id FROM message WHERE batch_id = ? AND status = 'sending' AND claimed_by IS NOT NULL
                """, arguments: [id])
            progress.retrying = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM message WHERE batch_id = ? AND status = 'sending' AND claimed_by IS NULL
                """, arguments: [id]) ?? 0
            progress.finishedInWindow = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM message WHERE batch_id = ? AND status NOT IN ('queued', 'sending') AND updated_at >= ?
                """, arguments: [id, since.timeIntervalSince1970]) ?? 0
            return progress
        }
    }
}
