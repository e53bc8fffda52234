import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 18 through the built binary: the alias bomb against `validate`, `render` and `serve`,
/// the traversing host name against `deploy --dry-run`, and the modes of the files `serve` makes.
@Suite struct CLIHostileInputTests {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    @Test func anAliasBombInAKeyIsRefusedAtOnceByEveryCommandThatReadsTheSpec() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try (SpecHostileInputTests.ladder + "x: {[*a7]: 1}\n").write(to: dir.appendingPathComponent("bomb.yaml"), atomically: true, encoding: .utf8)
        let port = try LoopbackPorts.pick(1)[0]
        for arguments in [["validate", "--spec", "bomb.yaml"], ["render", "all", "--spec", "bomb.yaml", "--out", "r"],
                          ["serve", "--spec", "bomb.yaml", "--port", "\(port)", "--data-dir", "data"]] {
            let start = ContinuousClock.now
            let result = try CLI.run(arguments, in: dir)
            let elapsed = ContinuousClock.now - start
            #expect(elapsed < .seconds(10), "\(arguments[0]) took \(elapsed)")
            #expect(result.status == 1, "\(arguments[0]): \(result.stderr)")
            #expect(result.stderr.contains("bomb.yaml:10:6: error: an alias cannot be used as a mapping key or inside one"),
                    "\(arguments[0]): \(result.stderr)")
        }
    }

    @Test func aDockerDryRunRefusesAHostNameThatClimbsOutOfItsTemporaryFolder() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The dry run writes under $TMPDIR/emmyops-docker-<uuid>/; `../x/` from there is $TMPDIR/x.
        let temporary = dir.appendingPathComponent("tmp"), outside = temporary.appendingPathComponent("x")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try """
        version: 1
        app: { runtime: docker, image: "ghcr.io/acme/emmyops:1.4.0" }
        hosts:
          - { name: ../x/TRAVERSED, address: 10.0.0.5 }
        """.write(to: dir.appendingPathComponent("emmy.yaml"), atomically: true, encoding: .utf8)
        var environment = Self.environment
        environment["TMPDIR"] = temporary.path
        let result = try CLI.run(["deploy", "--all", "--dry-run", "--version", "1.4.0"], in: dir, environment: environment)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("emmy.yaml:4:13: error: hosts[0].name: host name `../x/TRAVERSED` is not a DNS label"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path) == [], "written outside the temporary folder")
    }

    /// Message bodies, phone numbers and tokens live in the data folder: outside systemd (whose
    /// unit sets UMask) a login shell's umask 022 used to leave them readable by every user.
    @Test func serveKeepsItsDataFolderAndDatabaseToItsOwner() async throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        let port = try LoopbackPorts.pick(1)[0]
        // `exec` keeps the pid, so stopping the harness stops emmyops itself.
        let server = try ProcessHarness(name: "serve", executable: "/bin/sh",
                                        arguments: ["-c", #"umask 022; exec "$0" "$@""#, CLI.binary, "serve", "--port", "\(port)", "--data-dir", data.path],
                                        logDirectory: dir)
        defer { server.stop() }
        try await poll("EmmyApp /ready", timeout: .seconds(30)) { () -> Bool? in
            try server.checkAlive()
            if case .success(200) = HTTPProbe.request("http://127.0.0.1:\(port)/ready").map(\.status) { return true }
            return nil
        }
        func mode(_ path: String) throws -> Int {
            try ((FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue).map { $0 & 0o777 } ?? -1
        }
        #expect(try mode(data.path) == 0o700, "\(server.logTail())")
        let files = try FileManager.default.contentsOfDirectory(atPath: data.path)
        #expect(files.contains { $0.hasSuffix(".db") || $0.hasSuffix(".sqlite") }, "no database in \(files)")
        for file in files {
            let fileMode = try mode(data.appendingPathComponent(file).path)
            #expect(fileMode & 0o077 == 0, "\(file) is \(String(fileMode, radix: 8))")
        }
    }
}
