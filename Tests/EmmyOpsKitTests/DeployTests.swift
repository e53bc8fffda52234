@testable import EmmyOpsKit
import Foundation
import Testing

/// Deploy pieces that need no hosts: quoting, plans, ssh argv, spec keys, the nginx config.
@Suite struct DeployUnitTests {
    static let hostile = [
        "plain", "two words", "it's", "\"double\"", "$(touch /tmp/emmyops-pwned)", "`touch /tmp/emmyops-pwned`",
        "line\nbreak", "semi; rm -rf /tmp/emmyops-pwned", "$HOME", "back\\slash", "", "'", "''", "-n", "*", "~root",
        "a && b || c | d > e < f", "\t tab", "ünïcödé", "!history", "{a,b}", "#comment",
    ]

    /// What a POSIX shell (dash) and bash (the remote login shell here) read back from `join`.
    @Test(arguments: ["/bin/sh", "/bin/bash"])
    func quotingSurvivesARealShell(_ shell: String) throws {
        let line = ShellQuote.join(["printf", "%s\\0"] + Self.hostile)
        let out = try ProcessRunner().run(shell, ["-c", line])
        #expect(out.status == 0, "\(out.stderr)")
        let words = out.stdout.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(words == Self.hostile)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/emmyops-pwned"))
    }

    @Test func quoteEscapesSingleQuotes() {
        #expect(ShellQuote.quote("it's") == #"'it'\''s'"#)
        #expect(ShellQuote.quote("") == "''")
    }

    /// `deploy.health_path` overrides what the gate polls (native and docker); `app.ready_path`
    /// otherwise; a value that is not a path is refused at its line.
    @Test func healthPathOverridesTheGate() throws {
        let plain = try #require(SpecLoader.load(text: "version: 1\napp: { ready_path: /ready }\n", file: "emmy.yaml").spec)
        #expect(plain.gatePath == "/ready")
        let text = "version: 1\nhosts: [{ name: web-1, address: 10.0.0.5 }]\napp: { runtime: docker }\ndeploy:\n  health_path: /healthz\n"
        let spec = try #require(SpecLoader.load(text: text, file: "emmy.yaml").spec)
        #expect(spec.deploy.healthPath == "/healthz" && spec.gatePath == "/healthz")
        let compose = DockerPlan.compose(spec: spec, target: DeployTarget(host: spec.hosts[0], spec: spec), image: spec.app.image)
        #expect(compose.contains("http://127.0.0.1:5000/healthz"))
        let bad = SpecLoader.load(text: "version: 1\ndeploy:\n  health_path: healthz now\n", file: "emmy.yaml")
        #expect(bad.spec == nil)
        #expect(bad.diagnostics.contains { $0.path == "deploy.health_path" && $0.location.line == 3 }, "\(bad.diagnostics)")
    }

    static func target(root: String = "/opt/emmy") -> DeployTarget {
        var spec = Spec(hosts: [Host(name: "web-1", address: "10.0.0.5", user: "deploy", port: 2222)])
        spec.deploy.root = root
        return DeployTarget(host: spec.hosts[0], spec: spec)
    }

    @Test func nativePlanIsPlainSteps() {
        let plan = DeployPlan.native(target: Self.target(), version: "1.2.3", artifact: .init(path: "/b/emmyops", sha256: "a"),
                                     spec: .init(path: "/s/emmy.yaml", sha256: "b"), who: "ci@runner", keep: 5, activationTimeout: 90)
        #expect(plan.steps.map(\.name) == ["prepare", "reuse", "upload", "upload", "verify", "verify-spec", "install", "activate"])
        #expect(plan.steps[1].isQuery && plan.steps[2].unlessQuery == "reuse" && plan.steps[3].unlessQuery == nil)
        // A reused binary is not hashed again; the spec always is.
        #expect(plan.steps[4].unlessQuery == "reuse" && plan.steps[5].unlessQuery == nil)
        #expect(plan.steps[2].argv == ["sh", "-c", #"cat > "$1""#, "emmyops-upload", "/opt/emmy/releases/1.2.3.partial/emmyops"])
        #expect(plan.steps[2].stdinFile == "/b/emmyops")
        #expect(plan.steps[4].expectSHA256 == ["a"] && plan.steps[5].expectSHA256 == ["b"])
        #expect(plan.steps[7].argv == ["/opt/emmy/releases/1.2.3/emmyops", "host", "activate", "--root", "/opt/emmy", "--version", "1.2.3",
                                       "--host", "web-1", "--who", "ci@runner", "--action", "deploy", "--keep", "5"])
    }

    /// The lock on a real filesystem through a real shell: taken in one command, refused while
    /// held, taken over once expired (with a warning), released only by its holder.
    @Test func deployLockTakesRefusesAndTakesOver() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let layout = ReleaseLayout(root: dir.path + "/it's $(x)")
        let recorder = CountingLocalRunner()
        let lock = DeployLock(runner: recorder, layout: layout, expiry: 60)
        let (mine, warning) = try lock.acquire(holder: "alice")
        #expect(warning == nil && recorder.count == 1, "a free lock is one round trip")
        #expect(try lock.read()?.id == mine.id)
        let other = DeployLock(runner: LocalRunner(), layout: layout, expiry: 60)
        #expect(throws: DeployError.self) { _ = try other.acquire(holder: "bob") }
        let staging = try FileManager.default.contentsOfDirectory(atPath: layout.shared).filter { $0 != "deploy.lock" }
        #expect(staging.isEmpty, "a refused run leaves nothing beside the lock: \(staging)")
        try lock.release(DeployLock.Holder(id: "someone-else", holder: "x", started: Date(), expires: Date()))
        #expect(try lock.isHeld(), "only the holder releases")

        let later = Date().addingTimeInterval(120)
        let (bobs, takeover) = try other.acquire(holder: "bob", now: later)
        #expect(takeover?.contains("taking over the deploy lock of alice") == true, "\(takeover ?? "no warning")")
        try lock.release(mine)
        #expect(try lock.isHeld() && lock.read()?.id == bobs.id, "alice's release must not remove bob's lock")
        try other.release(bobs)
        #expect(try !lock.isHeld())
    }

    @Test func sshArgumentsAreStrictAndQuoted() {
        let host = Host(name: "web-1", address: "10.0.0.5", user: "deploy", port: 2222)
        let ssh = SSHTransport(host: host, settings: SSHSettings(config: "/ci/ssh config", knownHosts: "/ci/known_hosts", identity: "/ci/id"),
                               controlDirectory: "/tmp/emmyops-ssh-x")
        let argv = ssh.arguments(for: ["ls", "/srv/it's here"])
        #expect(argv.starts(with: ["ssh", "-F", "/ci/ssh config"]))
        for option in ["StrictHostKeyChecking=yes", "BatchMode=yes", "UserKnownHostsFile=/ci/known_hosts", "ControlMaster=auto",
                       "ControlPath=/tmp/emmyops-ssh-x/%C"] {
            #expect(argv.contains(option), "missing \(option)")
        }
        #expect(Array(argv.suffix(3)) == ["--", "10.0.0.5", #"'ls' '/srv/it'\''s here'"#])
    }

    @Test func deploySpecKeysLoad() throws {
        let result = SpecLoader.load(text: """
        version: 1
        hosts:
          - { name: a, address: 127.0.0.1, root: "/srv/a b", http_port: 8080, slot_ports: [9001, 9002] }
        ssh: { config: /ci/ssh_config, known_hosts: /ci/known_hosts, identity: /ci/id }
        deploy:
          root: /srv/emmy
          keep_releases: 3
          health_timeout: 15s
          batch_size: 2
          lock_expiry: 5m
          proxy: { http_port: 8081, listen_address: 127.0.0.1 }
        """, file: "emmy.yaml")
        let spec = try #require(result.spec, "\(result.diagnostics)")
        #expect(spec.ssh == SSHSettings(config: "/ci/ssh_config", knownHosts: "/ci/known_hosts", identity: "/ci/id"))
        #expect(spec.deploy.keepReleases == 3 && spec.deploy.batchSize == 2 && spec.deploy.healthTimeout == .seconds(15))
        let target = DeployTarget(host: spec.hosts[0], spec: spec)
        #expect(target.layout.root == "/srv/a b" && target.httpPort == 8080 && target.slotPorts == [9001, 9002])
        #expect(target.nginxPrefix == "/srv/a b/shared/nginx")
        #expect(DeployTarget(host: Host(name: "b", address: "x"), spec: spec).layout.root == "/srv/emmy")
    }

    @Test(arguments: [("1.2.3", true), ("v2_rc-1", true), ("", false), ("-rf", false), (".hidden", false), ("a b", false),
                      ("$(id)", false), ("a/b", false), ("x.partial", false), ("a\nb", false)])
    func versionsAreRestricted(_ version: String, _ valid: Bool) {
        #expect(ReleaseLayout.isValidVersion(version) == valid)
    }

    @Test func hostileVersionIsRejectedByTheCLI() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "version: 1\nhosts: [{ name: a, address: 127.0.0.1 }]\n".write(to: dir.appendingPathComponent("emmy.yaml"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["deploy", "--all", "--version", "$(touch pwned)", "--dry-run"], in: dir)
        #expect(result.status == 64)
        #expect(result.stderr.contains("may hold only letters"))
    }

    @Test func dryRunPrintsThePlanAndTouchesNothing() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Port 1 on loopback: any connection attempt would fail the command.
        try """
        version: 1
        hosts:
          - { name: a, address: 127.0.0.1, port: 1, root: "/srv/it's $(here)" }
          - { name: b, address: 127.0.0.1, port: 1 }
        """.write(to: dir.appendingPathComponent("emmy.yaml"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["deploy", "--all", "--version", "7", "--dry-run", "--artifact", "emmy.yaml"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("a (deploy@127.0.0.1:1) -> 7"))
        #expect(result.stdout.contains(#"activate: '/srv/it'\''s $(here)/releases/7/emmyops' 'host' 'activate'"#))
        #expect(result.stdout.contains("install: 'sh' '-c'"))
        #expect(result.stdout.contains("b (deploy@127.0.0.1:1) -> 7"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") || CLI.toolsRequired, "SKIPPED: nginx is not installed"))
    func renderedNginxConfigPassesNginxT() throws {
        let prefix = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: prefix) }
        let config = try ProxySwitch.render(listen: "127.0.0.1", httpPort: 8080, metricsPath: "/metrics", drainSeconds: 30, version: "v1")
        #expect(config.contains("location = /metrics"))
        #expect(config.contains("deny all;"))
        #expect(config.contains("include upstream.conf;"))
        try config.write(to: prefix.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        try ProxySwitch.upstream(port: 5001).write(to: prefix.appendingPathComponent("upstream.conf"), atomically: true, encoding: .utf8)
        for dir in ["logs", "temp"] { try FileManager.default.createDirectory(at: prefix.appendingPathComponent(dir), withIntermediateDirectories: true) }
        let out = try ProcessRunner().run("/usr/sbin/nginx", ["-t", "-p", prefix.path + "/", "-c", prefix.path + "/nginx.conf",
                                                              "-e", prefix.path + "/logs/error.log"])
        #expect(out.status == 0, "nginx -t: \(out.stderr)")
    }
}

/// Runs locally and counts the commands (round trips, on a real host).
private final class CountingLocalRunner: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var commands = 0
    var target: String { "localhost" }
    var count: Int { lock.withLock { commands } }
    func run(_ argv: [String], stdinFile: String?, timeout: TimeInterval) throws -> CommandResult {
        lock.withLock { commands += 1 }
        return try LocalRunner().run(argv, stdinFile: stdinFile, timeout: timeout)
    }
}
