import Foundation
import GRDB

/// Numbers that must not be messaged: they replied STOP, or an operator added them.
/// Ingest refuses them (`opted_out`), and adding one cancels what is still waiting for it.
public struct OptOutList: Sendable {
    let database: AppDatabase

    public init(database: AppDatabase) { self.database = database }

    /// Twilio's default opt-out and opt-in keywords (case-insensitive, whole message).
    public static let stopWords: Set<String> = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"]
    public static let startWords: Set<String> = ["START", "UNSTOP", "YES"]

    public struct Added: Sendable, Equatable {
        public var added: Int
        /// Waiting messages to these numbers that were canceled.
        public var canceled: Int
    }

    /// Adds E.164 numbers; already-listed ones are kept as they were.
    public func add(_ phones: [String], source: String, now: Date = Date()) async throws -> Added {
        try await database.writer.write { db in try Self.add(phones, source: source, now: now, in: db) }
    }

    private static func add(_ phones: [String], source: String, now: Date, in db: Database) throws -> Added {
        let time = now.timeIntervalSince1970
        var result = Added(added: 0, canceled: 0)
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

    /// Removes a number (it replied START); returns whether it was listed.
    public func remove(_ phone: String) async throws -> Bool {
        try await database.writer.write { db in try Self.remove(phone, in: db) }
    }

    private static func remove(_ phone: String, in db: Database) throws -> Bool {
        try db.execute(sql: "DELETE FROM opt_out WHERE phone = ?", arguments: [phone])
        return db.changesCount > 0
    }

    /// What an inbound reply did.
    public enum ReplyEffect: Sendable, Equatable {
        /// This provider message id was seen before: a replay, ignored.
        case repeated
        case optedOut(Added)
        /// START: whether the number was listed.
        case optedIn(wasListed: Bool)
        /// Neither a stop nor a start word, or no usable sender.
        case none
    }

    /// Applies an inbound reply once per provider message id (`MessageSid`): the id is recorded
    /// in the same transaction as the change, so a replay of an old START cannot undo a later STOP.
    public func applyReply(messageID: String, from phone: String?, body: String, now: Date = Date()) async throws -> ReplyEffect {
        let word = body.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        return try await database.writer.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO inbound_message (sid, received_at) VALUES (?, ?)",
                           arguments: [messageID, now.timeIntervalSince1970])
            guard db.changesCount > 0 else { return .repeated }
            guard let phone, phone.hasPrefix("+") else { return .none }
            if Self.stopWords.contains(word) { return .optedOut(try Self.add([phone], source: "sms", now: now, in: db)) }
            if Self.startWords.contains(word) { return .optedIn(wasListed: try Self.remove(phone, in: db)) }
            return .none
        }
    }

    public func contains(_ phone: String) async throws -> Bool {
        try await database.read { db in try !Self.optedOut([phone], in: db).isEmpty }
    }

    /// Which of these numbers are opted out: one query per 500 numbers (used inside ingest's
    /// write transaction).
    public static func optedOut(_ phones: [String], in db: Database) throws -> Set<String> {
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
