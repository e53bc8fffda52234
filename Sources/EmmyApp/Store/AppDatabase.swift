import Foundation
import GRDB

/// EmmyApp's storage on SQLite, the embedded engine of `AppStore`: one database in WAL mode,
/// migrated on open. Its calls are spread over the `AppDatabase+…` files by concept.
///
/// All writes go through GRDB's single writer, so concurrent uploads queue instead of failing
/// with "database is locked"; readers never block it. `busy_timeout` covers other processes
/// (a backup, the sqlite3 shell) holding a lock for a moment.
public struct AppDatabase: AppStore {
    public let writer: any DatabaseWriter

    /// Opens (creating if needed) `emmy.sqlite` under `directory`.
    public static func open(directory: String) throws -> AppDatabase {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("emmy.sqlite")
        let checkpointer = WALCheckpointer(path: path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // NORMAL is durable across app crashes in WAL mode. The writer's larger page cache
            // keeps index pages in memory during big batches instead of re-reading them (16 MiB
            // ingests as fast as 32 since checkpoints left the writer, 8 is slower); each reader
            // gets half, because a pool has several and together they decide the server's
            // memory during a million-row upload.
            let cacheKiB = db.configuration.readonly ? 8192 : 16384
            try db.execute(sql: """
                PRAGMA synchronous = NORMAL;
                PRAGMA cache_size = -\(cacheKiB);
                PRAGMA temp_store = MEMORY;
                PRAGMA journal_size_limit = 33554432;
                """)
            if !db.configuration.readonly { checkpointer.install(on: db) }
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        return try AppDatabase(pool)
    }

    /// An empty in-memory database, for tests.
    public static func inMemory() throws -> AppDatabase {
        try AppDatabase(DatabaseQueue())
    }

    public init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
        // Only the writer inserts messages, so only its connection needs the table they are read from.
        try writer.writeWithoutTransaction { try MessageRowsTable.register(on: $0) }
    }

    /// Named migrations; a shipped migration is never edited, only followed by a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("2026-11-23 batches, messages, rejections, tokens") { db in
            try db.execute(sql: """
                CREATE TABLE batch (
                    id TEXT PRIMARY KEY NOT NULL,
                    created_at REAL NOT NULL,
                    source TEXT NOT NULL CHECK (source IN ('json', 'csv')),
                    template TEXT NOT NULL,
                    client TEXT,
                    accepted INTEGER NOT NULL DEFAULT 0 CHECK (accepted >= 0),
                    rejected INTEGER NOT NULL DEFAULT 0 CHECK (rejected >= 0),
                    duplicates INTEGER NOT NULL DEFAULT 0 CHECK (duplicates >= 0),
                    complete INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1))
                );
                CREATE INDEX batch_created ON batch(created_at);

                CREATE TABLE message (
                    id INTEGER PRIMARY KEY,
                    batch_id TEXT NOT NULL REFERENCES batch(id) ON DELETE CASCADE,
                    row INTEGER NOT NULL,
                    phone TEXT NOT NULL CHECK (phone LIKE '+%'),
                    body TEXT NOT NULL,
                    body_hash INTEGER NOT NULL,
                    encoding TEXT NOT NULL CHECK (encoding IN ('GSM-7', 'UCS-2')),
                    segments INTEGER NOT NULL CHECK (segments >= 1),
                    status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'canceled')),
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                );
                CREATE INDEX message_batch_status ON message(batch_id, status, id);
                CREATE INDEX message_status ON message(status, id);
                CREATE INDEX message_dedupe ON message(phone, body_hash, created_at);

                CREATE TABLE rejection (
                    id INTEGER PRIMARY KEY,
                    batch_id TEXT NOT NULL REFERENCES batch(id) ON DELETE CASCADE,
                    row INTEGER NOT NULL,
                    field TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    raw TEXT NOT NULL
                );
                CREATE INDEX rejection_batch ON rejection(batch_id, row);

                CREATE TABLE api_token (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL UNIQUE,
                    hash TEXT NOT NULL UNIQUE,
                    created_at REAL NOT NULL,
                    revoked_at REAL
                );
                """)
        }
        migrator.registerMigration("2026-11-23 compact dedupe key") { db in
            // One 64-bit key per (number, text) instead of a (phone, body_hash, created_at)
            // text index: the index a big batch inserts into at random positions shrinks to a
            // third, so it stays in the page cache and each commit dirties fewer pages.
            try db.execute(sql: "ALTER TABLE message ADD COLUMN dedupe_key INTEGER")
            let update = try db.makeStatement(sql: "UPDATE message SET dedupe_key = ? WHERE id = ?")
            let rows = try Row.fetchCursor(db, sql: "SELECT id, phone, body_hash FROM message")
            while let row = try rows.next() {
                let key = DedupeKey(phone: row["phone"], bodyHash: row["body_hash"]).value
                try update.execute(arguments: [key, row["id"] as Int64])
            }
            try db.execute(sql: """
                DROP INDEX message_dedupe;
                CREATE INDEX message_dedupe_key ON message(dedupe_key);
                """)
        }
        registerSendingMigration(&migrator)
        registerInboundMigration(&migrator)
        registerInterruptedBatchMigration(&migrator)
        registerBatchFileNameMigration(&migrator)
        registerBatchLastMessageMigration(&migrator)
        return migrator
    }

    /// True when every known migration has run (readiness).
    public func isMigrated() throws -> Bool {
        try writer.read { db in try Self.migrator.hasCompletedMigrations(db) }
    }
}
