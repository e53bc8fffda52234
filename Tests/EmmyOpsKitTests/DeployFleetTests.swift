@testable import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Deploy, rollback and releases end to end: real sshd per simulated host, real nginx, the
/// built emmyops binary as the artifact.
@Suite("Deploy over real SSH", .serialized)
struct DeployFleetTests {
    private func withHosts(_ count: Int, roots: [Int: String] = [:], _ body: (SSHHosts) async throws -> Void) async throws {
        try await SSHHosts.with(count, roots: roots, body)
    }

    @Test("one host: v1 then v2, gated, current switched, old release stopped",
          .enabled(if: SSHHosts.missing.isEmpty || SSHHosts.required, "\(SSHHosts.skipReason)"), .timeLimit(.minutes(2)))
    func singleHostV1ToV2() async throws {
        try await withHosts(1) { hosts in
            let spec = try hosts.writeSpec("emmy.yaml", hosts.spec())
            let host = hosts.hosts[0]
            let first = try hosts.emmyops(["deploy", "--host", "host1", "--version", "v1"], spec: spec)
            #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
            #expect(hosts.current(host) == "v1")
            #expect(hosts.proxyStatus(host) == 200)
            let v1 = try #require(ReleaseState.read(ReleaseLayout(root: host.root).state("v1")))

            let second = try hosts.emmyops(["deploy", "--host", "host1", "--version", "v2", "--format", "json"], spec: spec)
            #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
            let events = second.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(DeployEvent.self, from: Data($0.utf8)) }
            // The same binary: the stage links it and cuts over itself, nothing is uploaded.
            #expect(events.contains { $0.host == "host1" && $0.step == "stage" && $0.status == "ok" && $0.message?.contains("v1 -> v2") == true },
                    "\(events)")
            #expect(!events.contains { $0.step == "upload" })
            #expect(hosts.current(host) == "v2")
            #expect(hosts.active(host)?.port != v1.port, "v2 must run on the other slot")
            #expect(hosts.proxyStatus(host) == 200)
            #expect(!ReleaseProcess.isAlive(v1.pid), "the old release must be stopped after the switch")
            // /metrics answers through the proxy from loopback (the allowed address).
            #expect(hosts.proxyStatus(host, path: "/metrics") == 200)

            let audit = AuditLog.read(host.root + "/shared/audit.log")
            #expect(audit.map(\.to) == ["v1", "v2"] && audit.allSatisfy { $0.result == "ok" } && audit.last?.from == "v1")
            let listing = try hosts.emmyops(["releases", "--host", "host1"], spec: spec)
            #expect(listing.status == 0, "\(listing.stderr)")
            #expect(listing.stdout.contains("* v2  deployed by"))
            #expect(listing.stdout.contains("  v1  deployed by"))
        }
    }

    /// The acceptance run: three hosts (one with a hostile root path) under continuous load.
    @Test("three hosts under load: v1, v2 with 0 failed requests; v3 never ready → all stay on v2; rollback restores v1",
          .enabled(if: SSHHosts.missing.isEmpty || SSHHosts.required, "\(SSHHosts.skipReason)"), .timeLimit(.minutes(4)))
    func fleetUnderLoad() async throws {
        let hostile = "it's a $(touch PWNED) `touch PWNED` dir; \"x\""
        try await withHosts(3, roots: [2: hostile]) { hosts in
            let v1Spec = try hosts.writeSpec("v1.yaml", hosts.spec(appExtra: "  default_region: KE"))
            let v2Spec = try hosts.writeSpec("v2.yaml", hosts.spec(appExtra: "  default_region: NG"))
            let first = try hosts.emmyops(["deploy", "--all", "--version", "v1"], spec: v1Spec)
            #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
            #expect(hosts.hosts.map(hosts.current) == ["v1", "v1", "v1"])
            #expect(hosts.hosts[2].root.hasSuffix(hostile))
            #expect(!FileManager.default.fileExists(atPath: hosts.dir.appendingPathComponent("PWNED").path), "a path was run as code")

            // v2 while every host's proxy is under continuous load.
            let load = LoadGenerator(ports: hosts.hosts.map(\.httpPort))
            _ = try await poll("load running", timeout: .seconds(10)) { load.sentSoFar > 30 ? true : nil }
            let started = Date()
            let second = try hosts.emmyops(["deploy", "--all", "--version", "v2", "--batch-size", "1"], spec: v2Spec)
            let seconds = Date().timeIntervalSince(started)
            let stats = load.stop()
            #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
            #expect(stats.failures.isEmpty, "failed requests during the deploy: \(stats.failures.prefix(5))")
            print("deploy v1→v2 under load: \(hosts.hosts.count) hosts in \(String(format: "%.1f", seconds))s, \(stats.sent) requests, " +
                  "\(stats.failures.count) failed, p99 \(String(format: "%.1f", stats.p99 * 1000)) ms")
            #expect(hosts.hosts.map(hosts.current) == ["v2", "v2", "v2"])

            // v3: an artifact that speaks the host protocol but whose server never answers.
            let never = hosts.dir.appendingPathComponent("never-ready").path
            try "#!/bin/sh\nif [ \"$1\" = host ]; then exec \(ShellQuote.quote(CLI.binary)) \"$@\"; fi\necho 'v3 starting, will never answer'\nexec sleep 600\n"
                .write(toFile: never, atomically: true, encoding: .utf8)
            chmod(never, 0o755)
            let v3Spec = try hosts.writeSpec("v3.yaml", hosts.spec(deployExtra: "", appExtra: "  default_region: TZ")
                .replacingOccurrences(of: "health_timeout: 20s", with: "health_timeout: 2s"))
            let load3 = LoadGenerator(ports: hosts.hosts.map(\.httpPort))
            let third = try hosts.emmyops(["deploy", "--all", "--version", "v3", "--artifact", never, "--batch-size", "2"], spec: v3Spec)
            let stats3 = load3.stop()
            #expect(third.status == 1)
            #expect(third.stderr.contains("deploy failed on host"))
            #expect(third.stderr.contains("did not become ready"))
            #expect(third.stderr.contains("v3 starting, will never answer"), "the message must quote the new release's log")
            #expect(hosts.hosts.map(hosts.current) == ["v2", "v2", "v2"], "every host must end on v2")
            #expect(hosts.hosts.map { hosts.active($0)?.version } == ["v2", "v2", "v2"])
            #expect(hosts.hosts.allSatisfy { hosts.proxyStatus($0) == 200 })
            #expect(stats3.failures.isEmpty, "failed requests during the failed deploy: \(stats3.failures.prefix(5))")

            // Rollback: binary and config of v1 serve again.
            let back = try hosts.emmyops(["rollback", "--all", "--to", "v1"], spec: v2Spec)
            #expect(back.status == 0, "\(back.stdout)\n\(back.stderr)")
            for host in hosts.hosts {
                #expect(hosts.current(host) == "v1")
                let argv = try #require(hosts.servingCommandLine(host))
                #expect(argv.first == host.root + "/releases/v1/emmyops")
                #expect(argv.contains(host.root + "/releases/v1/emmy.yaml"))
                #expect(try String(contentsOfFile: host.root + "/current/emmy.yaml", encoding: .utf8).contains("default_region: KE"))
                #expect(hosts.proxyStatus(host) == 200)
            }
            let audit = AuditLog.read(hosts.hosts[0].root + "/shared/audit.log")
            #expect(audit.last?.action == "rollback" && audit.last?.from == "v2" && audit.last?.to == "v1")
            #expect(!FileManager.default.fileExists(atPath: hosts.dir.appendingPathComponent("PWNED").path))
        }
    }

    /// Each SSH command is a round trip that costs a loaded host about 0.2 s (much more under
    /// load), so the count is the deploy's latency floor: counted here per host, over real sshd.
    @Test("a new release costs a host 2 SSH commands, a config-only change 1 (binary reused, not uploaded); the lock 2 more",
          .enabled(if: SSHHosts.missing.isEmpty || SSHHosts.required, "\(SSHHosts.skipReason)"), .timeLimit(.minutes(2)))
    func deployRoundTrips() async throws {
        try await withHosts(2) { hosts in
            let directory = try SSHTransport.makeControlDirectory()
            let log = CommandLog()
            let artifact = try DeployPlan.Payload(hashing: CLI.binary)
            func deploy(_ version: String, region: String) throws -> [DeployEvent] {
                let specFile = try hosts.writeSpec("\(version).yaml", hosts.spec(appExtra: "  default_region: \(region)"))
                var (spec, _) = try SpecLoader.load(path: specFile)
                spec.ssh.config = hosts.sshConfig
                let events = EventLog()
                log.reset()
                let deployer = FleetDeployer(
                    targets: spec.hosts.map { DeployTarget(host: $0, spec: spec) }, options: .init(spec: spec, who: "test"),
                    runner: { [settings = spec.ssh] target in
                        CountingRunner(inner: SSHTransport(host: target.host, settings: settings, controlDirectory: directory), log: log)
                    }, onEvent: events.add)
                try deployer.deploy(deployer.plans(version: version, artifact: artifact, spec: try DeployPlan.Payload(hashing: specFile)))
                return events.all
            }
            defer {
                let settings = SSHSettings(config: hosts.sshConfig, knownHosts: hosts.knownHosts, identity: hosts.clientKey)
                for host in hosts.hosts {
                    SSHTransport(host: Host(name: host.name, address: "127.0.0.1", user: "root", port: host.sshPort), settings: settings,
                                 controlDirectory: directory).close()
                }
                try? FileManager.default.removeItem(atPath: directory)
            }

            let first = try deploy("v1", region: "KE")
            #expect(hosts.hosts.map(hosts.current) == ["v1", "v1"])
            // host1: lock, stage, upload (and cut-over), unlock; host2: the early login, stage, upload.
            #expect(log.counts == ["host1": 4, "host2": 3], "\(log.all)")
            #expect(first.filter { $0.step == "upload" && $0.status == "ok" }.count == 2)

            let second = try deploy("v2", region: "NG")
            #expect(hosts.hosts.map(hosts.current) == ["v2", "v2"])
            #expect(log.counts == ["host1": 3, "host2": 2], "\(log.all)")
            #expect(!second.contains { $0.step == "upload" }, "a config-only change must not upload the binary")
            let cutOvers = second.filter { $0.step == "stage" && $0.status == "ok" }.compactMap(\.message)
            #expect(cutOvers.count == 2 && cutOvers.allSatisfy { $0.contains("v1 -> v2") }, "\(cutOvers)")
            #expect(try String(contentsOfFile: hosts.hosts[0].root + "/current/emmy.yaml", encoding: .utf8).contains("default_region: NG"))
            #expect(!FileManager.default.fileExists(atPath: hosts.hosts[0].root + "/shared/deploy.lock"), "the lock is released")
        }
    }

    @Test("a host whose key changed is refused before anything runs",
          .enabled(if: SSHHosts.missing.isEmpty || SSHHosts.required, "\(SSHHosts.skipReason)"), .timeLimit(.minutes(1)))
    func changedHostKeyIsRefused() async throws {
        try await withHosts(1) { hosts in
            let other = hosts.dir.appendingPathComponent("other_key").path
            try SSHHosts.keygen(other)
            let key = try String(contentsOfFile: other + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
            try "[127.0.0.1]:\(hosts.hosts[0].sshPort) \(key)\n".write(toFile: hosts.knownHosts, atomically: true, encoding: .utf8)
            let spec = try hosts.writeSpec("emmy.yaml", hosts.spec())
            let result = try hosts.emmyops(["deploy", "--host", "host1", "--version", "v1"], spec: spec)
            #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") || result.stderr.contains("Host key verification failed"))
            #expect(!FileManager.default.fileExists(atPath: hosts.hosts[0].root), "nothing may run on an untrusted host")
        }
    }

    @Test("a deploy killed at a random step leaves every host serving; the next takes over the stale lock",
          .enabled(if: SSHHosts.missing.isEmpty || SSHHosts.required, "\(SSHHosts.skipReason)"), .timeLimit(.minutes(3)))
    func killedDeployRecovers() async throws {
        try await withHosts(2) { hosts in
            let spec = try hosts.writeSpec("emmy.yaml", hosts.spec().replacingOccurrences(of: "lock_expiry: 10m", with: "lock_expiry: 2s"))
            let first = try hosts.emmyops(["deploy", "--all", "--version", "v1"], spec: spec)
            #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")

            // Kill v2's deploy once it has reached a random event (lock, upload, verify, activate, …).
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            // Another binary (one byte appended), so v2 has an upload step to be killed in too.
            let artifact = hosts.dir.appendingPathComponent("emmyops-v2").path
            var bytes = try Data(contentsOf: URL(fileURLWithPath: CLI.binary))
            bytes.append(0)
            try bytes.write(to: URL(fileURLWithPath: artifact))
            chmod(artifact, 0o755)
            process.arguments = ["deploy", "--all", "--version", "v2", "--artifact", artifact, "--format", "json", "--spec", spec,
                                 "--ssh-config", hosts.sshConfig]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let killAfter = Int.random(in: 3...9)  // events 1–2 take the lock; 10 in all (stage and upload a host)
            var seen = 0
            var buffer = Data()
            while seen < killAfter {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                buffer += chunk
                seen = buffer.split(separator: 0x0A).count
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            print("killed the v2 deploy after \(seen) events: \(String(decoding: buffer, as: UTF8.self).split(separator: "\n").last ?? "")")

            for host in hosts.hosts {
                let status = try await poll("\(host.name) serving", timeout: .seconds(30)) { hosts.proxyStatus(host) == 200 ? true : nil }
                #expect(status)
                #expect(["v1", "v2"].contains(hosts.current(host) ?? ""))
            }
            // The killed run still holds the lock: wait out its 2 s expiry by the clock, then deploy again.
            let lock = hosts.hosts[0].root + "/shared/deploy.lock/holder.json"
            #expect(FileManager.default.fileExists(atPath: lock), "the killed run should have left its lock")
            if FileManager.default.fileExists(atPath: lock) {
                _ = try await poll("lock expiry", timeout: .seconds(10)) {
                    let decoder = JSONDecoder()
                    decoder.dateDecodingStrategy = .iso8601
                    let holder = FileManager.default.contents(atPath: lock).flatMap { try? decoder.decode(DeployLock.Holder.self, from: $0) }
                    return (holder.map { $0.expires < Date() } ?? true) ? true : nil
                }
            }
            let next = try hosts.emmyops(["deploy", "--all", "--version", "v3"], spec: spec)
            #expect(next.status == 0, "\(next.stdout)\n\(next.stderr)")
            #expect(next.stdout.contains("lock: warning taking over the deploy lock of"), "\(next.stdout)")
            #expect(!FileManager.default.fileExists(atPath: lock), "a finished deploy releases its lock")
            #expect(hosts.hosts.map(hosts.current) == ["v3", "v3"])
            #expect(hosts.hosts.allSatisfy { hosts.proxyStatus($0) == 200 })
        }
    }
}

/// Every command a deploy ran, by host.
private final class CommandLog: @unchecked Sendable {
    private let lock = NSLock()
    private var commands: [(host: String, argv: [String])] = []
    func add(_ host: String, _ argv: [String]) { lock.withLock { commands.append((host, argv)) } }
    func reset() { lock.withLock { commands = [] } }
    var counts: [String: Int] { lock.withLock { Dictionary(commands.map { ($0.host, 1) }, uniquingKeysWith: +) } }
    var all: String { lock.withLock { commands.map { "\($0.host): \($0.argv.prefix(4).joined(separator: " "))" }.joined(separator: "\n") } }
}

private final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [DeployEvent] = []
    func add(_ event: DeployEvent) { lock.withLock { events.append(event) } }
    var all: [DeployEvent] { lock.withLock { events } }
}

/// The real transport, each command logged.
private struct CountingRunner: CommandRunner {
    let inner: SSHTransport
    let log: CommandLog
    var target: String { inner.target }
    func run(_ argv: [String], stdinFile: String?, timeout: TimeInterval) throws -> CommandResult {
        log.add(inner.host.name, argv)
        return try inner.run(argv, stdinFile: stdinFile, timeout: timeout)
    }
}
