@testable import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The plan of `up --stack`, without processes.
@Suite("up --stack: the plan")
struct LocalStackPlanTests {
    func stack(_ spec: Spec = Spec()) -> LocalStack {
        LocalStack(spec: spec, dataDirectory: "/tmp/x/.emmy", emmyops: "/bin/emmyops", specFile: nil, appHost: "127.0.0.1", appPort: 5005)
    }

    @Test("a missing server is named with its Debian package, and the rest is still planned")
    func missingBinary() {
        let (services, missing) = stack().plan { $0 == "prometheus-node-exporter" || $0 == "node_exporter" ? nil : "/usr/bin/\($0)" }
        #expect(missing == [LocalStack.Missing(name: "node-exporter", executable: "prometheus-node-exporter", package: "prometheus-node-exporter")])
        #expect(services.map(\.name) == ["app", "alertmanager", "incident", "prometheus"])
        let noNode = PrometheusRenderer.config(stack().monitoringSpec(nodeExporter: false), topology: .hosts)
        #expect(!noNode.contains("job_name: \(AlertCatalogue.nodeJob)"), "no target that can never be up")
    }

    @Test("the monitoring is rendered for this machine: loopback targets, short intervals, the local receiver only")
    func localMonitoring() {
        var spec = Spec()
        spec.hosts = [Host(name: "web1", address: "203.0.113.7", roles: [.app, .monitoring])]
        spec.notify.receivers = [Receiver(name: "pager", webhook: .init(url: .literal("https://pager.example/hook")))]
        spec.notify.routes = [.critical: ["pager"]]
        let local = stack(spec).monitoringSpec(nodeExporter: true)
        #expect(local.monitoring.scrapeInterval == .seconds(5) && local.monitoring.evaluationInterval == .seconds(5))
        let prometheus = PrometheusRenderer.config(local, topology: .hosts)
        #expect(prometheus.contains("127.0.0.1:5005") && !prometheus.contains("203.0.113.7"), "\(prometheus)")
        let alertmanager = AlertmanagerRenderer.config(local)
        #expect(alertmanager.contains("http://127.0.0.1:9095/alerts") && alertmanager.contains("/tmp/x/.emmy/stack/incident.token"))
        #expect(!alertmanager.contains("pager.example"), "a local stack pages nobody")
        let receiverSpec = SpecLoader.load(text: stack(spec).incidentSpec, file: "incident.yaml")
        #expect(receiverSpec.spec?.hosts.isEmpty == true, "\(receiverSpec.diagnostics)")
    }
}

/// `emmyops up --stack` for real: the app under supervise, Prometheus, Alertmanager,
/// node-exporter and the incident receiver, all on 1 s clocks.
@Suite("up --stack: the whole stack on this machine", .serialized)
struct UpStackTests {
    @Test("every target up, the app's crash alerts and resolves, one SIGINT leaves no process", .timeLimit(.minutes(3)))
    func wholeStack() async throws {
        for tool in ["prometheus", "prometheus-alertmanager", "prometheus-node-exporter"] {
            try #require(ProcessRunner.which(tool) != nil, "\(tool) is not on PATH (scripts/install-deps.sh installs it)")
        }
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ports = try LoopbackPorts.pick(5)
        // The supervisor waits 6 s before the restart, so the outage spans several 1 s scrapes.
        let yaml = """
        version: 1
        project: up-stack
        app: { name: emmy-up-stack, port: \(ports[0]) }
        monitoring:
          scrape_interval: 1s
          evaluation_interval: 1s
          prometheus: { port: \(ports[1]) }
          alertmanager: { port: \(ports[2]) }
          node_exporter: { port: \(ports[3]) }
        alerts:
          app_down: { for: 1s }
        supervise:
          backoff_initial: 6s
          health_interval: 1s
          drain_timeout: 5s
        incident:
          listen: 127.0.0.1:\(ports[4])
        """
        let specFile = dir.appendingPathComponent("emmy.yaml")
        try yaml.write(to: specFile, atomically: true, encoding: .utf8)
        let data = dir.appendingPathComponent(".emmy").path
        let up = try ProcessHarness(name: "up", executable: CLI.binary, arguments: ["up", "--stack", "--spec", specFile.path, "--data-dir", data],
                                    logDirectory: dir)
        defer { up.kill9() }
        let prometheus = "http://127.0.0.1:\(ports[1])"
        let alertmanager = "http://127.0.0.1:\(ports[2])"
        do {
            // Every URL is printed once everything answers.
            let printed = try await poll("up to print every URL", timeout: .seconds(90)) {
                try up.checkAlive()
                let log = (try? String(contentsOf: up.logURL, encoding: .utf8)) ?? ""
                return log.contains("Ctrl-C stops everything") ? log : nil
            }
            for url in ["http://127.0.0.1:\(ports[0])/", prometheus + "/", alertmanager + "/", "http://127.0.0.1:\(ports[3])/metrics",
                        "http://127.0.0.1:\(ports[4])/alerts"] {
                #expect(printed.contains(url), "\(url) not in:\n\(printed)")
            }
            // Within 30 s Prometheus has scraped every target up.
            let jobs = try await poll("every Prometheus target up", timeout: .seconds(30)) { () -> [String]? in
                let targets = ((Self.json("\(prometheus)/api/v1/targets") as? [String: Any])?["data"] as? [String: Any])?["activeTargets"] as? [[String: Any]] ?? []
                guard targets.count == 5, targets.allSatisfy({ $0["health"] as? String == "up" }) else { return nil }
                return targets.compactMap { ($0["labels"] as? [String: String])?["job"] }.sorted()
            }
            #expect(jobs == ["alertmanager", "emmy-up-stack", "emmyops-incident", "node", "prometheus"], "\(jobs)")
            // The app's monitoring page draws from this Prometheus and lists this Alertmanager's alerts.
            let page = try await poll("the monitoring page from Prometheus", timeout: .seconds(20)) { () -> String? in
                guard case .success(let answer) = HTTPProbe.request("http://127.0.0.1:\(ports[0])/monitoring/live", timeout: 5) else { return nil }
                // Prometheus has the queue depth for the current minute once it scraped the app.
                return answer.body.range(of: #"data-series="queue depth" data-values="[^"]*\d"#, options: .regularExpression) != nil ? answer.body : nil
            }
            #expect(page.contains("From Prometheus at \(prometheus).") && page.contains("chart-latency"), "\(page)")
            #expect(page.contains("Alertmanager at \(alertmanager)") && !page.contains("did not answer"), "\(page)")
            try await poll("Prometheus to discover Alertmanager", timeout: .seconds(30)) {
                let active = ((Self.json("\(prometheus)/api/v1/alertmanagers") as? [String: Any])?["data"] as? [String: Any])?["activeAlertmanagers"] as? [Any]
                return active?.isEmpty == false ? () : nil
            }

            // Kill the app's process: the alert reaches Alertmanager, then resolves after the restart.
            let stateFile = data + "/supervise.json"
            let child = try await poll("the supervised app", timeout: .seconds(10)) {
                try FileManager.default.contents(atPath: stateFile).flatMap { try SupervisorState.decode($0) }.flatMap { $0.state == .running ? $0.childPID : nil }
            }
            kill(child, SIGKILL)
            func appDownActive() -> Bool? {
                guard let alerts = Self.json("\(alertmanager)/api/v2/alerts") as? [[String: Any]] else { return nil }
                return alerts.contains { ($0["labels"] as? [String: String])?["alertname"] == "EmmyAppDown" && ($0["status"] as? [String: Any])?["state"] as? String == "active" }
            }
            try await poll("EmmyAppDown active in Alertmanager", timeout: .seconds(40)) { appDownActive() == true ? () : nil }
            let restarted = try await poll("the supervisor's restart", timeout: .seconds(40)) {
                try FileManager.default.contents(atPath: stateFile).flatMap { try SupervisorState.decode($0) }.flatMap { $0.childPID != child && $0.state == .running ? $0.childPID : nil }
            }
            try await poll("EmmyAppDown resolved", timeout: .seconds(60)) { appDownActive() == false ? () : nil }

            // One SIGINT: every process of the stack is gone, checked by pid.
            let pids = Set(Self.descendants(of: up.pid) + [restarted, up.pid])
            #expect(pids.count == 7, "up, supervise, serve, node-exporter, alertmanager, incident serve, prometheus: \(pids)")
            kill(up.pid, SIGINT)
            try await poll("up to exit", timeout: .seconds(30)) { up.isRunning ? nil : () }
            let left = pids.filter(ProcessTable.isAlive)
            #expect(left.isEmpty, "still running: \(left.map { "\($0) \(ProcessTable.arguments($0) ?? [])" })")
            #expect((try? String(contentsOf: up.logURL, encoding: .utf8))?.contains("emmyops up: stopped") == true, "\(up.logTail())")
        } catch {
            Issue.record("up --stack failed: \(error)\n\(up.logTail(30))\n\(Self.logs(data))")
            Self.descendants(of: up.pid).forEach { kill($0, SIGKILL) }
        }
    }

    static func json(_ url: String) -> Any? {
        guard case .success(let response) = HTTPProbe.request(url, timeout: 2), response.status == 200 else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(response.body.utf8))
    }

    /// Every process below `pid`, from /proc (children in their own sessions included).
    static func descendants(of pid: Int32) -> [Int32] {
        var parents: [Int32: [Int32]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  // After the command's ")": state, then the parent's pid.
                  let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 1, let parent = Int32(fields[1]) else { continue }
            parents[parent, default: []].append(child)
        }
        var found: Set<Int32> = []
        var queue = [pid]
        while let next = queue.popLast() {
            for child in parents[next] ?? [] where found.insert(child).inserted { queue.append(child) }
        }
        return Array(found)
    }

    static func logs(_ data: String) -> String {
        let folder = data + "/stack/logs"
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().map { name in
            let text = (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8)) ?? ""
            return "--- \(name) ---\n" + text.split(separator: "\n").suffix(10).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
