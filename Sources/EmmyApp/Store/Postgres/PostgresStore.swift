import Foundation
import Logging
import PostgresNIO

/// `AppStore` on PostgreSQL: the same calls with the same meaning as the SQLite engine
/// (`AppDatabase`), for any number of replicas sharing one database. Its calls are spread over
/// the `PostgresStore+…` files by concept; the send queue's and the opt-out list's SQL live in
/// `PostgresSendQueue` and `PostgresOptOuts`.
///
/// What a replica may leave behind when it dies (claims, an open batch) belongs to its
/// `instanceID` or its sender's run id, both heartbeated in `send_run`; another replica's
/// periodic recovery hands them back once the heartbeat is older than `lease`.
public struct PostgresStore: AppStore {
    public let engine: PostgresEngine
    /// This process's ingests (`batch.ingest_run`).
    public let instanceID: String
    /// A run whose heartbeat is older than this is taken for dead.
    public let lease: Duration
    /// How long a health or readiness read may take before it counts as down: the pool waits
    /// for a connection it cannot make for much longer than a probe's patience.
    public let probeTimeout: Duration

    public init(engine: PostgresEngine, instanceID: String = UUID().uuidString.lowercased(), lease: Duration = .seconds(30),
                probeTimeout: Duration = .seconds(5)) {
        self.engine = engine
        self.instanceID = instanceID
        self.lease = lease
        self.probeTimeout = probeTimeout
    }

    var logger: Logger { engine.logger }

    func queue(_ runID: String) -> PostgresSendQueue {
        PostgresSendQueue(engine: engine, runID: runID, lease: lease)
    }

    // MARK: Health and stats

    public func isMigrated() async throws -> Bool {
        let logger = self.logger
        return try await engine.answered(within: probeTimeout) { [engine] in
            try await engine.client.withConnection { try await PostgresMigrator().isMigrated($0, logger: logger) }
        }
    }

    /// Asks for a transaction id, which only a writable primary hands out, and commits.
    public func probeWrite() async throws {
        let logger = self.logger
        try await engine.answered(within: probeTimeout) { [engine] in
            try await engine.transaction { _ = try await $0.run("SELECT pg_current_xact_id()", logger: logger).collect() }
        }
    }

    public func statusCounts() async throws -> [String: Int] {
        try await engine.answered(within: probeTimeout) { [engine] in
            var counts: [String: Int] = [:]
            for try await (status, count) in try await engine.client.query("SELECT status, count(*) FROM message GROUP BY status", logger: engine.logger)
                .decode((String, Int).self) {
                counts[status] = count
            }
            return counts
        }
    }

    public func queueState(now: Date) async throws -> QueueState {
        try await engine.answered(within: probeTimeout) { [engine] in
            let rows = try await engine.client.query("""
                SELECT count(*), min(created_at) FROM message WHERE status = ANY(\(MessageStatus.waiting.map(\.rawValue)))
                """, logger: engine.logger).decode((Int, Date?).self).array()
            let (depth, oldest) = rows.first ?? (0, nil)
            return QueueState(depth: depth, oldestAge: oldest.map { max(0, now.timeIntervalSince($0)) } ?? 0)
        }
    }

    public func totals() async throws -> StoreTotals {
        let rows = try await engine.client.query("SELECT (SELECT count(*) FROM rejection), (SELECT count(*) FROM batch)", logger: logger)
            .decode((Int, Int).self).array()
        return StoreTotals(rejections: rows.first?.0 ?? 0, batches: rows.first?.1 ?? 0)
    }

    public func providerRefusals(codes: [String], since: Date) async throws -> [String: Int] {
        guard !codes.isEmpty else { return [:] }
        var counts: [String: Int] = [:]
        for try await (code, count) in try await engine.client.query("""
            SELECT error_code, count(*) FROM message WHERE error_code = ANY(\(codes)) AND updated_at >= \(since) GROUP BY error_code
            """, logger: logger).decode((String, Int).self) {
            counts[code] = count
        }
        return counts
    }

    // MARK: API tokens (only their SHA-256 hashes are stored)

    public func insertToken(id: String, name: String, hash: String, createdAt: Date) async throws {
        try await engine.client.query("INSERT INTO api_token (id, name, hash, created_at) VALUES (\(id), \(name), \(hash), \(createdAt))",
                                      logger: logger)
    }

    public func tokens() async throws -> [StoredToken] {
        try await engine.client.query("SELECT id, name, created_at, revoked_at FROM api_token ORDER BY created_at", logger: logger)
            .decode((String, String, Date, Date?).self).array()
            .map { StoredToken(id: $0.0, name: $0.1, createdAt: $0.2, revokedAt: $0.3) }
    }

    public func revokeToken(nameOrID: String, now: Date) async throws -> Bool {
        try await engine.client.query("""
            UPDATE api_token SET revoked_at = \(now) WHERE (name = \(nameOrID) OR id = \(nameOrID)) AND revoked_at IS NULL RETURNING id
            """, logger: logger).collect().count > 0
    }

    public func isActiveToken(hash: String) async throws -> Bool {
        try await engine.client.query("SELECT EXISTS (SELECT 1 FROM api_token WHERE hash = \(hash) AND revoked_at IS NULL)", logger: logger)
            .decode(Bool.self).array().first ?? false
    }
}
