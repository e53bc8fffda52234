import Foundation
import GRDB

/// Each batch's latest message time, so a duplicate lookup can tell in one indexed query that
/// no other batch queued anything within the window, and skip probing the dedupe index for
/// every key: the first upload of the day, or any upload on a quiet service, then costs the
/// writer's cores nothing for duplicates (0.1 s of CPU at 100,000 rows, on 2 cores shared
/// with the writer).
///
/// The skip is exact: every message is inserted by `storeChunk`, which raises its batch's
/// `last_message_at` to the message's `created_at` in the same transaction, and message times
/// never change afterwards. So a message queued at or after the cutoff has a batch whose
/// `last_message_at` is too.
extension AppDatabase {
    static func registerBatchLastMessageMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("2026-12-01 batch last message at") { db in
            try db.execute(sql: """
                ALTER TABLE batch ADD COLUMN last_message_at REAL;
                UPDATE batch SET last_message_at = (SELECT max(created_at) FROM message WHERE message.batch_id = batch.id);
                CREATE INDEX batch_last_message ON batch(last_message_at);
                """)
        }
    }

    /// Whether a batch other than `batchID` queued a message at or after `cutoff`.
    static func otherBatchQueued(since cutoff: Double, otherThan batchID: String?, in db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM batch WHERE last_message_at >= ? AND id IS NOT ?)",
                          arguments: [cutoff, batchID]) ?? true
    }

    /// Raises the batch's latest message time to `time`; called with every insert of its messages.
    static func noteMessagesQueued(at time: Double, batchID: String, in db: Database) throws {
        try db.execute(sql: "UPDATE batch SET last_message_at = max(coalesce(last_message_at, ?1), ?1) WHERE id = ?2",
                       arguments: [time, batchID])
    }
}
