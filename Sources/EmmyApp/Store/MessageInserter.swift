import GRDB

/// Inserts a transaction's queued messages with one statement: `INSERT … SELECT` from
/// `emmy_message_rows`, which reads them from a `PackedMessages` (see there for why).
struct MessageInserter {
    private let statement: StatementBinder

    /// Prepares the statement for one write transaction; `batchID` and `now` are bound once.
    init(batchID: String, now: Double, in db: Database) throws {
        statement = StatementBinder(try db.makeStatement(sql: """
            INSERT INTO message (batch_id, row, phone, body, body_hash, dedupe_key, encoding, segments, status, created_at, updated_at)
            SELECT ?1, row, phone, body, body_hash, dedupe_key, encoding, segments, 'queued', ?2, ?2 FROM \(MessageRowsTable.name)(?3)
            """), in: db)
        statement.bind(1, batchID)
        statement.bind(2, now)
    }

    /// Queues the messages in order (row ids follow it); returns how many were stored.
    @discardableResult
    func insert(_ messages: [(ValidatedMessage, DedupeKey)]) throws -> Int {
        guard !messages.isEmpty else { return 0 }
        let packed = PackedMessages(messages)
        try withExtendedLifetime(packed) {
            statement.bind(3, pointer: packed.view, type: MessageRowsTable.pointerType)
            try statement.step()
        }
        return messages.count
    }
}
