import EmmyApp
@testable import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Every process of one incident closed loop, started from one spec and stopped together:
/// EmmyApp (supervised here, or deployed over SSH to a simulated host), real Prometheus and
/// Alertmanager on the rendered configs with 1 s clocks, `emmyops incident serve`, and two
/// listeners standing in for the on-call webhook and Slack.
final class LoopStack: @unchecked Sendable {
    /// What differs between loops.
    struct Setup {
        /// Restarts and rollbacks the budget allows per host and alert.
        var attempts = 3
        /// Instead of Prometheus, Alertmanager and `incident serve`, `incident monitor` looks at
        /// the app every second (hosts without Prometheus).
        var monitor = false
        /// Lines added under `app:` (indented two spaces): the provider, sending, limits.
        var app = ""
        /// Lines under `alerts:` (indented two spaces).
        var alerts = "  app_down: { for: 1s }"
        /// Added to this process's environment for the app and `incident serve` (secrets).
        var environment: [String: String] = [:]
        /// Deploy the app to this simulated host over SSH (its real nginx metrics listener is
        /// what Prometheus scrapes) instead of supervising it here.
        var deployed: SSHHosts?
        /// Runs once the spec is written and the listeners run, before the monitoring starts:
        /// where a deployed loop deploys its first release.
        var prepare: ((LoopStack) async throws -> Void)?
    }

    let setup: Setup
    let dir: URL
    let specPath: String
    let dataDir: String
    /// The app host's deploy root (its audit log, data directory and supervisor state are under it).
    let root: String
    let appPort: Int
    /// Where the app answers: the supervised app itself, or a deployed host's nginx.
    let appURL: String
    let hookLog: URL
    let slackLog: URL
    private(set) var monitoring: MonitoringPair?
    private(set) var children: [ProcessHarness] = []

    var prometheusURL: String { monitoring?.prometheusURL ?? "" }

    private init(setup: Setup, dir: URL, specPath: String, root: String, appPort: Int, appURL: String) {
        self.setup = setup
        self.dir = dir
        self.specPath = specPath
        dataDir = dir.appendingPathComponent("incident").path
        self.root = root
        self.appPort = appPort
        self.appURL = appURL
        hookLog = dir.appendingPathComponent("oncall.jsonl")
        slackLog = dir.appendingPathComponent("slack.jsonl")
    }

    /// Starts the stack, runs `body`, and always stops every process and removes the files.
    static func with(_ setup: Setup, _ body: (LoopStack) async throws -> Void) async throws {
        try #require(LoopTools.missing.isEmpty, "not on PATH: \(LoopTools.missing.joined(separator: ", "))")
        let dir = try CLI.temporaryDirectory()
        let ports = try LoopbackPorts.pick(8)
        let (appPort, promPort, amPort, grafanaPort, hookPort, incidentPort, slackPort) = (ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6])
        // Prometheus scrapes a host's app through its metrics listener: a deployed host's nginx,
        // or (for an app supervised here) a forwarder standing in for it.
        let metricsPort = ports[7]
        let tokenFile = dir.appendingPathComponent("incident.token")
        try "loop-token-\(UUID().uuidString)\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        let host: String
        let root: String
        let appURL: String
        if let fleet = setup.deployed, let sim = fleet.hosts.first {
            root = sim.root
            appURL = "http://127.0.0.1:\(sim.httpPort)"
            // A loopback host on an SSH port other than 22 is acted on over SSH, as a remote one.
            host = """
              - { name: \(sim.name), address: 127.0.0.1, user: root, port: \(sim.sshPort), root: \(SSHHosts.yamlString(sim.root)), \
            http_port: \(sim.httpPort), slot_ports: [\(sim.slotPorts[0]), \(sim.slotPorts[1])], roles: [app, monitoring] }
            ssh:
              config: \(SSHHosts.yamlString(fleet.sshConfig))
              known_hosts: \(SSHHosts.yamlString(fleet.knownHosts))
              identity: \(SSHHosts.yamlString(fleet.clientKey))
            deploy:
              health_timeout: 20s
              drain_timeout: 1s
              keep_releases: 3
              proxy: { listen_address: 127.0.0.1 }
            """
        } else {
            root = dir.appendingPathComponent("host").path
            appURL = "http://127.0.0.1:\(appPort)"
            host = "  - { name: local, address: 127.0.0.1, roles: [app, monitoring], root: \(root) }"
        }
        let yaml = """
        version: 1
        project: incident-loop
        app:
          name: emmy-incident-loop
          port: \(appPort)
        \(setup.app)
        hosts:
        \(host)
        \(MonitoringPair.specSection(prometheusPort: promPort, alertmanagerPort: amPort, grafanaPort: grafanaPort, metricsPort: metricsPort))
        alerts:
        \(setup.alerts)
        supervise:
          backoff_initial: 100ms
          crash_budget: { restarts: 1, window: 10m }
          health_interval: 1s
        notify:
          group_wait: 0s
          group_interval: 1s
          repeat_interval: 1h
          receivers:
            oncall: { webhook: { url: "http://127.0.0.1:\(hookPort)/oncall" } }
            chat: { slack: { webhook_url: "http://127.0.0.1:\(slackPort)/slack", channel: "#ops" } }
          routes:
            critical: [oncall]
            warning: [oncall, chat]
        incident:
          webhook: http://127.0.0.1:\(incidentPort)/alerts
          token_file: \(tokenFile.path)
          wait_timeout: 20s
          budget: { attempts: \(setup.attempts), window: 30m, backoff_initial: 1s, backoff_max: 2s }
        """
        let specURL = dir.appendingPathComponent("emmy.yaml")
        try yaml.write(to: specURL, atomically: true, encoding: .utf8)
        let loaded = SpecLoader.load(text: yaml, file: "emmy.yaml")
        let spec = try #require(loaded.spec, "\(loaded.diagnostics)")
        try RenderWriter(root: dir).write(RenderTarget.monitoring.render(spec))

        let stack = LoopStack(setup: setup, dir: dir, specPath: specURL.path, root: root, appPort: appPort, appURL: appURL)
        defer {
            stack.children.reversed().forEach { $0.stop() }
            try? FileManager.default.removeItem(at: dir)
        }
        let environment = ProcessInfo.processInfo.environment.merging(setup.environment) { _, new in new }
        do {
            if setup.deployed == nil {
                try FileManager.default.createDirectory(atPath: root + "/shared", withIntermediateDirectories: true)
                stack.children.append(try ProcessHarness(name: "supervise", executable: CLI.binary,
                                                         arguments: ["supervise", "--spec", specURL.path, "--data-dir", root + "/shared"],
                                                         logDirectory: dir, environment: environment))
                stack.children.append(try FixtureServers.start("metrics-listener", script: FixtureServers.tcpForwarder,
                                                               arguments: ["\(metricsPort)", "\(appPort)"], in: dir))
            }
            stack.children.append(try FixtureServers.start("oncall", script: FixtureServers.webhookRecorder, arguments: ["\(hookPort)", stack.hookLog.path], in: dir))
            stack.children.append(try FixtureServers.start("slack", script: FixtureServers.webhookRecorder, arguments: ["\(slackPort)", stack.slackLog.path], in: dir))
            if let prepare = setup.prepare { try await prepare(stack) }
            try await poll("the app to answer", timeout: .seconds(40)) {
                try stack.children.forEach { try $0.checkAlive() }
                return (try? HTTPProbe.request(appURL + "/health", timeout: 1).get().status) == 200 ? () : nil
            }
            if setup.monitor {
                stack.children.append(try ProcessHarness(name: "incident-monitor", executable: CLI.binary, arguments: [
                    "incident", "monitor", "--interval", "1s", "--spec", specURL.path, "--data-dir", stack.dataDir], logDirectory: dir))
                try await body(stack)
                return
            }
            stack.children.append(try ProcessHarness(name: "incident-serve", executable: CLI.binary,
                                                     arguments: ["incident", "serve", "--spec", specURL.path, "--data-dir", stack.dataDir],
                                                     logDirectory: dir, environment: environment))
            let pair = try MonitoringPair.start(monitoring: dir.appendingPathComponent("monitoring").path, in: dir,
                                                prometheusPort: promPort, alertmanagerPort: amPort)
            stack.monitoring = pair
            stack.children += pair.children
            for (name, url) in [("incident", "http://127.0.0.1:\(incidentPort)/health"), ("oncall", "http://127.0.0.1:\(hookPort)/"),
                                ("slack", "http://127.0.0.1:\(slackPort)/")] {
                try await poll("\(name) to answer \(url)", timeout: .seconds(40)) {
                    try stack.children.forEach { try $0.checkAlive() }
                    return (try? HTTPProbe.request(url, timeout: 1).get().status) == 200 ? () : nil
                }
            }
            try await pair.awaitReady(jobs: [spec.appJob, PrometheusRenderer.incidentJob], alive: stack.children)
            try await body(stack)
        } catch {
            let hosts = setup.deployed.map { "\n" + $0.logs() } ?? ""
            Issue.record("closed loop failed: \(error)\n\(stack.children.map { $0.logTail(25) }.joined(separator: "\n"))\(hosts)")
        }
    }

    var stateFile: String { root + "/shared/supervise.json" }

    func state() throws -> SupervisorState? {
        try FileManager.default.contents(atPath: stateFile).map { try SupervisorState.decode($0) }
    }

    func supervisorState() throws -> SupervisorState.Phase? { try state()?.state }

    /// Kills the app twice in a row: the supervisor restarts it once, then gives up (`failed`).
    /// Returns when the second kill was sent: the moment the outage the supervisor leaves begins.
    func crashLoop() async throws -> Date {
        let runsBefore = (try? ledger().runs().count) ?? 0
        let first = try await poll("a running child", timeout: .seconds(30)) { try self.state().flatMap { $0.state == .running ? $0.childPID : nil } }
        kill(first, SIGKILL)
        let second = try await poll("the supervisor's one restart", timeout: .seconds(30)) {
            try self.state().flatMap { $0.childPID != first ? $0.childPID : nil }
        }
        kill(second, SIGKILL)
        let at = Date()
        // `incident monitor` looks every second, so it may repair the app before a poll sees
        // `failed`: a new run in the ledger says the supervisor gave up just as well.
        _ = try await poll("the supervisor to give up", timeout: .seconds(30)) {
            try self.supervisorState() == .failed || ((try? self.ledger().runs().count) ?? 0) > runsBefore ? () : nil
        }
        return at
    }

    func sighupSupervisor() throws {
        let pid = try #require(try state()?.pid)
        kill(pid, SIGHUP)
    }

    func waitUntilHealthy() async throws {
        _ = try await poll("the app to be healthy again", timeout: .seconds(30)) {
            let phase = try self.supervisorState()
            return (try? HTTPProbe.request("\(self.appURL)/health", timeout: 1).get().status) == 200 && phase == .running ? () : nil
        }
    }

    func ledger() throws -> IncidentLedger { try IncidentLedger.open(directory: dataDir) }

    /// When the `count`th non-duplicate `alertname` notification with `status` arrived.
    func waitForNotification(_ status: String, count: Int, alertname: String = "EmmyAppDown", timeout: Duration = .seconds(60)) async throws -> Date {
        let ledger = try ledger()
        return try await poll("\(count) \(status) \(alertname) notification(s) at incident serve", timeout: timeout, every: .milliseconds(50)) {
            let seen = try ledger.notifications().filter { $0.alertname == alertname && $0.status == status && !$0.duplicate }
            return seen.count >= count ? seen[count - 1].receivedAt : nil
        }
    }

    /// When the `count`th automated `step` started (from the ledger), once it is in the audit log.
    func waitForStep(_ step: PlaybookStep, count: Int, timeout: Duration = .seconds(60)) async throws -> Date {
        let ledger = try ledger()
        return try await poll("\(step.rawValue) #\(count) by the playbook", timeout: timeout, every: .milliseconds(50)) {
            let started = try ledger.runs().flatMap(\.steps).filter { $0.name == step && $0.state == .ok }.compactMap(\.startedAt).sorted()
            return started.count >= count && self.incidentAudit().filter({ $0.action == "incident.\(step.rawValue)" }).count >= count ? started[count - 1] : nil
        }
    }

    func waitForRestart(count: Int) async throws -> Date { try await waitForStep(.restart, count: count) }

    func incidentAudit() -> [IncidentAuditEntry] { IncidentAuditEntry.read(root + "/shared/audit.log") }

    /// The JSON bodies a listener recorded, one per post.
    static func bodies(_ file: URL) -> [[String: Any]] {
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Notices incident serve posted to the on-call webhook (Alertmanager posts there too).
    func incidentNotices(_ event: String) -> [[String: Any]] {
        Self.bodies(hookLog).filter { $0["source"] as? String == "emmyops-incident" && $0["event"] as? String == event }
    }

    /// Escalation notices incident serve posted to the on-call listener.
    func escalations() -> [[String: Any]] { incidentNotices("escalation") }

    /// The by-hand verbs against the live stack: health, restart, diagnose, history.
    func operatorCommandsWork() throws {
        func run(_ arguments: [String]) throws -> CLI.Result {
            try CLI.run(["incident"] + arguments + ["--spec", specPath, "--data-dir", dataDir], in: dir)
        }
        let health = try run(["health", "--host", "local"])
        #expect(health.status == 0 && health.stdout.hasPrefix("local: healthy: health 200, ready 200, supervisor running"), "\(health.stdout)\(health.stderr)")

        let restart = try run(["restart", "--host", "local"])
        #expect(restart.status == 0 && restart.stdout.contains("healthy"), "\(restart.stdout)\(restart.stderr)")
        #expect(incidentAudit().contains { $0.action == "incident.restart" && $0.alert == "manual" && $0.result == "ok" })

        let bundle = dir.appendingPathComponent("bundle.tar.gz").path
        let diagnose = try run(["diagnose", "--host", "local", "--out", bundle])
        #expect(diagnose.status == 0 && diagnose.stdout.hasPrefix(bundle), "\(diagnose.stdout)\(diagnose.stderr)")
        #expect(diagnose.stdout.contains("quick_check ok"), "\(diagnose.stdout)")
        let listing = try LocalRunner().run(["tar", "-tzf", bundle]).stdout
        for part in ["summary.txt", "supervisor.json", "log-tail.txt", "health.txt", "metrics.txt", "releases.json", "audit-tail.txt", "system.txt", "database.txt"] {
            #expect(listing.contains("/\(part)"), "\(part) missing from the bundle: \(listing)")
        }

        let history = try run(["history"])
        #expect(history.status == 0 && history.stdout.contains("firing EmmyAppDown fingerprint "), "\(history.stdout)")

        // The same verbs with --format json: one document each, the fields a script reads.
        func json(_ arguments: [String]) throws -> [String: Any] {
            let result = try run(arguments + ["--format", "json"])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return try #require(try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(arguments): \(result.stdout)")
        }
        // The restart above may have let Prometheus see the app down and the playbook act: look
        // until the host is settled again (exit 1 and healthy false meanwhile).
        var looks: [String: Any] = [:]
        let settled = Date().addingTimeInterval(60)
        repeat {
            let result = try run(["health", "--host", "local", "--format", "json"])
            looks = try #require(try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)\(result.stderr)")
            let settledNow = looks["healthy"] as? Bool == true && (looks["hosts"] as? [[String: Any]])?.first?["supervisor"] as? String == "running"
            #expect(result.status == (looks["healthy"] as? Bool == true ? 0 : 1), "\(looks)")
            if settledNow { break }
            Thread.sleep(forTimeInterval: 0.2)
        } while Date() < settled
        let look = try #require((looks["hosts"] as? [[String: Any]])?.first)
        #expect(looks["healthy"] as? Bool == true && look["host"] as? String == "local" && look["ready"] as? Int == 200, "\(looks)")
        #expect(look["supervisor"] as? String == "running", "\(look)")
        let restarted = try json(["restart", "--host", "local"])
        #expect((restarted["after"] as? [String: Any])?["healthy"] as? Bool == true && restarted["restart"] is String, "\(restarted)")
        let diagnosed = try json(["diagnose", "--host", "local", "--out", bundle])
        #expect(diagnosed["bundle"] as? String == bundle && (diagnosed["summary"] as? String)?.contains("quick_check ok") == true, "\(diagnosed)")
        let ledger = try json(["history"])
        #expect((ledger["notifications"] as? [[String: Any]])?.contains { $0["alertname"] as? String == "EmmyAppDown" } == true, "\(ledger)")
    }
}
