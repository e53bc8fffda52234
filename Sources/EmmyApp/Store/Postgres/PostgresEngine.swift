import Foundation
import Logging
import NIOSSL
import PostgresNIO
import ServiceLifecycle

/// EmmyApp's data on a PostgreSQL server: a pool of connections (postgres-nio's
/// `PostgresClient`) that several replicas of the app share one database through.
///
/// The pool only hands out connections while `run()` runs: a server adds the engine to
/// its service group; tests and commands use `withRunning`, which runs it in a task of its own.
public struct PostgresEngine: Sendable, Service {
    public let client: PostgresClient
    let logger: Logger

    /// Connections per replica. Three replicas stay well under PostgreSQL's default
    /// `max_connections` of 100, with room for an operator's psql and a backup.
    public static let defaultMaximumConnections = 20

    /// `readOnly`: every transaction of the pool's sessions is read-only (the server refuses
    /// writes), for readers beside the app that must change nothing.
    public init(settings: PostgresSettings, password: String?, logger: Logger,
                maximumConnections: Int = PostgresEngine.defaultMaximumConnections, readOnly: Bool = false) {
        var configuration = PostgresClient.Configuration(host: settings.host, port: settings.port, username: settings.user,
                                                         password: password, database: settings.database, tls: Self.tls(settings.tls))
        configuration.options.maximumConnections = maximumConnections
        // A replica that cannot reach the server must say so within a health check's patience.
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = [("application_name", "emmyapp")]
            + (readOnly ? [("default_transaction_read_only", "on")] : [])
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
    }

    /// Runs the pool until cancelled (or a graceful shutdown of the service group).
    public func run() async throws {
        await client.run()
    }

    /// Runs the pool for the duration of `body`, and migrates first (once for all replicas).
    public static func withRunning<Result: Sendable>(
        settings: PostgresSettings, password: String?, logger: Logger,
        maximumConnections: Int = PostgresEngine.defaultMaximumConnections,
        migrations: [PostgresMigration] = PostgresSchema.migrations, startTimeout: Duration = .seconds(60),
        _ body: @Sendable (PostgresEngine) async throws -> Result
    ) async throws -> Result {
        let engine = PostgresEngine(settings: settings, password: password, logger: logger, maximumConnections: maximumConnections)
        return try await engine.withPool {
            // A server that cannot be reached must fail the start, not hang it.
            try await engine.answered(within: startTimeout) { try await PostgresMigrator(migrations: migrations).migrate(engine) }
            return try await body(engine)
        }
    }

    /// Runs a read-only pool of one connection for `body`, without migrating: for a reader in
    /// another process than the app (`emmyops incident` reading its evidence), which must not
    /// change the schema or anything else under the app. `body` must answer within `timeout`:
    /// the pool waits a minute for a server it cannot reach.
    public static func withReading<Result: Sendable>(
        settings: PostgresSettings, password: String?, logger: Logger, timeout: Duration = .seconds(30),
        _ body: @escaping @Sendable (PostgresEngine) async throws -> Result
    ) async throws -> Result {
        let engine = PostgresEngine(settings: settings, password: password, logger: logger, maximumConnections: 1, readOnly: true)
        return try await engine.withPool { try await engine.answered(within: timeout) { try await body(engine) } }
    }

    /// Runs the pool for the duration of `body`. The pool stops however the body ends (returns,
    /// throws, is cancelled), and is waited for: a pool left running would keep its connections
    /// and this call's caller waiting.
    private func withPool<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        let pool = Task { await client.run() }
        do {
            let result = try await body()
            pool.cancel()
            await pool.value
            return result
        } catch {
            pool.cancel()
            await pool.value
            throw error
        }
    }

    /// One transaction: committed when `body` returns, rolled back when it throws.
    func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await client.withConnection { connection in
            try await connection.withTransaction(logger: logger) { try await body($0) }
        }
    }

    /// libpq's modes on postgres-nio's TLS: `prefer` falls back to plain text when the server
    /// has no TLS; only `verify-full` checks the certificate chain and the host name.
    static func tls(_ mode: PostgresSettings.TLSMode) -> PostgresClient.Configuration.TLS {
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        switch mode {
        case .disable: return .disable
        case .prefer: return .prefer(unverified)
        case .require: return .require(unverified)
        case .verifyFull: return .require(.makeClientConfiguration())
        }
    }
}

// MARK: - Health

extension PostgresEngine {
    /// What `/health` and `/ready` say about the engine.
    public struct Check: Sendable, Equatable {
        /// Every known migration has run.
        public var migrated: Bool
        /// The server is a primary that accepts writes (not a standby, not read-only).
        public var writable: Bool
        /// Messages by status.
        public var messages: [String: Int]
    }

    /// The server did not answer within the check's time.
    public struct Unanswered: Error, CustomStringConvertible {
        public var timeout: Duration
        public var description: String { "the database did not answer within \(timeout)" }
    }

    /// Asks the server; throws when it cannot be reached or refuses, which `/health` reports
    /// as down. The pool waits for a connection it cannot make for up to a minute before it
    /// gives up; a probe must say so sooner, hence the timeout.
    public func check(migrations: [PostgresMigration] = PostgresSchema.migrations, timeout: Duration = .seconds(5)) async throws -> Check {
        try await answered(within: timeout) { try await self.probe(migrations: migrations) }
    }

    /// `body`'s answer, or `Unanswered` once `timeout` has passed (the body is cancelled).
    func answered<Result: Sendable>(within timeout: Duration, _ body: @escaping @Sendable () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let answer = try await group.next() ?? nil else { throw Unanswered(timeout: timeout) }
            return answer
        }
    }

    private func probe(migrations: [PostgresMigration]) async throws -> Check {
        try await client.withConnection { connection in
            let writable = try await connection.run(
                "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'", logger: logger)
                .decode(Bool.self).array().first ?? false
            let migrated = try await PostgresMigrator(migrations: migrations).isMigrated(connection, logger: logger)
            var messages: [String: Int] = [:]
            if migrated {
                for try await (status, count) in try await connection.run("SELECT status, count(*) FROM message GROUP BY status", logger: logger)
                    .decode((String, Int).self) {
                    messages[status] = count
                }
            }
            return Check(migrated: migrated, writable: writable, messages: messages)
        }
    }
}
