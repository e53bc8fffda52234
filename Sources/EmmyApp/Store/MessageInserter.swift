import GRDB

/// Inserts a batch's queued messages, many rows per statement: each execution of an INSERT
/// opens a cursor on the table and each index and rebuilds the CHECK constraints' value
/// lists, so a statement of 64 rows pays that once where 64 single-row ones pay it 64 times.
struct MessageInserter {
    static let rowsPerStatement = 64

    private let wide: StatementBinder
    private let narrow: StatementBinder
    /// The texts of the execution being bound; outlives both statements' last step.
    private let arena = TextArena()

    /// Prepares the statements for one write transaction; `batchID` and `now` are bound once.
    init(batchID: String, now: Double, in db: Database) throws {
        wide = try Self.prepare(rows: Self.rowsPerStatement, batchID: batchID, now: now, in: db)
        narrow = try Self.prepare(rows: 1, batchID: batchID, now: now, in: db)
    }

    /// Queues the messages in order; returns how many were stored.
    @discardableResult
    func insert(_ messages: [(ValidatedMessage, DedupeKey)]) throws -> Int {
        var index = 0
        while messages.count - index >= Self.rowsPerStatement {
            let rows = messages[index..<(index + Self.rowsPerStatement)]
            arena.reset(holding: Self.textBytes(rows))
            for slot in 0..<Self.rowsPerStatement { bind(messages[index + slot], slot: slot, to: wide) }
            try wide.step()
            index += Self.rowsPerStatement
        }
        while index < messages.count {
            arena.reset(holding: Self.textBytes(messages[index...index]))
            bind(messages[index], slot: 0, to: narrow)
            try narrow.step()
            index += 1
        }
        return messages.count
    }

    /// The bytes of the text parameters of these rows (`bind` stores exactly these).
    private static func textBytes(_ rows: ArraySlice<(ValidatedMessage, DedupeKey)>) -> Int {
        rows.reduce(0) { $0 + $1.0.phone.utf8.count + $1.0.body.utf8.count + $1.0.encoding.rawValue.utf8.count }
    }

    /// Parameters ?1 (batch) and ?2 (time) are shared; each row has seven of its own after them.
    private static let shared: Int32 = 2
    private static let perRow: Int32 = 7

    private static func prepare(rows: Int, batchID: String, now: Double, in db: Database) throws -> StatementBinder {
        let values = (0..<Int32(rows)).map { slot in
            let p = shared + slot * perRow
            return "(?1, ?\(p + 1), ?\(p + 2), ?\(p + 3), ?\(p + 4), ?\(p + 5), ?\(p + 6), ?\(p + 7), 'queued', ?2, ?2)"
        }
        let binder = StatementBinder(try db.makeStatement(sql: """
            INSERT INTO message (batch_id, row, phone, body, body_hash, dedupe_key, encoding, segments, status, created_at, updated_at)
            VALUES \(values.joined(separator: ", "))
            """), in: db)
        binder.bind(1, batchID)
        binder.bind(2, now)
        return binder
    }

    private func bind(_ entry: (ValidatedMessage, DedupeKey), slot: Int, to binder: StatementBinder) {
        let (message, key) = entry
        let p = Self.shared + Int32(slot) * Self.perRow
        binder.bind(p + 1, message.position)
        binder.bind(p + 2, inPlace: arena.store(message.phone))
        binder.bind(p + 3, inPlace: arena.store(message.body))
        binder.bind(p + 4, message.bodyHash)
        binder.bind(p + 5, key.value)
        binder.bind(p + 6, inPlace: arena.store(message.encoding.rawValue))
        binder.bind(p + 7, message.segments)
    }
}
