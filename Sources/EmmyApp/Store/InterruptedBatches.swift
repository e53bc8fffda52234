import Foundation
import GRDB

extension AppDatabase {
    static func registerInterruptedBatchMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("2026-12-01 interrupted batches") { db in
            try db.execute(sql: "ALTER TABLE batch ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0 CHECK (interrupted IN (0, 1))")
        }
    }

    /// Closes the batches a dead run left open; call it once at startup, before serving.
    ///
    /// A batch is recorded before its first row, so a server killed mid-ingest (kill -9, power
    /// loss) leaves it `complete = 0` with zero counts forever, while its stored rows are
    /// queued and sent like any other. No ingest survives its process, so at startup every open
    /// batch is such a one. It is marked complete (no row will join it) and `interrupted` (its
    /// client never got an answer and may have resent the file, and rows after the cut were
    /// never read), with its counts recomputed from the rows it stored. Returns how many.
    @discardableResult
    public func closeInterruptedBatches() async throws -> Int {
        try await writer.write { db in
            try db.execute(sql: """
                UPDATE batch SET
                    accepted = (SELECT COUNT(*) FROM message WHERE message.batch_id = batch.id),
                    rejected = (SELECT COUNT(*) FROM rejection WHERE rejection.batch_id = batch.id AND kind != 'duplicate'),
                    duplicates = (SELECT COUNT(*) FROM rejection WHERE rejection.batch_id = batch.id AND kind = 'duplicate'),
                    complete = 1,
                    interrupted = 1
                WHERE complete = 0
                """)
            return db.changesCount
        }
    }
}
