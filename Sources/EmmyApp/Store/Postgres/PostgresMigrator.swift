import Logging
import PostgresNIO

/// One named schema change. Like the SQLite engine's, a migration is never edited after it
/// ships, only followed by a new one; its statements run one by one in one transaction.
public struct PostgresMigration: Sendable, Hashable {
    public var name: String
    public var statements: [String]

    public init(_ name: String, _ statements: [String]) {
        self.name = name
        self.statements = statements
    }
}

/// Runs the migrations not yet recorded in `emmy_migration`, all in one transaction that first
/// takes a transaction-scoped advisory lock. Replicas that start together queue on the lock;
/// the first applies what is missing, the others find it recorded and apply nothing. The lock
/// ends with the transaction however it ends (commit, rollback, a dropped connection), so a
/// replica that dies mid-migration never leaves it held, and PostgreSQL's transactional DDL
/// means a half-applied migration is rolled back, not recorded.
public struct PostgresMigrator: Sendable {
    public var migrations: [PostgresMigration]

    /// The advisory lock's key: any fixed 64-bit number other programs on the database will not
    /// pick ("emmymigr" in ASCII).
    static let lockKey: Int64 = 0x656D_6D79_6D69_6772

    public init(migrations: [PostgresMigration] = PostgresSchema.migrations) {
        self.migrations = migrations
    }

    /// Applies what is missing; returns the names this call applied (empty when another
    /// replica got there first).
    @discardableResult
    public func migrate(_ engine: PostgresEngine) async throws -> [String] {
        let (migrations, logger) = (self.migrations, engine.logger)
        return try await engine.transaction { connection in
            try await connection.run("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            try await connection.run("""
                CREATE TABLE IF NOT EXISTS emmy_migration (
                    name text PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: logger)
            let done = try await Self.applied(connection, logger: logger)
            var applied: [String] = []
            for migration in migrations where !done.contains(migration.name) {
                for statement in migration.statements {
                    try await connection.run(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.run("INSERT INTO emmy_migration (name) VALUES (\(migration.name))", logger: logger)
                applied.append(migration.name)
            }
            if !applied.isEmpty { logger.info("database migrated", metadata: ["applied": "\(applied.joined(separator: ", "))"]) }
            return applied
        }
    }

    /// True when every known migration has run (readiness).
    func isMigrated(_ connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let exists = try await connection.run("SELECT to_regclass('emmy_migration') IS NOT NULL", logger: logger)
            .decode(Bool.self).array().first ?? false
        guard exists else { return false }
        return Set(migrations.map(\.name)).isSubset(of: try await Self.applied(connection, logger: logger))
    }

    private static func applied(_ connection: PostgresConnection, logger: Logger) async throws -> Set<String> {
        Set(try await connection.run("SELECT name FROM emmy_migration", logger: logger).decode(String.self).array())
    }
}
