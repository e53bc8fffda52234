import GRDB

extension AppDatabase {
    /// Sending state on each message, the opt-out list and seen provider callbacks.
    /// No index is added on the ingest path: new rows have NULL provider ids.
    static func registerSendingMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("2026-11-23 sending: attempts, provider ids, opt-outs, callbacks") { db in
            try db.execute(sql: """
                ALTER TABLE message ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE message ADD COLUMN next_attempt_at REAL NOT NULL DEFAULT 0;
                ALTER TABLE message ADD COLUMN claimed_by TEXT;
                ALTER TABLE message ADD COLUMN in_doubt INTEGER NOT NULL DEFAULT 0 CHECK (in_doubt IN (0, 1));
                ALTER TABLE message ADD COLUMN provider_id TEXT;
                ALTER TABLE message ADD COLUMN error_code TEXT;
                ALTER TABLE message ADD COLUMN error_message TEXT;
                CREATE INDEX message_provider ON message(provider_id) WHERE provider_id IS NOT NULL;

                CREATE TABLE opt_out (
                    phone TEXT PRIMARY KEY NOT NULL CHECK (phone LIKE '+%'),
                    source TEXT NOT NULL,
                    created_at REAL NOT NULL
                ) WITHOUT ROWID;

                CREATE TABLE provider_event (
                    provider_id TEXT NOT NULL,
                    status TEXT NOT NULL,
                    error_code TEXT,
                    received_at REAL NOT NULL,
                    PRIMARY KEY (provider_id, status)
                ) WITHOUT ROWID;
                """)
        }
    }
}
