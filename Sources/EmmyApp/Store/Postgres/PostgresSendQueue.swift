import Foundation
import Logging
import PostgresNIO

/// The send queue on PostgreSQL, shared by every replica: the same states as the SQLite
/// `SendQueue` (a claim is `sending` with `claimed_by` set to the run; a retry waits as
/// `sending` with `claimed_by` NULL; statuses never move back), claimed with
/// `FOR UPDATE SKIP LOCKED` so replicas claiming at once each take different rows and none waits.
///
/// Where SQLite can treat every other run's claim as dead at startup (one process owns the
/// file), here another run may be alive on another host. Each run heartbeats in `send_run`; a
/// claim is in doubt once its run's heartbeat is older than the lease, and any replica's
/// recovery hands it back, marked in doubt, to be looked up at the provider before it is sent
/// again, exactly as after a crash with SQLite.
public struct PostgresSendQueue: Sendable {
    let engine: PostgresEngine
    /// Identifies this process's claims.
    public let runID: String
    /// A run whose heartbeat is older than this is taken for dead. Several heartbeat periods,
    /// so one slow query does not cost a live replica its claims.
    public let lease: Duration

    public init(engine: PostgresEngine, runID: String = UUID().uuidString.lowercased(), lease: Duration = .seconds(30)) {
        self.engine = engine
        self.runID = runID
        self.lease = lease
    }

    /// Records that this run is alive; call it every `lease / 3` or so while sending.
    public func heartbeat() async throws {
        try await engine.client.query("""
            INSERT INTO send_run (id) VALUES (\(runID))
            ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()
            """, logger: engine.logger)
    }

    /// Hands the claims of runs whose heartbeat stopped back to the pool, marked in doubt, and
    /// forgets those runs. Returns how many messages. Safe to call from every replica at once:
    /// a row is updated by one of them, the others find it no longer claimed.
    @discardableResult
    public func recoverInDoubt() async throws -> Int {
        let (runID, leaseSeconds, logger) = (runID, lease.seconds, engine.logger)
        return try await engine.transaction { connection in
            let recovered = try await connection.run("""
                UPDATE message SET claimed_by = NULL, in_doubt = true
                WHERE status = 'sending' AND claimed_by IS NOT NULL AND claimed_by <> \(runID)
                  AND NOT EXISTS (SELECT 1 FROM send_run r WHERE r.id = message.claimed_by
                                  AND r.heartbeat_at > now() - make_interval(secs => \(leaseSeconds)))
                RETURNING id
                """, logger: logger).collect().count
            try await connection.run("""
                DELETE FROM send_run WHERE id <> \(runID) AND heartbeat_at <= now() - make_interval(secs => \(leaseSeconds))
                """, logger: logger)
            return recovered
        }
    }

    /// Claims up to `limit` messages in one transaction: retries that are due first, then
    /// queued messages in order. Rows another replica is claiming at this moment are skipped,
    /// not waited for. Returns the jobs and how many were newly `sending`.
    public func claim(limit: Int, now: Date = Date()) async throws -> (jobs: [SendQueue.Job], fresh: Int) {
        let (runID, logger) = (runID, engine.logger)
        return try await engine.transaction { connection in
            let due = try await Self.jobs(connection.run("""
                WITH picked AS (
                    SELECT id FROM message WHERE status = 'sending' AND claimed_by IS NULL AND next_attempt_at <= \(now)
                    ORDER BY next_attempt_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                UPDATE message m SET claimed_by = \(runID), updated_at = \(now) FROM picked WHERE m.id = picked.id
                RETURNING \(unescaped: Self.jobColumns)
                """, logger: logger))
            guard due.count < limit else { return (due, 0) }
            let fresh = try await Self.jobs(connection.run("""
                WITH picked AS (
                    SELECT id FROM message WHERE status = 'queued' ORDER BY id LIMIT \(limit - due.count) FOR UPDATE SKIP LOCKED)
                UPDATE message m SET status = 'sending', claimed_by = \(runID), updated_at = \(now) FROM picked WHERE m.id = picked.id
                RETURNING \(unescaped: Self.jobColumns)
                """, logger: logger))
            return (due + fresh, fresh.count)
        }
    }

    /// Gives claimed but unattempted messages back (on shutdown), still `sending`.
    public func release(_ ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        try await engine.client.query("""
            UPDATE message SET claimed_by = NULL WHERE id = ANY(\(ids)) AND status = 'sending' AND claimed_by = \(runID)
            """, logger: engine.logger)
    }

    /// Records many outcomes in one transaction; returns how many messages entered each
    /// status. Like the SQLite queue, an outcome only applies to a message still `sending`.
    public func record(_ outcomes: [SendQueue.Outcome], now: Date = Date()) async throws -> [MessageStatus: Int] {
        guard !outcomes.isEmpty else { return [:] }
        var accepted: [(id: Int64, providerID: String, status: String, attempted: Int)] = []
        var retries: [(id: Int64, at: Date, code: String, reason: String, inDoubt: Bool, attempted: Int)] = []
        var failures: [(id: Int64, code: String, reason: String)] = []
        for outcome in outcomes {
            switch outcome {
            case let .accepted(id, providerID, status, attempted): accepted.append((id, providerID, status.rawValue, attempted ? 1 : 0))
            case let .retry(id, at, code, reason, inDoubt, attempted): retries.append((id, at, code, reason, inDoubt, attempted ? 1 : 0))
            case let .failed(id, code, reason): failures.append((id, code, reason))
            }
        }
        let logger = engine.logger
        var entered: [MessageStatus: Int] = try await engine.transaction { connection in
            var entered: [MessageStatus: Int] = [:]
            if !accepted.isEmpty {
                for try await status in try await connection.run("""
                    UPDATE message m SET status = u.status, provider_id = u.provider_id, attempts = m.attempts + u.attempted,
                        claimed_by = NULL, in_doubt = false, error_code = NULL, error_message = NULL, updated_at = \(now)
                    FROM unnest(\(accepted.map(\.id)), \(accepted.map(\.providerID)), \(accepted.map(\.status)), \(accepted.map(\.attempted)))
                        AS u (id, provider_id, status, attempted)
                    WHERE m.id = u.id AND m.status = 'sending'
                    RETURNING m.status
                    """, logger: logger).decode(String.self) {
                    if let status = MessageStatus(rawValue: status) { entered[status, default: 0] += 1 }
                }
            }
            if !retries.isEmpty {
                try await connection.run("""
                    UPDATE message m SET attempts = m.attempts + u.attempted, claimed_by = NULL, in_doubt = u.in_doubt,
                        next_attempt_at = u.at, error_code = u.code, error_message = u.reason, updated_at = \(now)
                    FROM unnest(\(retries.map(\.id)), \(retries.map(\.attempted)), \(retries.map(\.inDoubt)), \(retries.map(\.at)),
                                \(retries.map(\.code)), \(retries.map(\.reason))) AS u (id, attempted, in_doubt, at, code, reason)
                    WHERE m.id = u.id AND m.status = 'sending'
                    """, logger: logger)
            }
            if !failures.isEmpty {
                entered[.failed, default: 0] += try await connection.run("""
                    UPDATE message m SET status = 'failed', attempts = m.attempts + 1, claimed_by = NULL, in_doubt = false,
                        error_code = u.code, error_message = u.reason, updated_at = \(now)
                    FROM unnest(\(failures.map(\.id)), \(failures.map(\.code)), \(failures.map(\.reason))) AS u (id, code, reason)
                    WHERE m.id = u.id AND m.status = 'sending'
                    RETURNING m.id
                    """, logger: logger).collect().count
            }
            return entered
        }
        // A status callback can beat the write that stored the provider id, and may have been
        // taken by another replica: look for it only now, after that write committed (see
        // `applyCallback` for why this order misses none).
        for (status, count) in try await applyEarlyCallbacks(accepted.map(\.id), now: now) { entered[status, default: 0] += count }
        return entered
    }

    private func applyEarlyCallbacks(_ ids: [Int64], now: Date) async throws -> [MessageStatus: Int] {
        guard !ids.isEmpty else { return [:] }
        var entered: [MessageStatus: Int] = [:]
        for status in [MessageStatus.delivered, .undelivered, .failed] {
            entered[status] = try await engine.client.query("""
                UPDATE message m SET status = e.status, updated_at = \(now), error_code = e.error_code
                FROM provider_event e
                WHERE m.id = ANY(\(ids)) AND e.provider_id = m.provider_id AND e.status = \(status.rawValue)
                  AND m.status = ANY(\(status.predecessors.map(\.rawValue)))
                RETURNING m.id
                """, logger: engine.logger).collect().count
        }
        return entered.filter { $0.value > 0 }
    }

    /// Applies a provider status callback, which may reach any replica: remembered once, and
    /// moving the message forward only.
    ///
    /// The event is committed before the message is looked for, and `record` commits the
    /// provider id before it looks for events: whichever of the two commits second sees the
    /// other's row, so a callback racing the sender's write is applied by one of them.
    public func applyCallback(providerID: String, status: MessageStatus, errorCode: String?, now: Date = Date()) async throws -> CallbackEffect {
        let inserted = try await engine.client.query("""
            INSERT INTO provider_event (provider_id, status, error_code, received_at) VALUES (\(providerID), \(status.rawValue), \(errorCode), \(now))
            ON CONFLICT DO NOTHING RETURNING 1
            """, logger: engine.logger).collect().count
        guard inserted > 0 else { return .duplicate }
        guard !status.predecessors.isEmpty else { return .ignored }
        let moved = try await engine.client.query("""
            UPDATE message SET status = \(status.rawValue), updated_at = \(now), error_code = COALESCE(\(errorCode), error_code)
            WHERE provider_id = \(providerID) AND status = ANY(\(status.predecessors.map(\.rawValue)))
            RETURNING id
            """, logger: engine.logger).collect().count
        return moved > 0 ? .moved(status) : .ignored
    }

    private static let jobColumns = "m.id, m.phone, m.body, m.segments, m.attempts, m.created_at, m.in_doubt"

    /// Jobs in id order (RETURNING has no order of its own).
    private static func jobs(_ rows: PostgresRowSequence) async throws -> [SendQueue.Job] {
        var jobs: [SendQueue.Job] = []
        for try await (id, phone, body, segments, attempts, createdAt, inDoubt) in rows.decode((Int64, String, String, Int, Int, Date, Bool).self) {
            jobs.append(SendQueue.Job(message: OutgoingMessage(id: id, to: phone, body: body, segments: segments, queuedAt: createdAt),
                                      attempts: attempts, inDoubt: inDoubt))
        }
        return jobs.sorted { $0.message.id < $1.message.id }
    }
}
