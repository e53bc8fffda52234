import Foundation
import GRDB

/// A consistent copy of the live database, taken on its own connection while EmmyApp keeps
/// writing, and what a copy holds (the facts a manifest records and a restore re-checks).
public enum DatabaseSnapshot {
    /// How the copy is made. Both read inside one read transaction, so WAL writers go on.
    /// scripts/bench/backup-snapshot.py measured the longest commit stall of a concurrent writer
    /// on a 147 MiB database (5 runs each, loaded machine): backup API 70.7 ms, VACUUM INTO
    /// 145 ms (p99 0.9 vs 3.5 ms), so the backup API is the default.
    public enum Method: String, Sendable, CaseIterable {
        /// `VACUUM INTO`: one read transaction, a compact copy, no restarts.
        case vacuumInto = "vacuum-into"
        /// sqlite3_backup in one step (`pagesPerStep: -1`), so a concurrent write cannot restart it.
        case backupAPI = "backup-api"
    }

    /// Copies `source` to `destination` (which must not exist).
    public static func take(source: String, destination: String, method: Method = .backupAPI) throws {
        guard FileManager.default.fileExists(atPath: source) else { throw BackupError.database("no database at \(source)") }
        do {
            let reader = try DatabaseQueue(path: source, configuration: reading())
            defer { try? reader.close() }
            switch method {
            case .vacuumInto:
                try reader.inDatabase { db in try db.execute(sql: "VACUUM INTO ?", arguments: [destination]) }
            case .backupAPI:
                let copy = try DatabaseQueue(path: destination)
                try reader.backup(to: copy, pagesPerStep: -1)
                try copy.close()
            }
        } catch let error as DatabaseError {
            throw BackupError.database("snapshot of \(source) failed: \(error.message ?? "\(error)")")
        }
    }

    /// What a database file holds: `PRAGMA integrity_check`, rows per table, applied migrations.
    public struct Contents: Sendable, Equatable {
        public var integrityCheck: String
        public var tables: [String: Int]
        public var migrations: [String]
    }

    public static func inspect(_ path: String) throws -> Contents {
        do {
            let queue = try DatabaseQueue(path: path, configuration: reading())
            defer { try? queue.close() }
            return try queue.inDatabase { db in
                let check = try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ")
                let names = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
                var tables: [String: Int] = [:]
                for name in names {
                    tables[name] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(name.quotedDatabaseIdentifier)") ?? 0
                }
                let migrations = names.contains("grdb_migrations")
                    ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid") : []
                return Contents(integrityCheck: check, tables: tables, migrations: migrations)
            }
        } catch let error as DatabaseError {
            // A file that is not a database at all ("file is not a database") lands here.
            return Contents(integrityCheck: "unreadable: \(error.message ?? "\(error)")", tables: [:], migrations: [])
        }
    }

    /// Read-write on purpose, though nothing is written: a read-only connection cannot open a
    /// WAL database whose -shm file is missing (the app stopped, a file fresh from a backup).
    private static func reading() -> Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        return configuration
    }
}
