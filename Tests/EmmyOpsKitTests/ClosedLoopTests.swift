import EmmyApp
@testable import EmmyOpsKit
import Foundation
import Testing

/// Renders a spec, runs the real Prometheus and Alertmanager on it against a real scrape target,
/// kills the target, and checks that `EmmyAppDown` reaches the spec's webhook receiver intact.
@Suite("Closed loop: spec → Prometheus → Alertmanager → webhook", .serialized)
struct ClosedLoopTests {
    static let appName = "emmy-loop"

    @Test("app_down reaches the webhook receiver after the scrape target stops",
          .enabled(if: LoopTools.missing.isEmpty || LoopTools.required,
                   "SKIPPED: needs prometheus, alertmanager (or prometheus-alertmanager) and python3 on PATH; EMMY_REQUIRE_TOOLS=1 makes this a failure"),
          .timeLimit(.minutes(2)))
    func appDownIsDelivered() async throws {
        guard LoopTools.missing.isEmpty else {
            Issue.record("EMMY_REQUIRE_TOOLS=1 but not on PATH: \(LoopTools.missing.joined(separator: ", "))")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emmy-closed-loop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var children: [ProcessHarness] = []
        // Every path out of the test, failures included, ends every child and removes the files.
        defer {
            children.reversed().forEach { $0.stop() }
            try? FileManager.default.removeItem(at: dir)
        }
        do {
            try await runLoop(in: dir, children: &children)
        } catch {
            Issue.record("closed loop failed: \(error)\n\(children.map { $0.logTail() }.joined(separator: "\n"))")
        }
    }

    private func runLoop(in dir: URL, children: inout [ProcessHarness]) async throws {
        let ports = try LoopbackPorts.pick(6)
        let (appPort, promPort, amPort, grafanaPort, hookPort) = (ports[0], ports[1], ports[2], ports[3], ports[4])
        // Prometheus scrapes a host's app through its metrics listener; the scrape target stands in for it.
        let metricsPort = ports[5]

        // 1. Spec → rendered monitoring config on disk.
        let yaml = """
        version: 1
        project: closed-loop
        app: { name: \(Self.appName), port: \(appPort) }
        hosts:
          - { name: local, address: 127.0.0.1, roles: [app, monitoring] }
        \(MonitoringPair.specSection(prometheusPort: promPort, alertmanagerPort: amPort, grafanaPort: grafanaPort, metricsPort: metricsPort))
        alerts:
          app_down: { for: 2s }
        notify:
          group_wait: 0s
          group_interval: 1s
          receivers:
            hook:
              webhook: { url: "http://127.0.0.1:\(hookPort)/alerts" }
          routes:
            critical: [hook]
        """
        let loaded = SpecLoader.load(text: yaml, file: "emmy.yaml")
        let spec = try #require(loaded.spec, "spec has errors:\n\(loaded.diagnostics.map(\.description).joined(separator: "\n"))")
        #expect(!loaded.diagnostics.hasErrors)
        try RenderWriter(root: dir).write(RenderTarget.monitoring.render(spec))
        let monitoring = dir.appendingPathComponent("monitoring")

        // 2 + 3. The scrape target and the webhook recorder.
        let metricsFile = dir.appendingPathComponent("metrics.txt")
        try MetricCatalogue.sampleExposition().write(to: metricsFile, atomically: true, encoding: .utf8)
        let target = try FixtureServers.start("scrape-target", script: FixtureServers.scrapeTarget,
                                              arguments: ["\(metricsPort)", metricsFile.path], in: dir)
        children.append(target)
        let received = dir.appendingPathComponent("webhook.jsonl")
        let webhook = try FixtureServers.start("webhook", script: FixtureServers.webhookRecorder,
                                               arguments: ["\(hookPort)", received.path], in: dir)
        children.append(webhook)

        // 4. Real Prometheus and Alertmanager on the rendered files.
        let startedAt = ContinuousClock.now
        let pair = try MonitoringPair.start(monitoring: monitoring.path, in: dir, prometheusPort: promPort, alertmanagerPort: amPort)
        children += pair.children
        for (child, url) in [(target, "http://127.0.0.1:\(metricsPort)/metrics"), (webhook, "http://127.0.0.1:\(hookPort)/")] {
            try await poll("\(child.name) to answer \(url)", timeout: .seconds(30)) {
                try child.checkAlive()
                return status(url) == 200 ? () : nil
            }
        }
        // Prometheus must know its Alertmanager and have scraped the app, or the timing below measures start-up.
        try await pair.awaitReady(jobs: [spec.appJob], alive: children)
        print("closed loop: stack ready (Alertmanager discovered, app scraped up) after \(seconds(since: startedAt))s")
        #expect(payloads(in: received).allSatisfy { appDown(in: $0) == nil }, "EmmyAppDown fired while the app was up")

        // 5. The fault: stop the target, then wait for the page.
        target.stop()
        let faultAt = ContinuousClock.now
        let (payload, alert) = try await poll("a firing EmmyAppDown at the webhook", timeout: .seconds(60), every: .milliseconds(50)) {
            payloads(in: received).lazy.compactMap { p in appDown(in: p).map { (p, $0) } }.first
        }
        print("closed loop: app_down delivered \(seconds(since: faultAt))s after the target stopped")

        let instance = "127.0.0.1:\(metricsPort)"
        #expect(payload.version == "4")
        #expect(payload.receiver == "hook")
        #expect(payload.status == "firing")
        #expect(alert.labels["severity"] == "critical")
        #expect(alert.labels["service"] == Self.appName)
        #expect(alert.labels["job"] == Self.appName)
        #expect(alert.labels["instance"] == instance)
        #expect(alert.annotations["summary"]?.isEmpty == false)
        #expect(alert.annotations["description"]?.contains(instance) == true, "description: \(alert.annotations["description"] ?? "none")")
        #expect(alert.annotations["runbook_url"]?.hasSuffix("#emmyappdown") == true, "runbook_url: \(alert.annotations["runbook_url"] ?? "none")")
    }
}

// MARK: - Reading what the servers say

/// Alertmanager's webhook body (version 4), only the fields the test checks.
struct WebhookPayload: Decodable {
    struct Alert: Decodable {
        var status: String
        var labels: [String: String]
        var annotations: [String: String]
    }
    var version: String
    var receiver: String
    var status: String
    var alerts: [Alert]
}

/// Every complete line of the recorder's file, decoded; a line still being written is skipped.
private func payloads(in file: URL) -> [WebhookPayload] {
    guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(WebhookPayload.self, from: Data($0.utf8)) }
}

/// The firing EmmyAppDown alert of a firing payload, if it has one.
private func appDown(in payload: WebhookPayload) -> WebhookPayload.Alert? {
    guard payload.status == "firing" else { return nil }
    return payload.alerts.first { $0.status == "firing" && $0.labels["alertname"] == "EmmyAppDown" }
}

/// Seconds since `start`, to two decimals, for the timing lines.
private func seconds(since start: ContinuousClock.Instant) -> String {
    let elapsed = start.duration(to: .now).components
    return String(format: "%.2f", Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18)
}

private func status(_ url: String) -> Int? {
    try? HTTPProbe.request(url, timeout: 2).get().status
}
