import GRDB

extension AppDatabase {
    /// Inbound messages already acted on, by provider message id: a replayed (still correctly
    /// signed) request must not act twice, e.g. re-subscribe a number that has since sent STOP.
    /// Rows are kept: a signature never expires, so neither may the memory of having used it.
    static func registerInboundMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("2026-12-01 inbound message ids") { db in
            try db.execute(sql: """
                CREATE TABLE inbound_message (
                    sid TEXT PRIMARY KEY NOT NULL,
                    received_at REAL NOT NULL
                ) WITHOUT ROWID;
                """)
        }
    }
}
