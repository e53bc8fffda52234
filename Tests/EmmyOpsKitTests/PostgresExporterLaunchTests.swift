import EmmyApp
@testable import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `deploy --monitoring` starts postgres_exporter with what `PostgresExporterLaunch` builds;
/// here the real exporter runs with exactly that against a real PostgreSQL and must report it
/// up, without the password ever being an argument or an environment value.
@Suite(.postgresCluster) struct PostgresExporterLaunchTests {
    @Test func theExporterReachesTheDatabaseWithThePasswordOnlyInAFile() async throws {
        let cluster = try PostgresCluster.current
        let settings = try await cluster.freshDatabase()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("emmy-pgexp-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let passwordFile = directory + "/password"
        try AtomicFile.write(Data((cluster.password + "\n").utf8), to: passwordFile, mode: 0o600)
        let listen = "127.0.0.1:\(try LoopbackPorts.pick(1)[0])"

        let launch = PostgresExporterLaunch(settings: settings, listen: listen, passwordFile: passwordFile)
        #expect(!launch.arguments.contains { $0.contains(cluster.password) })
        #expect(!launch.environment.values.contains { $0.contains(cluster.password) })
        #expect(launch.environment["DATA_SOURCE_URI"] == "127.0.0.1:\(cluster.port)/\(settings.database)?sslmode=disable")

        let executable = try #require(MonitoringService.postgresExporter.executables.lazy.compactMap(ProcessRunner.which).first,
                                       "postgres_exporter is not installed; run scripts/install-deps.sh")
        let log = directory + "/exporter.log"
        var environment = launch.environment
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        let pid = try ProcessSpawn.spawn([executable] + launch.arguments, .detached(logFile: log, environment: environment))
        defer { kill(pid, SIGKILL); waitpid(pid, nil, 0) }

        let deadline = Date().addingTimeInterval(15)
        var last = ""
        while Date() < deadline {
            guard ReleaseProcess.isAlive(pid) else {
                Issue.record("the exporter exited:\n\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
                return
            }
            if case .success(let answer) = HTTPProbe.request("http://\(listen)/metrics", timeout: 2), answer.status == 200 {
                last = answer.body.split(separator: "\n").first { $0.hasPrefix("pg_up ") }.map(String.init) ?? "no pg_up"
                if last == "pg_up 1" { break }
            }
            usleep(100_000)
        }
        #expect(last == "pg_up 1", "exporter log:\n\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        #expect(!((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(cluster.password))
    }

    /// lib/pq, the exporter's driver, refuses libpq's `prefer`, the spec's default.
    @Test func preferBecomesRequire() {
        let settings = PostgresSettings(user: "emmy", host: "::1", port: 5433, database: "emmy", tls: .prefer)
        let launch = PostgresExporterLaunch(settings: settings, listen: "10.0.0.5:9187", passwordFile: nil)
        #expect(launch.environment == ["DATA_SOURCE_URI": "[::1]:5433/emmy?sslmode=require", "DATA_SOURCE_USER": "emmy"])
        #expect(launch.arguments == ["--web.listen-address=10.0.0.5:9187"])
    }
}
