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

    /// Two round trips a host at most: stage (spec written and checked; when the host holds the
    /// binary, on to the cut-over), upload (only otherwise: binary written, checked, cut over).
    @Test func nativePlanIsPlainSteps() {
        let plan = DeployPlan.native(target: Self.target(), version: "1.2.3", artifact: .init(path: "/b/emmyops", sha256: "a"),
                                     spec: .init(path: "/s/emmy.yaml", sha256: "b"), who: "ci@runner", keep: 5, activationTimeout: 90)
        #expect(plan.steps.map(\.name) == ["stage", "upload"])
        let cutOver = ["/opt/emmy/releases/1.2.3/emmyops", "host", "activate", "--root", "/opt/emmy", "--version", "1.2.3",
                       "--host", "web-1", "--who", "ci@runner", "--action", "deploy", "--keep", "5"]
        let stage = plan.steps[0]
        #expect(stage.isQuery && stage.reportsCurrent && stage.activates && stage.stdinFile == "/s/emmy.yaml")
        #expect(Array(stage.argv.dropFirst(3)) == ["emmyops-stage", "/opt/emmy/releases/1.2.3.partial", "/opt/emmy/releases/1.2.3", "a", "b",
                                                   "/opt/emmy/shared/logs", "/opt/emmy/shared/run", "/opt/emmy/releases", "/opt/emmy/current",
                                                   "1.2.3"] + cutOver)
        let upload = plan.steps[1]
        #expect(upload.unlessQuery == "stage" && upload.activates && upload.stdinFile == "/b/emmyops")
        #expect(Array(upload.argv.dropFirst(3)) == ["emmyops-upload", "/opt/emmy/releases/1.2.3.partial", "/opt/emmy/releases/1.2.3", "a"] + cutOver)
    }

    /// The stage and upload scripts in a real shell, the cut-over replaced by `echo`: the spec
    /// lands and is checked, a binary with the same SHA-256 is hard-linked (then cut over) or
    /// asked for (exit 3), an upload is checked (OpenSSL or coreutils) before the rename, a
    /// mismatch stops short of it, and a stale hard link in `.partial` is never written through.
    @Test func stageAndUploadScriptsWorkInAShell() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.path + "/it's $(x)"
        var spec = Spec(hosts: [Host(name: "web-1", address: "127.0.0.1")])
        spec.deploy.root = root
        let target = DeployTarget(host: spec.hosts[0], spec: spec)
        func file(_ name: String, _ text: String) throws -> (path: String, sha: String) {
            let path = dir.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return (path, ProcessRunnerSHA.hex(Data(text.utf8)))
        }
        let specFile = try file("emmy.yaml", "version: 1\n")
        let binary = try file("binary", "binary one")
        func run(_ version: String, _ binarySHA: String, step: Int, input: String, path: String? = nil) throws -> ProcessRunner.Output {
            let plan = DeployPlan.native(target: target, version: version, artifact: .init(path: binary.path, sha256: binarySHA),
                                         spec: .init(path: specFile.path, sha256: specFile.sha), who: "t", keep: 3, activationTimeout: 10)
            var argv = plan.steps[step].argv
            argv.replaceSubrange(argv.firstIndex(of: layoutBinary(version))!..., with: ["echo", "cut over to \(version)"])
            return try ProcessRunner().run("/bin/sh", Array(argv.dropFirst()), inputFile: input, environment: path.map { ["PATH": $0] })
        }
        func layoutBinary(_ version: String) -> String { target.layout.binary(version) }
        func read(_ path: String) -> String? { try? String(contentsOfFile: root + "/" + path, encoding: .utf8) }

        let staged = try run("v1", binary.sha, step: 0, input: specFile.path)
        #expect(staged.status == DeployStep.answerNo && staged.stdout == "\n", "no release yet: an empty `current` line; \(staged.stderr)")
        #expect(read("releases/v1.partial/emmy.yaml") == "version: 1\n")
        let uploaded = try run("v1", binary.sha, step: 1, input: binary.path)
        #expect(uploaded.status == 0 && uploaded.stdout == "cut over to v1\n", "\(uploaded.stderr)")
        #expect(read("releases/v1/emmyops") == "binary one" && read("releases/v1/emmyops.sha256") == binary.sha + "\n")
        #expect(read("releases/v1.partial/emmy.yaml") == nil)

        // Already on v1: the stage reports it and touches nothing.
        try FileManager.default.createSymbolicLink(atPath: root + "/current", withDestinationPath: "releases/v1")
        let again = try run("v1", binary.sha, step: 0, input: specFile.path)
        #expect(again.status == 0 && again.stdout == "releases/v1\n", "\(again.stderr)")
        #expect(read("releases/v1.partial/emmy.yaml") == nil)

        // A config-only change: the installed binary is linked and the stage cuts over itself.
        let reused = try run("v2", binary.sha, step: 0, input: specFile.path)
        #expect(reused.status == 0 && reused.stdout == "releases/v1\ncut over to v2\n", "\(reused.stderr)")
        #expect(read("releases/v2/emmyops") == "binary one" && read("releases/v2/emmy.yaml") == "version: 1\n")

        // A new binary, uploaded to a host without OpenSSL, where a killed run left v3.partial
        // holding a hard link to v1's binary: v1's binary stays as it was.
        try FileManager.default.createDirectory(atPath: root + "/releases/v3.partial", withIntermediateDirectories: true)
        try FileManager.default.linkItem(atPath: root + "/releases/v1/emmyops", toPath: root + "/releases/v3.partial/emmyops")
        let second = try file("binary2", "binary two")
        #expect(try run("v3", second.sha, step: 0, input: specFile.path).status == DeployStep.answerNo)
        let bare = dir.appendingPathComponent("bare-bin").path
        try FileManager.default.createDirectory(atPath: bare, withIntermediateDirectories: true)
        for tool in ["/bin/cat", "/usr/bin/sha256sum", "/usr/bin/cut", "/bin/rm", "/bin/chmod", "/bin/mv", "/bin/echo"] {
            try FileManager.default.createSymbolicLink(atPath: bare + "/" + (tool as NSString).lastPathComponent, withDestinationPath: tool)
        }
        let withoutOpenSSL = try run("v3", second.sha, step: 1, input: second.path, path: bare)
        #expect(withoutOpenSSL.status == 0 && withoutOpenSSL.stdout == "cut over to v3\n", "\(withoutOpenSSL.stderr)")
        #expect(read("releases/v3/emmyops") == "binary two" && read("releases/v1/emmyops") == "binary one")

        // Bytes that do not match: no rename, no cut-over, the message names both hashes.
        let third = try file("binary3", "binary three")
        #expect(try run("v4", third.sha, step: 0, input: specFile.path).status == DeployStep.answerNo)
        let corrupt = try run("v4", third.sha, step: 1, input: binary.path)
        #expect(corrupt.status == 1 && corrupt.stdout.isEmpty)
        #expect(corrupt.stderr.contains("the binary that landed has SHA-256 \(binary.sha), not \(third.sha)"), "\(corrupt.stderr)")
        #expect(read("releases/v4/emmyops") == nil)
        let badSpec = try run("v5", binary.sha, step: 0, input: second.path)
        #expect(badSpec.status == 1 && badSpec.stderr.contains("the spec that landed has SHA-256"), "\(badSpec.stderr)")
        #expect(read("releases/v5/emmy.yaml") == nil)
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
        #expect(result.stdout.contains("upload: 'sh' '-c'"))
        #expect(result.stdout.contains(#"'/srv/it'\''s $(here)/releases/7/emmyops' 'host' 'activate'"#))
        #expect(result.stdout.contains("stage: 'sh' '-c'"))
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
