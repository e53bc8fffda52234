import Foundation
import Logging
import PostgresNIO

/// The send queue on PostgreSQL (`PostgresSendQueue`), as `AppStore` names it, and an
/// operator's retries.
extension PostgresStore {
    /// Each replica recovers this often, so a dead replica's claims wait at most a lease and a
    /// period before another replica looks them up and sends them.
    public var recoveryInterval: Duration? { lease / 3 }

    public func heartbeat(runID: String) async throws {
        let (logger, instanceID) = (self.logger, self.instanceID)
        try await engine.transaction { try await Self.beat([runID, instanceID], in: $0, logger: logger) }
    }

    /// Records that these runs are alive now.
    static func beat(_ runIDs: [String], in connection: PostgresConnection, logger: Logger) async throws {
        try await connection.run("""
            INSERT INTO send_run (id) SELECT DISTINCT id FROM unnest(\(runIDs)) AS t (id) ORDER BY id
            ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()
            """, logger: logger)
    }

    /// Hands back dead runs' claims, in doubt, and closes the batches dead processes were
    /// ingesting (so a replica killed mid-upload does not leave its batch open until the next
    /// start of some replica). Returns how many messages came back.
    public func recoverInDoubt(runID: String) async throws -> Int {
        let recovered = try await queue(runID).recoverInDoubt()
        let closed = try await closeInterruptedBatches()
        if closed > 0 { logger.warning("closed batches a dead replica left open", metadata: ["batches": "\(closed)"]) }
        return recovered
    }

    public func claim(limit: Int, runID: String, now: Date) async throws -> (jobs: [QueueJob], fresh: Int) {
        try await queue(runID).claim(limit: limit, now: now)
    }

    public func release(_ ids: [Int64], runID: String) async throws {
        try await queue(runID).release(ids)
    }

    public func record(_ outcomes: [SendOutcome], now: Date) async throws -> [MessageStatus: Int] {
        try await queue(instanceID).record(outcomes, now: now)
    }

    public func applyCallback(providerID: String, status: MessageStatus, errorCode: String?, now: Date) async throws -> CallbackEffect {
        try await queue(instanceID).applyCallback(providerID: providerID, status: status, errorCode: errorCode, now: now)
    }

    public func requeue(messageID: Int64, now: Date) async throws -> RequeueResult {
        let logger = self.logger
        return try await engine.transaction { connection in
            // The opt-out lock, shared: a STOP cannot slip between the check and the requeue.
            try await connection.run("SELECT pg_advisory_xact_lock_shared(\(PostgresOptOuts.lockKey))", logger: logger)
            guard let row = try await connection.run("""
                SELECT status, EXISTS (SELECT 1 FROM opt_out o WHERE o.phone = m.phone) FROM message m WHERE id = \(messageID) FOR UPDATE
                """, logger: logger).decode((String, Bool).self).array().first else { return .notFound }
            let (status, optedOut) = row
            guard MessageStatus.retryable.contains(where: { $0.rawValue == status }) else { return .refused(status: status) }
            if optedOut { return .refused(status: "opted_out") }
            try await connection.run("""
                UPDATE message SET \(unescaped: Self.requeueSet), updated_at = \(now) WHERE id = \(messageID)
                """, logger: logger)
            return .requeued
        }
    }

    public func requeueFailed(batchID: String, now: Date) async throws -> Int? {
        let logger = self.logger
        return try await engine.transaction { connection in
            try await connection.run("SELECT pg_advisory_xact_lock_shared(\(PostgresOptOuts.lockKey))", logger: logger)
            let exists = try await connection.run("SELECT EXISTS (SELECT 1 FROM batch WHERE id = \(batchID))", logger: logger)
                .decode(Bool.self).array().first ?? false
            guard exists else { return nil }
            return try await connection.run("""
                UPDATE message SET \(unescaped: Self.requeueSet), updated_at = \(now) WHERE batch_id = \(batchID) AND status = ANY(\(MessageStatus.unsuccessful.map(\.rawValue)))
                  AND NOT EXISTS (SELECT 1 FROM opt_out o WHERE o.phone = message.phone)
                RETURNING id
                """, logger: logger).collect().count
        }
    }

    /// A requeued message starts afresh, as on SQLite.
    private static let requeueSet = """
        status = 'queued', attempts = 0, next_attempt_at = '-infinity', claimed_by = NULL, in_doubt = false,
            provider_id = NULL, error_code = NULL, error_message = NULL
        """

    // MARK: Opt-outs and replies

    public func addOptOuts(_ phones: [String], source: String, now: Date) async throws -> OptOutAdded {
        try await PostgresOptOuts(engine: engine).add(phones, source: source, now: now)
    }

    public func removeOptOut(_ phone: String) async throws -> Bool {
        let logger = self.logger
        return try await engine.transaction { try await PostgresOptOuts.remove(phone, in: $0, logger: logger) }
    }

    /// The id is recorded in the transaction that acts on it, so a replayed START reaching
    /// another replica cannot undo a later STOP.
    public func applyInbound(messageID: String, action: InboundAction, now: Date) async throws -> ReplyEffect {
        let logger = self.logger
        return try await engine.transaction { connection in
            let fresh = try await connection.run("""
                INSERT INTO inbound_message (sid, received_at) VALUES (\(messageID), \(now)) ON CONFLICT DO NOTHING RETURNING sid
                """, logger: logger).collect().count > 0
            guard fresh else { return .repeated }
            switch action {
            case .optOut(let phone): return .optedOut(try await PostgresOptOuts.add([phone], source: "sms", now: now, in: connection, logger: logger))
            case .optIn(let phone): return .optedIn(wasListed: try await PostgresOptOuts.remove(phone, in: connection, logger: logger))
            case .none: return .none
            }
        }
    }
}
