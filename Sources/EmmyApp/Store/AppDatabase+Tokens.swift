import Foundation
import GRDB

/// API tokens on SQLite: only their SHA-256 hashes are stored.
extension AppDatabase {
    public func insertToken(id: String, name: String, hash: String, createdAt: Date) async throws {
        let created = createdAt.timeIntervalSince1970
        try await writer.write { db in
            try db.execute(sql: "INSERT INTO api_token (id, name, hash, created_at) VALUES (?, ?, ?, ?)", arguments: [id, name, hash, created])
        }
    }

    public func tokens() async throws -> [StoredToken] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_token ORDER BY created_at").map { row in
                StoredToken(id: row["id"], name: row["name"], createdAt: Date(timeIntervalSince1970: row["created_at"]),
                            revokedAt: (row["revoked_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    public func revokeToken(nameOrID: String, now: Date) async throws -> Bool {
        let time = now.timeIntervalSince1970
        return try await writer.write { db in
            try db.execute(sql: "UPDATE api_token SET revoked_at = ? WHERE (name = ? OR id = ?) AND revoked_at IS NULL",
                           arguments: [time, nameOrID, nameOrID])
            return db.changesCount > 0
        }
    }

    public func isActiveToken(hash: String) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM api_token WHERE hash = ? AND revoked_at IS NULL", arguments: [hash]) ?? false
        }
    }
}
