@testable import EmmyApp
import Foundation
import Testing

/// `emmyops serve` with `app.database: postgres://…`, as users run it: the built binary on a
/// real PostgreSQL 15, the password read from its file (and never printed), ready once the
/// engine answers, and a posted batch sent (and delivered) by the log provider.
@Suite(.postgresCluster) struct ServeOnPostgresTests {
    /// The executable `swift build` puts next to the test bundle.
    static var binary: String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("emmyops").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return ".build/debug/emmyops"
    }

    /// One HTTP exchange through curl: the status and the body.
    static func http(_ arguments: [String]) throws -> (status: Int, body: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sS", "--max-time", "10", "-w", "\n%{http_code}"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let status = Int(text.split(separator: "\n").last ?? "") ?? 0
        return (status, String(text.dropLast(text.split(separator: "\n").last?.count ?? 0)))
    }

    @Test func servesFromPostgresReadyAndSendsAPostedBatch() async throws {
        let cluster = try PostgresCluster.current
        let settings = try await cluster.freshDatabase()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("emmy-serve-pg-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let passwordFile = directory.appendingPathComponent("db-password")
        try Data((cluster.password + "\n").utf8).write(to: passwordFile)
        let spec = directory.appendingPathComponent("emmy.yaml")
        try """
            version: 1
            app:
              database: \(settings.dsn)
              database_password_file: \(passwordFile.path)
              database_tls: disable
            """.write(to: spec, atomically: true, encoding: .utf8)
        let port = try ConnectionLimitTests.freePort()
        let log = directory.appendingPathComponent("serve.log")
        try Data().write(to: log)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Self.binary)
        server.arguments = ["serve", "--spec", spec.path, "--port", "\(port)", "--data-dir", directory.appendingPathComponent("data").path]
        server.environment = ProcessInfo.processInfo.environment.filter { $0.key != PostgresSettings.passwordVariable }
        let output = try FileHandle(forWritingTo: log)
        server.standardOutput = output
        server.standardError = output
        try server.run()
        defer {
            if server.isRunning { server.terminate() }
            server.waitUntilExit()
        }
        let base = "http://127.0.0.1:\(port)"
        func logText() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        let deadline = ContinuousClock.now + .seconds(60)
        var ready = (status: 0, body: "")
        while ContinuousClock.now < deadline, server.isRunning {
            ready = try Self.http(["\(base)/ready"])
            if ready.status == 200 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(ready.status == 200, "not ready: \(ready)\n\(logText())")
        #expect(ready.body.contains("\"writable\":true"))

        let posted = try Self.http(["-X", "POST", "-H", "Content-Type: application/json", "--data",
                                    #"{"contacts":[{"phone":"+254712345678"},{"phone":"+254712345679"}],"message":"Hi from PostgreSQL"}"#,
                                    "\(base)/messages"])
        #expect(posted.status == 202, "\(posted)")
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(posted.body.utf8)) as? [String: Any], "\(posted)")
        #expect(answer["accepted"] as? Int == 2)
        let batch = try #require(answer["batch_id"] as? String)

        var statuses: [String: Int] = [:]
        while ContinuousClock.now < deadline {
            let read = try Self.http(["\(base)/api/batches/\(batch)"])
            let object = try JSONSerialization.jsonObject(with: Data(read.body.utf8)) as? [String: Any]
            statuses = object?["statuses"] as? [String: Int] ?? [:]
            if statuses["delivered"] == 2 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(statuses == ["delivered": 2], "the log provider delivers at once: \(logText())")
        let health = try Self.http(["\(base)/health"])
        #expect(health.status == 200 && health.body.contains("\"database\":\"ok\""), "\(health)")
        let metrics = try Self.http(["\(base)/metrics"])
        #expect(metrics.body.contains("emmy_database_up 1"), "database_down must read the engine in use")

        server.terminate()
        server.waitUntilExit()
        #expect(!logText().contains(cluster.password), "the password was printed")
    }
}
