import Foundation
import Logging
import PostgresNIO

/// The opt-out list on PostgreSQL, shared by every replica: a STOP received by one replica
/// suppresses the number on all, because they read one table.
public struct PostgresOptOuts: Sendable {
    let engine: PostgresEngine

    /// The advisory lock ingest chunks hold shared and an opt-out holds alone ("emmyoptn").
    /// Without it, a STOP committed while a chunk is being stored would miss the chunk's rows
    /// (not yet visible to its cancel) and the chunk would miss the STOP (not yet committed
    /// when it read the list), and the number would be messaged.
    static let lockKey: Int64 = 0x656D_6D79_6F70_746E

    public init(engine: PostgresEngine) { self.engine = engine }

    /// Adds E.164 numbers (already-listed ones are kept as they were) and cancels what is
    /// still waiting for them, as `OptOutList.add` does.
    public func add(_ phones: [String], source: String, now: Date = Date()) async throws -> OptOutList.Added {
        let logger = engine.logger
        return try await engine.transaction { try await Self.add(phones, source: source, now: now, in: $0, logger: logger) }
    }

    /// `add` inside a transaction of the caller's (an inbound STOP records its id in the same one).
    static func add(_ phones: [String], source: String, now: Date, in connection: PostgresConnection, logger: Logger) async throws -> OptOutList.Added {
        try await connection.run("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
        let added = try await connection.run("""
            INSERT INTO opt_out (phone, source, created_at) SELECT phone, \(source), \(now) FROM unnest(\(phones)) AS t (phone)
            ON CONFLICT (phone) DO NOTHING RETURNING phone
            """, logger: logger).collect().count
        let canceled = try await connection.run("""
            UPDATE message SET status = 'canceled', error_code = 'opted_out', error_message = 'the number opted out', updated_at = \(now)
            WHERE phone = ANY(\(phones)) AND (status = 'queued' OR (status = 'sending' AND claimed_by IS NULL))
            RETURNING id
            """, logger: logger).collect().count
        return OptOutList.Added(added: added, canceled: canceled)
    }

    /// Removes a number; returns whether it was listed.
    static func remove(_ phone: String, in connection: PostgresConnection, logger: Logger) async throws -> Bool {
        try await connection.run("DELETE FROM opt_out WHERE phone = \(phone) RETURNING phone", logger: logger).collect().count > 0
    }

    /// Whether the number is on the list.
    public func contains(_ phone: String) async throws -> Bool {
        try await engine.client.query("SELECT EXISTS (SELECT 1 FROM opt_out WHERE phone = \(phone))", logger: engine.logger)
            .decode(Bool.self).array().first ?? false
    }
}
