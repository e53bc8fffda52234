import Foundation
import GRDB

/// Health and stats reads on SQLite.
extension AppDatabase {
    public func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await writer.read(body)
    }

    /// Messages by status.
    public func statusCounts() async throws -> [String: Int] {
        try await read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM message GROUP BY status") {
                counts[row["status"]] = row["n"]
            }
            return counts
        }
    }

    public func queueState(now: Date) async throws -> QueueState {
        try await read { db in
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM message WHERE status IN \(MessageStatus.sqlList(MessageStatus.waiting))")
            let oldest: Double? = row?["oldest"]
            return QueueState(depth: row?["n"] ?? 0, oldestAge: oldest.map { max(0, now.timeIntervalSince1970 - $0) } ?? 0)
        }
    }

    public func totals() async throws -> StoreTotals {
        try await read { db in
            StoreTotals(rejections: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rejection") ?? 0,
                        batches: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM batch") ?? 0)
        }
    }

    /// A temporary table lives in this connection only: the probe leaves nothing in the file.
    public func probeWrite() async throws {
        try await writer.write { db in try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS ready_probe (x); DELETE FROM ready_probe") }
    }
}
