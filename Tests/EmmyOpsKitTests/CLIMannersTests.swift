import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 17's CLI defects, each against the built binary: what a new user meets first.
@Suite struct CLIMannersTests {
    /// A socket listening on a free loopback port, as another server would.
    static func occupyPort() throws -> (descriptor: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound && listen(fd, 8) == 0, "cannot listen: \(String(cString: strerror(errno)))")
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test(arguments: ["up", "serve"])
    func busyPortIsOneLineAndExitTwo(command: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (fd, port) = try Self.occupyPort()
        defer { close(fd) }
        let result = try ProcessRunner().run(CLI.binary, [command, "--port", "\(port)", "--data-dir", dir.appendingPathComponent("data").path],
                                             currentDirectory: dir.path, timeout: 60)
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("cannot listen on 127.0.0.1:\(port): the port is in use"), "\(result.stderr)")
        #expect(!(result.stdout + result.stderr).contains("http://127.0.0.1:\(port)/"), "the URL is announced only once the server listens")
    }

    /// `up` in the repository's own directory writes `.emmy/`; it was left untracked there.
    @Test func upsDataDirectoryIsIgnoredByTheRepository() throws {
        let checked = try GitHubTooling.run("git", ["check-ignore", "--no-index", "-v", ".emmy/emmy.sqlite", ".emmy/stack/prometheus/data"],
                                            in: GitHubTooling.root, timeout: 30)
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.split(separator: "\n").count == 2, "\(checked.stdout)")
    }

    @Test func unknownCommandsAreUsageErrorsWithASuggestion() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let typo = try CLI.run(["valdate"], in: dir)
        #expect(typo.status == 64)
        #expect(typo.stderr.contains("unknown command `valdate`; did you mean `validate`?"), "\(typo.stderr)")
        let helpOfNothing = try CLI.run(["nosuchcommand", "--help"], in: dir)
        #expect(helpOfNothing.status == 64, "\(helpOfNothing.stdout)")
        #expect(!helpOfNothing.stdout.contains("SUBCOMMANDS"))
        #expect(try CLI.run(["validate", "--help"], in: dir).status == 0)
        let version = try CLI.run(["--version"], in: dir)
        #expect(version.status == 0 && version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).first?.isNumber == true)
    }

    @Test func helpTextsAreCurrent() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let deploy = try CLI.run(["deploy", "--help"], in: dir)
        // One option entry (the release name); the usage line names it too.
        let entries = deploy.stdout.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("--version") }
        #expect(entries.count == 1, "\(deploy.stdout)")
        let render = try CLI.run(["render", "--help"], in: dir)
        // The target argument's own help, between ARGUMENTS: and OPTIONS:.
        let arguments = try #require(render.stdout.range(of: "ARGUMENTS:")).upperBound
        let options = try #require(render.stdout.range(of: "OPTIONS:")).lowerBound
        let argumentHelp = render.stdout[arguments..<options]
        for target in RenderTarget.allCases { #expect(argumentHelp.contains(target.rawValue), "\(argumentHelp)") }
        // `backup --help` printed the top-level help and exited 0 when backup was not a command.
        let backup = try CLI.run(["backup", "--help"], in: dir)
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect(backup.stdout.contains("USAGE: emmyops backup"), "\(backup.stdout)")
        for subcommand in ["create", "list", "verify", "restore", "prune"] { #expect(backup.stdout.contains(subcommand), "\(backup.stdout)") }
        #expect(!backup.stdout.contains("render-monitoring"), "the top-level help, not backup's: \(backup.stdout)")
    }

    @Test func everyCommandWithOutputHonoursFormatJSON() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "version: 1\nhosts: [{ name: web-1, address: 10.0.0.5 }]\n".write(to: dir.appendingPathComponent("emmy.yaml"), atomically: true, encoding: .utf8)
        func json(_ arguments: [String]) throws -> Any {
            let result = try CLI.run(arguments, in: dir)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return try #require(try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)), "\(arguments): \(result.stdout)")
        }
        let dryRun = try #require(try json(["deploy", "--host", "web-1", "--dry-run", "--artifact", "emmy.yaml", "--version", "v1", "--format", "json"]) as? [String: Any])
        #expect(dryRun["version"] as? String == "v1")
        #expect(((dryRun["hosts"] as? [[String: Any]])?.first?["steps"] as? [String])?.isEmpty == false)
        let rendered = try #require(try json(["render", "all", "--out", "r", "--format", "json"]) as? [String: Any])
        #expect((rendered["files"] as? Int ?? 0) > 10 && (rendered["changed"] as? [String])?.isEmpty == false)
        let data = dir.appendingPathComponent("data").path
        let created = try #require(try json(["token", "create", "ci", "--data-dir", data, "--format", "json"]) as? [String: String])
        #expect(created["name"] == "ci" && (created["token"]?.count ?? 0) > 20)
        let listed = try #require(try json(["token", "list", "--data-dir", data, "--format", "json"]) as? [[String: Any]])
        #expect(listed.map { $0["name"] as? String } == ["ci"])
        let revoked = try #require(try json(["token", "revoke", "ci", "--data-dir", data, "--format", "json"]) as? [String: String])
        #expect(revoked["revoked"] == "ci")

        let initDir = dir.appendingPathComponent("fresh").path
        let wrote = try #require(try json(["init", "--dir", initDir, "--format", "json"]) as? [String: String])
        #expect(wrote["wrote"] == initDir + "/emmy.yaml")
        // The incident verbs a person runs by hand, on the ledger alone (no app needed).
        let ledger = ["--data-dir", dir.appendingPathComponent("incident").path]
        let plan = try #require(try json(["incident", "handle", "app_down", "--dry-run", "--format", "json"] + ledger) as? [String: Any])
        #expect(plan["kind"] as? String == "app_down" && plan["host"] as? String == "web-1" && plan["dry_run"] as? Bool == true, "\(plan)")
        let steps = try #require(plan["steps"] as? [[String: Any]])
        #expect(!steps.isEmpty && steps.allSatisfy { $0["step"] is String && $0["verdict"] is String && $0["destructive"] is Bool }, "\(steps)")
        let frozen = try #require(try json(["incident", "freeze", "app_down", "--host", "web-1", "--format", "json"] + ledger) as? [String: Any])
        #expect(frozen["new"] as? Bool == true && frozen["host"] as? String == "web-1", "\(frozen)")
        let acked = try #require(try json(["incident", "ack", "app_down", "--format", "json"] + ledger) as? [String: Any])
        #expect(acked["lifted"] as? Int == 1 && acked["kind"] as? String == "app_down", "\(acked)")
    }

    /// Progress and colour are for a person at a terminal (`script` gives the command one);
    /// piped output stays plain, and NO_COLOR or --no-color turn colour off there too.
    @Test(.enabled(if: ProcessRunner.which("promtool") != nil || CLI.toolsRequired, "promtool is not installed"))
    func progressAndColourOnlyOnATerminal() throws {
        let script = try #require(ProcessRunner.which("script"), "util-linux `script` is missing")
        let promtool = try #require(ProcessRunner.which("promtool"))
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLI.run(["init"], in: dir).status == 0)
        // Only promtool on PATH keeps the run short; the other tools are noted missing.
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent("promtool").path, withDestinationPath: promtool)
        func onTerminal(_ prefix: String) throws -> String {
            let command = "cd '\(dir.path)' && env \(prefix) PATH='\(bin.path)' '\(CLI.binary)' validate --tools auto"
            return try ProcessRunner().run(script, ["-qec", command, "/dev/null"], timeout: 120).stdout
        }
        // The harness's own environment may ask for no colour; this run must not inherit that.
        let terminal = try onTerminal("-u NO_COLOR")
        #expect(terminal.contains("promtool check config"), "\(terminal)")
        #expect(terminal.contains("\u{1B}[32m"), "a passed check is green on a terminal: \(terminal)")
        #expect(!(try onTerminal("NO_COLOR=1")).contains("\u{1B}["))
        let noColour = try ProcessRunner().run(script, ["-qec", "cd '\(dir.path)' && env -u NO_COLOR PATH='\(bin.path)' '\(CLI.binary)' --no-color validate --tools auto", "/dev/null"],
                                               timeout: 120).stdout
        #expect(noColour.contains("promtool check config") && !noColour.contains("\u{1B}["), "\(noColour)")
        let piped = try CLI.run(["validate", "--tools", "auto"], in: dir, environment: ["PATH": bin.path])
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(!piped.stderr.contains("promtool check config") && !piped.stderr.contains("\u{1B}["), "\(piped.stderr)")
    }
}
