@testable import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The day-2 pieces that need no hosts: how logs read, how audit logs merge, how secrets are
/// found and read, when a lock may be released.
@Suite struct DayTwoUnitTests {
    @Test func jsonLogLinesReadAsTextAndKeepTheirPlaceInTime() {
        let lines: [Substring] = [
            "emmyops supervise: started child 12",
            #"{"level":"info","logger":"emmyapp","message":"request","path":"/old","time":"2026-11-23T07:00:00Z"}"#,
            "emmyops supervise: child 12 health: ok",
            #"{"level":"warning","logger":"emmyapp","message":"slow send","path":"/a b","time":"2026-11-23T07:10:00Z"}"#,
            "emmyops supervise: restarting in 1s",
        ]
        let readable = LogView(readable: true).render(lines, host: "web-1")
        #expect(readable[0] == "[web-1] emmyops supervise: started child 12")
        #expect(readable[1] == "[web-1] 2026-11-23T07:00:00Z INFO  request path=/old")
        #expect(readable[3] == #"[web-1] 2026-11-23T07:10:00Z WARNING slow send path="/a b""#)
        let raw = LogView(readable: false).render(lines, host: "web-1")
        #expect(raw.map { String($0.dropFirst("[web-1] ".count)) } == lines.map(String.init))
        // A plain line goes with the dated line before it; plain lines before any date are left out.
        let since = ISO8601DateFormatter().date(from: "2026-11-23T07:05:00Z")
        let recent = LogView(since: since, readable: false).render(lines, host: "web-1")
        #expect(recent == [String(lines[3]), String(lines[4])].map { "[web-1] " + $0 })
    }

    @Test func sinceTakesDurationsAndTimes() throws {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(Since.parse("10m", now: now) == now.addingTimeInterval(-600))
        #expect(Since.parse("1h30m", now: now) == now.addingTimeInterval(-5400))
        #expect(Since.parse("2026-11-23T07:00:00Z") == ISO8601DateFormatter().date(from: "2026-11-23T07:00:00Z"))
        #expect(Since.parse("yesterday") == nil)
    }

    @Test func auditLogsMergeIntoOneTimeline() {
        func entry(_ host: String, _ time: TimeInterval, _ to: String) -> AuditEntry {
            AuditEntry(who: "ci", when: Date(timeIntervalSince1970: time), host: host, from: nil, to: to, action: "deploy", result: "ok", durationS: 1)
        }
        let merged = FleetAudit.merge([[entry("b", 100, "v1"), entry("b", 300, "v2")], [entry("a", 200, "v1"), entry("a", 50, "v0")]],
                                      since: Date(timeIntervalSince1970: 100))
        #expect(merged.map { "\($0.host):\($0.to)" } == ["b:v1", "a:v1", "b:v2"])
        let secrets = AuditEntry(who: "ci", when: Date(timeIntervalSince1970: 0), host: "a", from: nil, to: "secrets", action: "secrets",
                                 result: "ok", durationS: 0.5, keys: ["B", "A"])
        #expect(FleetAudit.line(secrets).contains("secrets B, A  ok"))
    }

    @Test func secretsAreFoundWhereTheSpecReferencesThem() throws {
        let text = """
        version: 1
        hosts:
          - { name: web, address: 10.0.0.1, roles: [app] }
          - { name: mon, address: 10.0.0.2, roles: [monitoring] }
        app:
          secrets: [EXTRA_KEY]
          env: { FEATURE: "on", API_KEY: "${THIRD_PARTY_KEY}" }
          provider: { kind: twilio, twilio: { from: "+15005550006" } }
        notify:
          receivers:
            team: { slack: { webhook_url: "${SLACK_WEBHOOK_URL}" } }
            oncall: { pagerduty: { routing_key: "${PAGERDUTY_KEY}" } }
          routes: { critical: [oncall], warning: [team] }
        """
        let result = SpecLoader.load(text: text, file: "emmy.yaml")
        let spec = try #require(result.spec, "\(result.diagnostics)")
        let references = SecretReferences(spec)
        #expect(references.app == ["EXTRA_KEY", "THIRD_PARTY_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"])
        #expect(references.alertmanager == ["PAGERDUTY_KEY", "SLACK_WEBHOOK_URL"])
        #expect(references.names(for: spec.hosts[0]) == references.app)
        #expect(references.names(for: spec.hosts[1]) == references.alertmanager)
    }

    @Test func envFilesParseAndMissingValuesAreNamedNotShown() throws {
        let values = try SecretValues.parse(envFile: "# comment\n\nexport A=one=two\nB=\"quoted value\"\r\nC='x'\n", path: "s.env")
        #expect(values.values == ["A": "one=two", "B": "quoted value", "C": "x"])
        #expect(throws: DeployError.self) { try SecretValues.parse(envFile: "A=1\nnot a pair s3cr3t\n", path: "s.env") }
        do {
            _ = try SecretValues.parse(envFile: "A=1\nnot a pair s3cr3t\n", path: "s.env")
        } catch {
            #expect("\(error)" == "s.env:2: not a KEY=VALUE line", "the message must not quote the line")
        }
        do {
            _ = try values.pick(["A", "MISSING", "ALSO"], source: "s.env")
            Issue.record("missing values must fail")
        } catch {
            #expect("\(error)".contains("MISSING, ALSO") && !"\(error)".contains("one=two"))
        }
        #expect(throws: DeployError.self) { try SecretValues(["K": "a\nB=evil"]).pick(["K"], source: "env") }
    }
}

/// logs, details, audit and lock over real sshd, against a fleet deployed for real.
@Suite("Day-2 commands over real SSH", .serialized)
struct DayTwoFleetTests {
    @Test("details, logs (also --follow), audit and lock status|release on two deployed hosts",
          .enabled(if: SSHHosts.missing.isEmpty || SSHHosts.required, "\(SSHHosts.skipReason)"), .timeLimit(.minutes(3)))
    func dayTwoCommands() async throws {
        try await SSHHosts.with(2) { hosts in
            // A quick health probe, so the supervisors report `running` soon after the deploy.
            let spec = try hosts.writeSpec("emmy.yaml", hosts.spec() + "supervise: { health_interval: 1s }\n")
            let deploy = try hosts.emmyops(["deploy", "--all", "--version", "v1"], spec: spec)
            #expect(deploy.status == 0, "\(deploy.stdout)\n\(deploy.stderr)")

            // details: every host, as JSON and as a table; exit 0 once every host runs and is ready.
            let reports = try await poll("every host running and ready", timeout: .seconds(30)) { () -> [HostDetails]? in
                let details = try hosts.emmyops(["details", "--format", "json"], spec: spec)
                return details.status == 0 ? try JSONDecoder().decode([HostDetails].self, from: Data(details.stdout.utf8)) : nil
            }
            #expect(reports.map(\.host) == ["host1", "host2"])
            for report in reports {
                #expect(report.release == "v1" && report.active == "v1" && report.slot == 0)
                #expect(report.supervisor == "running" && report.ready == "200", "\(report)")
                #expect((report.uptimeS ?? -1) >= 0 && (report.hostUptimeS ?? 0) > 0)
            }
            #expect(reports.map(\.port) == hosts.hosts.map { $0.slotPorts[0] })
            let table = try hosts.emmyops(["details"], spec: spec)
            #expect(table.status == 0 && table.stdout.hasPrefix("HOST"), "\(table.stdout)\(table.stderr)")
            #expect(table.stdout.contains("host2  v1"))

            // A stopped release shows in details and fails it.
            let host2 = hosts.hosts[1]
            let state = try #require(ReleaseState.read(ReleaseLayout(root: host2.root).state("v1")))
            ReleaseProcess.stop(pid: state.pid, grace: 10)
            let degraded = try hosts.emmyops(["details", "--host", "host2", "--format", "json"], spec: spec)
            #expect(degraded.status == 1, "\(degraded.stdout)\(degraded.stderr)")
            let stopped = try JSONDecoder().decode([HostDetails].self, from: Data(degraded.stdout.utf8))
            #expect(stopped.first?.supervisor == "stopped" && stopped.first?.ready != "200", "\(stopped)")

            // logs: host-prefixed, the last N lines of each host's current release.
            let logs = try hosts.emmyops(["logs", "--lines", "5"], spec: spec)
            #expect(logs.status == 0, "\(logs.stderr)")
            let lines = logs.stdout.split(separator: "\n")
            #expect(lines.contains { $0.hasPrefix("[host1] ") } && lines.contains { $0.hasPrefix("[host2] ") })
            #expect(lines.allSatisfy { $0.hasPrefix("[host1] ") || $0.hasPrefix("[host2] ") })
            #expect(lines.filter { $0.hasPrefix("[host1] ") }.count <= 5)
            // Not a terminal: JSON lines stay raw.
            #expect(lines.contains { $0.hasPrefix("[host1] {") }, "\(logs.stdout)")
            let future = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
            let none = try hosts.emmyops(["logs", "--host", "host1", "--since", future], spec: spec)
            #expect(none.status == 0 && none.stdout.isEmpty, "\(none.stdout)")
            let recent = try hosts.emmyops(["logs", "--host", "host1", "--since", "1h"], spec: spec)
            #expect(recent.stdout.contains("[host1] {"), "\(recent.stdout)")

            // --follow prints what the release writes next, and leaves no `tail` behind.
            let marker = "/follow-\(UUID().uuidString.prefix(8))"
            let follower = Process()
            follower.executableURL = URL(fileURLWithPath: CLI.binary)
            follower.arguments = ["logs", "--host", "host1", "--follow", "--lines", "0", "--spec", spec, "--ssh-config", hosts.sshConfig]
            let out = Pipe()
            follower.standardOutput = out
            follower.standardError = FileHandle.nullDevice
            try follower.run()
            let seen = OutputCollector(out.fileHandleForReading)
            let followed = try await poll("the followed request", timeout: .seconds(30)) { () -> String? in
                _ = try? HTTPProbe.request("http://127.0.0.1:\(hosts.hosts[0].httpPort)\(marker)", timeout: 3).get()
                return seen.text.split(separator: "\n").first { $0.contains(marker) }.map(String.init)
            }
            #expect(followed.hasPrefix("[host1] {"))
            kill(follower.processIdentifier, SIGTERM)
            follower.waitUntilExit()
            let leftover = try await poll("the remote tail to end", timeout: .seconds(15)) { () -> Bool? in
                Self.processes(containing: hosts.hosts[0].root + "/shared/logs").isEmpty ? true : nil
            }
            #expect(leftover)

            // audit: both hosts' deploys, merged; --since filters.
            let audit = try hosts.emmyops(["audit", "--format", "json"], spec: spec)
            #expect(audit.status == 0, "\(audit.stderr)")
            let entries = try JSONDecoder().decode([AuditEntry].self, from: Data(audit.stdout.utf8))
            #expect(Set(entries.map(\.host)) == ["host1", "host2"] && entries.allSatisfy { $0.to == "v1" && $0.action == "deploy" })
            let text = try hosts.emmyops(["audit", "--host", "host2", "--since", "1h"], spec: spec)
            #expect(text.stdout.contains("host2  deploy - -> v1  ok in"), "\(text.stdout)")
            #expect(!text.stdout.contains("host1"))
            let later = try hosts.emmyops(["audit", "--since", future], spec: spec)
            #expect(later.status == 0 && later.stdout.isEmpty)

            // lock: free; a dead holder on this machine is released; a holder elsewhere is kept
            // unless --force; a live holder here is kept.
            let free = try hosts.emmyops(["lock", "status"], spec: spec)
            #expect(free.stdout == "host1: free\nhost2: free\n", "\(free.stdout)\(free.stderr)")
            let layout = ReleaseLayout(root: hosts.hosts[0].root)
            try Self.placeLock(layout, machine: ProcessInfo.processInfo.hostName, pid: try Self.deadPID())
            let dead = try hosts.emmyops(["lock", "status", "--host", "host1"], spec: spec)
            #expect(dead.stdout.contains("host1: held by someone@elsewhere") && dead.stdout.contains("process gone"), "\(dead.stdout)")
            let released = try hosts.emmyops(["lock", "release", "--host", "host1"], spec: spec)
            #expect(released.status == 0, "\(released.stderr)")
            #expect(!FileManager.default.fileExists(atPath: layout.lock))

            try Self.placeLock(layout, machine: "another-machine", pid: 4242)
            let refused = try hosts.emmyops(["lock", "release"], spec: spec)
            #expect(refused.status == 1 && refused.stderr.contains("pass --force"), "\(refused.stderr)")
            #expect(FileManager.default.fileExists(atPath: layout.lock + "/holder.json"))
            let forced = try hosts.emmyops(["lock", "release", "--force"], spec: spec)
            #expect(forced.status == 0 && !FileManager.default.fileExists(atPath: layout.lock), "\(forced.stderr)")

            try Self.placeLock(layout, machine: ProcessInfo.processInfo.hostName, pid: getpid())
            var simulated = Host(name: "host1", address: "127.0.0.1")
            simulated.root = layout.root
            // The same lock through the library, with a holder process that lives on this machine.
            let local = LockInspection(runner: LocalRunner(), target: DeployTarget(host: simulated, spec: Spec()))
            #expect(try local.report(isAlive: { _ in true }).holderAlive == true)
            #expect(throws: DeployError.self) { try local.release(force: false, isAlive: { _ in true }) }
            #expect(FileManager.default.fileExists(atPath: layout.lock))
            try local.release(force: false, isAlive: { _ in false })
            #expect(!FileManager.default.fileExists(atPath: layout.lock))
        }
    }

    static func placeLock(_ layout: ReleaseLayout, machine: String, pid: Int32) throws {
        try FileManager.default.createDirectory(atPath: layout.lock, withIntermediateDirectories: true)
        let holder = DeployLock.Holder(id: "x", holder: "someone@elsewhere", started: Date(), expires: Date().addingTimeInterval(600),
                                       machine: machine, pid: pid)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(holder).write(to: URL(fileURLWithPath: layout.lock + "/holder.json"))
    }

    /// A pid that was a process and is gone (reaped).
    static func deadPID() throws -> Int32 {
        let pid = try ProcessSpawn.spawn(["/bin/true"])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return pid
    }

    /// Processes whose command line mentions `text`.
    static func processes(containing text: String) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter { pid in
            guard pid != getpid(), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " ").contains(text)
        }
    }
}

/// Collects a pipe's output on a background thread.
final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { return }
                lock.withLock { data += chunk }
            }
        }
    }

    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
