import EmmyApp
@testable import EmmyOpsKit
import Foundation
import PostgresNIO
import Testing

/// The automation's pause reads its evidence where the app keeps its data: on PostgreSQL that is
/// the spec's `app.database` (there is no emmy.sqlite on the host), reached with the password
/// the app reads — from `<root>/shared/secrets.env`, as deploy starts the release, or from
/// `app.database_password_file` — read-only and without migrating.
@Suite(.postgresCluster) struct SendingSwitchPostgresTests {
    /// A database of the suite's cluster, migrated as the app does, holding `failures`: (error
    /// code, seconds since the message's last attempt).
    static func database(_ failures: [(code: String, age: Int)]) async throws -> PostgresSettings {
        let cluster = try PostgresCluster.current
        let settings = try await cluster.freshDatabase()
        try await PostgresEngine.withRunning(settings: settings, password: cluster.password, logger: PostgresCluster.logger) { engine in
            try await engine.client.query("INSERT INTO batch (id, created_at, source, template) VALUES ('b1', now(), 'json', 'Hello')",
                                          logger: PostgresCluster.logger)
            for (row, failure) in failures.enumerated() {
                try await engine.client.query("""
                    INSERT INTO message (batch_id, row, phone, body, body_hash, encoding, segments, status, created_at, updated_at, attempts, error_code)
                    VALUES ('b1', \(row), \("+2547120000\(String(format: "%02d", row))"), 'Hello', 0, 'GSM-7', 1, 'failed',
                            now() - make_interval(secs => \(Double(failure.age))), now() - make_interval(secs => \(Double(failure.age))), 2, \(failure.code))
                    """, logger: PostgresCluster.logger)
            }
        }
        return settings
    }

    /// A host `local` whose root is `dir`, its app on `settings`.
    static func spec(_ settings: PostgresSettings, root: URL, extra: String = "") -> String {
        """
        version: 1
        project: evidence
        app:
          name: emmy-evidence
          provider: { kind: log }
          database: \(settings.dsn)
          database_tls: disable
        \(extra)
        hosts:
          - { name: local, address: 127.0.0.1, roles: [app], root: \(SSHHosts.yamlString(root.path)) }

        """
    }

    /// The spec's host `local`, as `incident` acts on it.
    static func target(_ text: String) throws -> IncidentTarget {
        let loaded = SpecLoader.load(text: text, file: "emmy.yaml")
        #expect(!loaded.diagnostics.contains { $0.severity == .error }, "\(loaded.diagnostics)")
        let spec = try #require(loaded.spec)
        return IncidentTarget(host: try #require(spec.hosts.first), spec: spec)
    }

    @Test("recent 401/20003 failures in PostgreSQL pause sending, counted in the reason; the password comes from the host's secrets.env")
    func authRefusalsInPostgresPause() async throws {
        let cluster = try PostgresCluster.current
        // Counted: refusals of the last 15 minutes. Not counted: a 5xx, and a refusal of an hour ago.
        let settings = try await Self.database([("20003", 30), ("20003", 60), ("20003", 600), ("http_401", 5), ("http_401", 120),
                                                ("http_500", 10), ("20003", 3600)])
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("shared"), withIntermediateDirectories: true)
        // Where `secrets push` puts it, and what deploy starts the release with.
        try AtomicFile.write(Data("EMMY_DATABASE_PASSWORD=\(cluster.password)\n".utf8), to: dir.appendingPathComponent("shared/secrets.env").path, mode: 0o600)
        let spec = dir.appendingPathComponent("emmy.yaml")
        try Self.spec(settings, root: dir).write(to: spec, atomically: true, encoding: .utf8)

        let paused = try CLI.run(["incident", "pause-sending", "--if-auth-refused", "--host", "local", "--reason", "high_failure_rate",
                                  "--spec", spec.path, "--data-dir", dir.appendingPathComponent("incident").path], in: dir)
        #expect(paused.status == 0 && paused.stdout.hasPrefix(
            "changed: paused sending on local (high_failure_rate; the provider refused the credentials: 3 × 20003, 2 × http_401)"),
                "\(paused.stdout)\(paused.stderr)")
        let marker = try #require(SendingPause(dataDirectory: dir.appendingPathComponent("shared").path).marker())
        #expect(marker.reason.hasSuffix("3 × 20003, 2 × http_401"), "\(marker.reason)")
    }

    @Test("no recent auth refusal in PostgreSQL: not paused; the password comes from app.database_password_file")
    func otherFailuresInPostgresDoNotPause() async throws {
        let cluster = try PostgresCluster.current
        let settings = try await Self.database([("http_500", 10), ("20429", 20), ("20003", 3600)])
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let passwordFile = dir.appendingPathComponent("database-password").path
        try AtomicFile.write(Data((cluster.password + "\n").utf8), to: passwordFile, mode: 0o600)
        let target = try Self.target(Self.spec(settings, root: dir, extra: "  database_password_file: \(SSHHosts.yamlString(passwordFile))"))

        #expect(try await SendingSwitch.authRefusals(target).isEmpty)
        let outcome = try await SendingSwitch.pause(target, reason: "high_failure_rate", who: "test", onlyIfAuthRefused: true)
        #expect(!outcome.changed && outcome.detail.hasPrefix("not paused: no auth refusal"), "\(outcome.detail)")
        #expect(!SendingPause(dataDirectory: target.appDataDirectory).isPaused)
    }

    @Test("the evidence reader changes nothing: on a database the app never migrated it fails and creates no table")
    func theReaderNeverMigrates() async throws {
        let cluster = try PostgresCluster.current
        let settings = try await cluster.freshDatabase()
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let passwordFile = dir.appendingPathComponent("database-password").path
        try AtomicFile.write(Data((cluster.password + "\n").utf8), to: passwordFile, mode: 0o600)
        let target = try Self.target(Self.spec(settings, root: dir, extra: "  database_password_file: \(SSHHosts.yamlString(passwordFile))"))

        await #expect(throws: (any Error).self) { try await SendingSwitch.authRefusals(target) }
        let tables = try await PostgresEngine.withReading(settings: settings, password: cluster.password, logger: PostgresCluster.logger) { engine in
            var counts: [Int] = []
            for try await count in try await engine.client.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
                                                                 logger: PostgresCluster.logger).decode(Int.self) {
                counts.append(count)
            }
            return counts
        }
        #expect(tables == [0], "the reader created tables")
    }
}
