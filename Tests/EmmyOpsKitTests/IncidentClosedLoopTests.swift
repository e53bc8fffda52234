import EmmyApp
@testable import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The whole loop with real parts: EmmyApp under `emmyops supervise`, real Prometheus and
/// Alertmanager on the *rendered* configs (1 s scrape and evaluation), `emmyops incident serve`
/// as the receiver, and a Python listener standing in for the on-call webhook.
///
/// The fault is one the supervisor alone does not repair: the app crashes twice in a row,
/// which spends the supervisor's crash budget (1 restart), so it stays up reporting `failed`.
@Suite("Closed loop: fault → Prometheus → Alertmanager → incident serve → remedy", .serialized)
struct IncidentClosedLoopTests {
    @Test("app down is repaired by the playbook and the alert resolves", .timeLimit(.minutes(3)))
    func appDownIsRepaired() async throws {
        // scripts/bench/incident-mttr.py asks for more cycles on the same stack.
        let cycles = Int(ProcessInfo.processInfo.environment["EMMY_MTTR_RUNS"] ?? "1") ?? 1
        try await LoopStack.with(attempts: cycles + 2) { stack in
            var figures: [[Double]] = []
            for cycle in 1...cycles {
                let fault = try await stack.crashLoop()
                let firing = try await stack.waitForNotification("firing", count: cycle)
                let remedy = try await stack.waitForRestart(count: cycle)
                let resolved = try await stack.waitForNotification("resolved", count: cycle)
                let row = [firing, remedy, resolved].map { $0.timeIntervalSince(fault) }
                figures.append(row)
                print(String(format: "incident mttr: cycle %d fault->firing %.2fs fault->remedy %.2fs fault->resolved %.2fs", cycle, row[0], row[1], row[2]))
                try await stack.waitUntilHealthy()
            }
            let audit = stack.incidentAudit()
            #expect(audit.filter { $0.action == "incident.restart" && $0.result == "ok" }.count == cycles, "\(audit)")
            #expect(stack.escalations().isEmpty)
            // Resolution never restarted anything: every restart precedes its alert's resolution.
            let ledger = try stack.ledger()
            for run in try ledger.runs() {
                #expect(run.state == .done, "run \(run.id): \(run.state) \(run.note ?? "")")
            }
            #expect(figures.allSatisfy { $0[2] < 60 })
            try stack.operatorCommandsWork()
        }
    }

    @Test("without Prometheus, incident monitor runs the same playbook", .timeLimit(.minutes(2)))
    func monitorRepairsWithoutPrometheus() async throws {
        try await LoopStack.with(attempts: 3, monitor: true) { stack in
            _ = try await stack.crashLoop()
            _ = try await stack.waitForRestart(count: 1)
            try await stack.waitUntilHealthy()
            let run = try #require(try stack.ledger().runs().first)
            #expect(run.kind == "app_down" && run.host == "local" && run.summary.hasPrefix("monitor: "), "\(run)")
        }
    }

    @Test("flapping five times: exactly three restarts, one escalation, then nothing until ack", .timeLimit(.minutes(4)))
    func flappingFreezesAfterTheBudget() async throws {
        try await LoopStack.with(attempts: 3) { stack in
            for cycle in 1...3 {
                _ = try await stack.crashLoop()
                _ = try await stack.waitForRestart(count: cycle)
                _ = try await stack.waitForNotification("resolved", count: cycle)
                try await stack.waitUntilHealthy()
            }
            // Fourth time: the budget is spent, so automation escalates and freezes.
            _ = try await stack.crashLoop()
            _ = try await poll("one escalation at the listener", timeout: .seconds(60)) { stack.escalations().first }
            let ledger = try stack.ledger()
            #expect(try ledger.openFreeze(kind: .appDown, host: "local") != nil)
            // A person repairs it by hand; the alert resolves.
            try stack.sighupSupervisor()
            _ = try await stack.waitForNotification("resolved", count: 4)
            try await stack.waitUntilHealthy()
            // Fifth time: frozen, nothing happens and nobody is paged again.
            _ = try await stack.crashLoop()
            _ = try await stack.waitForNotification("firing", count: 5)
            _ = try await poll("the fifth run to be refused as frozen", timeout: .seconds(30)) {
                try ledger.runs().filter { $0.state == .frozen }.count >= 2 ? () : nil
            }
            #expect(stack.incidentAudit().filter { $0.action == "incident.restart" && $0.result == "ok" }.count == 3)
            #expect(stack.escalations().count == 1)
            #expect(try stack.supervisorState() == .failed, "nothing restarted the app while frozen")

            let ack = try CLI.run(["incident", "ack", "app_down", "--host", "local", "--spec", stack.specPath, "--data-dir", stack.dataDir], in: stack.dir)
            #expect(ack.status == 0 && ack.stdout.contains("automation resumed on 1 host(s)"), "\(ack.stdout)\(ack.stderr)")
            let plan = try CLI.run(["incident", "handle", "app_down", "--dry-run", "--spec", stack.specPath, "--data-dir", stack.dataDir], in: stack.dir)
            #expect(plan.stdout.contains("2. restart [destructive]: would run"), "\(plan.stdout)")
        }
    }
}

// MARK: - The stack

/// Every process of one closed loop, started from one spec and stopped together.
final class LoopStack: @unchecked Sendable {
    let dir: URL
    let specPath: String
    let dataDir: String
    let root: String
    let appPort: Int
    let prometheusURL: String
    let hookLog: URL
    private(set) var children: [ProcessHarness] = []

    private init(dir: URL, specPath: String, dataDir: String, root: String, appPort: Int, prometheusURL: String, hookLog: URL) {
        self.dir = dir
        self.specPath = specPath
        self.dataDir = dataDir
        self.root = root
        self.appPort = appPort
        self.prometheusURL = prometheusURL
        self.hookLog = hookLog
    }

    /// Starts the stack, runs `body`, and always stops every process and removes the files.
    /// `monitor`: instead of Prometheus, Alertmanager and `incident serve`, `incident monitor`
    /// looks at the app every second (hosts without Prometheus).
    static func with(attempts: Int, monitor: Bool = false, _ body: (LoopStack) async throws -> Void) async throws {
        try #require(LoopTools.missing.isEmpty, "not on PATH: \(LoopTools.missing.joined(separator: ", "))")
        let dir = try CLI.temporaryDirectory()
        let ports = try LoopbackPorts.pick(7)
        let (appPort, promPort, amPort, grafanaPort, hookPort, incidentPort) = (ports[0], ports[1], ports[2], ports[3], ports[4], ports[5])
        // Prometheus scrapes a host's app through its metrics listener (nginx on a deployed host);
        // here a forwarder to the supervised app stands in for it.
        let metricsPort = ports[6]
        let root = dir.appendingPathComponent("host").path
        let tokenFile = dir.appendingPathComponent("incident.token")
        try "loop-token-\(UUID().uuidString)\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        let yaml = """
        version: 1
        project: incident-loop
        app: { name: emmy-incident-loop, port: \(appPort) }
        hosts:
          - { name: local, address: 127.0.0.1, roles: [app, monitoring], root: \(root) }
        monitoring:
          scrape_interval: 1s
          evaluation_interval: 1s
          prometheus: { port: \(promPort) }
          alertmanager: { port: \(amPort) }
          grafana: { port: \(grafanaPort) }
          node_exporter: { enabled: false }
          app_metrics: { port: \(metricsPort) }
        alerts:
          app_down: { for: 1s }
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
          routes:
            critical: [oncall]
        incident:
          webhook: http://127.0.0.1:\(incidentPort)/alerts
          token_file: \(tokenFile.path)
          wait_timeout: 20s
          budget: { attempts: \(attempts), window: 30m, backoff_initial: 1s, backoff_max: 2s }
        """
        let specURL = dir.appendingPathComponent("emmy.yaml")
        try yaml.write(to: specURL, atomically: true, encoding: .utf8)
        let loaded = SpecLoader.load(text: yaml, file: "emmy.yaml")
        let spec = try #require(loaded.spec, "\(loaded.diagnostics)")
        try RenderWriter(root: dir).write(RenderTarget.monitoring.render(spec))
        let monitoring = dir.appendingPathComponent("monitoring").path

        let stack = LoopStack(dir: dir, specPath: specURL.path, dataDir: dir.appendingPathComponent("incident").path, root: root,
                              appPort: appPort, prometheusURL: "http://127.0.0.1:\(promPort)", hookLog: dir.appendingPathComponent("oncall.jsonl"))
        defer {
            stack.children.reversed().forEach { $0.stop() }
            try? FileManager.default.removeItem(at: dir)
        }
        do {
            try FileManager.default.createDirectory(atPath: root + "/shared", withIntermediateDirectories: true)
            stack.children.append(try ProcessHarness(name: "supervise", executable: CLI.binary,
                                                     arguments: ["supervise", "--spec", specURL.path, "--data-dir", root + "/shared"], logDirectory: dir))
            stack.children.append(try FixtureServers.start("oncall", script: FixtureServers.webhookRecorder, arguments: ["\(hookPort)", stack.hookLog.path], in: dir))
            stack.children.append(try FixtureServers.start("metrics-listener", script: FixtureServers.tcpForwarder,
                                                           arguments: ["\(metricsPort)", "\(appPort)"], in: dir))
            if monitor {
                try await poll("the app to answer", timeout: .seconds(40)) {
                    try stack.children.forEach { try $0.checkAlive() }
                    return (try? HTTPProbe.request("http://127.0.0.1:\(appPort)/health", timeout: 1).get().status) == 200 ? () : nil
                }
                stack.children.append(try ProcessHarness(name: "incident-monitor", executable: CLI.binary, arguments: [
                    "incident", "monitor", "--interval", "1s", "--spec", specURL.path, "--data-dir", stack.dataDir], logDirectory: dir))
                try await body(stack)
                return
            }
            stack.children.append(try ProcessHarness(name: "incident-serve", executable: CLI.binary,
                                                     arguments: ["incident", "serve", "--spec", specURL.path, "--data-dir", stack.dataDir], logDirectory: dir))
            stack.children.append(try ProcessHarness(name: "prometheus", executable: LoopTools.prometheus!, arguments: [
                "--config.file=\(monitoring)/prometheus/prometheus.yml", "--storage.tsdb.path=\(dir.path)/prometheus-data",
                "--web.listen-address=127.0.0.1:\(promPort)",
            ], logDirectory: dir))
            stack.children.append(try ProcessHarness(name: "alertmanager", executable: LoopTools.alertmanager!, arguments: [
                "--config.file=\(monitoring)/alertmanager/alertmanager.yml", "--storage.path=\(dir.path)/alertmanager-data",
                "--web.listen-address=127.0.0.1:\(amPort)", "--cluster.listen-address=",
            ], logDirectory: dir))
            for (name, url) in [("app", "http://127.0.0.1:\(appPort)/health"), ("incident", "http://127.0.0.1:\(incidentPort)/health"),
                                ("oncall", "http://127.0.0.1:\(hookPort)/"), ("prometheus", "\(stack.prometheusURL)/-/ready"),
                                ("alertmanager", "http://127.0.0.1:\(amPort)/-/ready")] {
                try await poll("\(name) to answer \(url)", timeout: .seconds(40)) {
                    try stack.children.forEach { try $0.checkAlive() }
                    return (try? HTTPProbe.request(url, timeout: 1).get().status) == 200 ? () : nil
                }
            }
            try await poll("Prometheus to discover Alertmanager", timeout: .seconds(30)) {
                let active = (stack.query("\(stack.prometheusURL)/api/v1/alertmanagers")?["data"] as? [String: Any])?["activeAlertmanagers"] as? [Any]
                return active?.isEmpty == false ? () : nil
            }
            for job in [spec.appJob, PrometheusRenderer.incidentJob] {
                try await poll("Prometheus to scrape \(job) up", timeout: .seconds(30)) {
                    let query = "up{job=\"\(job)\"}".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                    let result = (stack.query("\(stack.prometheusURL)/api/v1/query?query=\(query)")?["data"] as? [String: Any])?["result"] as? [[String: Any]]
                    return (result?.first?["value"] as? [Any])?.last as? String == "1" ? () : nil
                }
            }
            try await body(stack)
        } catch {
            Issue.record("closed loop failed: \(error)\n\(stack.children.map { $0.logTail(25) }.joined(separator: "\n"))")
        }
    }

    func query(_ url: String) -> [String: Any]? {
        guard case .success(let response) = HTTPProbe.request(url, timeout: 2), response.status == 200 else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any]
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
            return (try? HTTPProbe.request("http://127.0.0.1:\(self.appPort)/health", timeout: 1).get().status) == 200 && phase == .running ? () : nil
        }
    }

    func ledger() throws -> IncidentLedger { try IncidentLedger.open(directory: dataDir) }

    /// When the `count`th non-duplicate EmmyAppDown notification with `status` arrived.
    func waitForNotification(_ status: String, count: Int) async throws -> Date {
        let ledger = try ledger()
        return try await poll("\(count) \(status) EmmyAppDown notification(s) at incident serve", timeout: .seconds(60), every: .milliseconds(50)) {
            let seen = try ledger.notifications().filter { $0.alertname == "EmmyAppDown" && $0.status == status && !$0.duplicate }
            return seen.count >= count ? seen[count - 1].receivedAt : nil
        }
    }

    /// When the `count`th automated restart started (from the ledger), once it is in the audit log.
    func waitForRestart(count: Int) async throws -> Date {
        let ledger = try ledger()
        return try await poll("restart #\(count) by the playbook", timeout: .seconds(60), every: .milliseconds(50)) {
            let restarts = try ledger.runs().flatMap(\.steps).filter { $0.name == .restart && $0.state == .ok }.compactMap(\.startedAt).sorted()
            return restarts.count >= count && self.incidentAudit().filter({ $0.action == "incident.restart" }).count >= count ? restarts[count - 1] : nil
        }
    }

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
    }

    func incidentAudit() -> [IncidentAuditEntry] { IncidentAuditEntry.read(root + "/shared/audit.log") }

    /// Escalation notices incident serve posted to the on-call listener.
    func escalations() -> [[String: Any]] {
        let text = (try? String(contentsOf: hookLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["source"] as? String == "emmyops-incident" && $0["event"] as? String == "escalation" }
    }
}
