import Foundation
import GRDB

/// The opt-out list and inbound replies on SQLite.
extension AppDatabase {
    public func addOptOuts(_ phones: [String], source: String, now: Date) async throws -> OptOutAdded {
        try await writer.write { db in try Self.addOptOuts(phones, source: source, now: now, in: db) }
    }

    private static func addOptOuts(_ phones: [String], source: String, now: Date, in db: Database) throws -> OptOutAdded {
        let time = now.timeIntervalSince1970
        var result = OptOutAdded(added: 0, canceled: 0)
        for phone in phones {
            try db.execute(sql: "INSERT OR IGNORE INTO opt_out (phone, source, created_at) VALUES (?, ?, ?)", arguments: [phone, source, time])
            result.added += db.changesCount
            try db.execute(sql: """
                UPDATE message SET status = 'canceled', error_code = 'opted_out', error_message = 'the number opted out', updated_at = ?
                WHERE phone = ? AND (status = 'queued' OR (status = 'sending' AND claimed_by IS NULL))
                """, arguments: [time, phone])
            result.canceled += db.changesCount
        }
        return result
    }

    public func removeOptOut(_ phone: String) async throws -> Bool {
        try await writer.write { db in try Self.removeOptOut(phone, in: db) }
    }

    private static func removeOptOut(_ phone: String, in db: Database) throws -> Bool {
        try db.execute(sql: "DELETE FROM opt_out WHERE phone = ?", arguments: [phone])
        return db.changesCount > 0
    }

    public func applyInbound(messageID: String, action: InboundAction, now: Date) async throws -> ReplyEffect {
        try await writer.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO inbound_message (sid, received_at) VALUES (?, ?)",
                           arguments: [messageID, now.timeIntervalSince1970])
            guard db.changesCount > 0 else { return .repeated }
            switch action {
            case .optOut(let phone): return .optedOut(try Self.addOptOuts([phone], source: "sms", now: now, in: db))
            case .optIn(let phone): return .optedIn(wasListed: try Self.removeOptOut(phone, in: db))
            case .none: return .none
            }
        }
    }

    public func optedOut(_ phones: [String]) async throws -> Set<String> {
        try await read { db in try Self.optedOut(phones, in: db) }
    }

    /// Which of these numbers are opted out: one query per 500 numbers (also used inside
    /// ingest's write transaction).
    static func optedOut(_ phones: [String], in db: Database) throws -> Set<String> {
        guard !phones.isEmpty, try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM opt_out)") == true else { return [] }
        var found: Set<String> = []
        for start in stride(from: 0, to: phones.count, by: 500) {
            let slice = phones[start..<min(phones.count, start + 500)]
            let marks = Array(repeating: "?", count: slice.count).joined(separator: ",")
            found.formUnion(try String.fetchAll(db, sql: "SELECT phone FROM opt_out WHERE phone IN (\(marks))",
                                                arguments: StatementArguments(Array(slice))))
        }
        return found
    }
}
