@testable import EmmyOpsKit
import Foundation
import Testing
import Yams

/// A host addressed by IPv6: every `address:port` the renderings and the hosts' listeners spell
/// brackets the address (`[2001:db8::1]:9101`), which is how Prometheus, nginx and the exporters
/// read it; the bare `2001:db8::1:9101` is another address without a port.
@Suite struct IPv6AddressTests {
    static let specText = """
    version: 1
    project: sixtest
    app:
      name: emmy-six
      provider: { kind: log }
    hosts:
      - { name: mon, address: "2001:db8::1", roles: [app, monitoring] }
      - { name: web, address: "2001:db8::2", roles: [app] }
    incident:
      webhook: "http://[::1]:9095/alerts"

    """

    static func spec() throws -> Spec {
        let loaded = SpecLoader.load(text: specText, file: "emmy.yaml")
        #expect(!loaded.diagnostics.contains { $0.severity == .error }, "\(loaded.diagnostics)")
        return try #require(loaded.spec)
    }

    @Test(arguments: [("127.0.0.1", 9100, "127.0.0.1:9100"), ("2001:db8::1", 5000, "[2001:db8::1]:5000"), ("::1", 80, "[::1]:80"),
                      ("[::1]", 80, "[::1]:80"), ("prod-1.example.com", 22, "prod-1.example.com:22")])
    func hostAndPortJoin(host: String, port: Int, joined: String) {
        #expect(HostPort.join(host, port) == joined)
    }

    /// Every target of prometheus.yml (scrapes and Alertmanagers), and promtool loads the file.
    @Test(.enabled(if: ProcessRunner.which("promtool") != nil || CLI.toolsRequired, "promtool is not installed"))
    func prometheusTargetsAreBracketed() throws {
        let spec = try Self.spec()
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try RenderWriter(root: dir).write(RenderTarget.monitoring.render(spec))
        let config = dir.appendingPathComponent(OutputPath.prometheusConfig).path
        let promtool = try #require(ProcessRunner.which("promtool"))
        let check = try ProcessRunner().run(promtool, ["check", "config", config], timeout: 60)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

        let yaml = try #require(try Yams.load(yaml: String(contentsOfFile: config, encoding: .utf8)) as? [String: Any])
        let jobs = try #require(yaml["scrape_configs"] as? [[String: Any]])
        var targets: [String: [String]] = [:]
        for job in jobs {
            let configs = job["static_configs"] as? [[String: Any]] ?? []
            targets[job["job_name"] as? String ?? ""] = configs.flatMap { $0["targets"] as? [String] ?? [] }
        }
        let alerting = (yaml["alerting"] as? [String: Any])?["alertmanagers"] as? [[String: Any]] ?? []
        let alertmanagers = alerting.flatMap { ($0["static_configs"] as? [[String: Any]] ?? []).flatMap { $0["targets"] as? [String] ?? [] } }
        let app = spec.monitoring.appMetrics.port, node = spec.monitoring.nodeExporter.port, am = spec.monitoring.alertmanager.port
        #expect(targets[spec.appJob] == ["[2001:db8::1]:\(app)", "[2001:db8::2]:\(app)"], "\(targets)")
        #expect(targets[AlertCatalogue.nodeJob] == ["[2001:db8::1]:\(node)", "[2001:db8::2]:\(node)"], "\(targets)")
        #expect(targets[PrometheusRenderer.alertmanagerJob] == ["[2001:db8::1]:\(am)"] && alertmanagers == ["[2001:db8::1]:\(am)"])
        #expect(targets[PrometheusRenderer.incidentJob] == ["[::1]:9095"], "\(targets)")
        for target in targets.values.flatMap({ $0 }) + alertmanagers where target.contains("::") {
            #expect(target.range(of: #"^\[[0-9a-f:]+\]:[0-9]+$"#, options: .regularExpression) != nil, "unbracketed: \(target)")
        }
    }

    /// What the hosts themselves listen on: nginx's metrics listener, node-exporter's and
    /// Alertmanager's listen addresses all come from the same endpoints.
    @Test func hostListenersAreBracketed() throws {
        let spec = try Self.spec()
        let fleet = FleetTopology(spec: spec)
        let listener = try #require(fleet.metricsListener(on: "web"))
        let nginx = try ProxySwitch.render(listen: "127.0.0.1", httpPort: 80, metricsPath: "/metrics", drainSeconds: 1, version: "v1",
                                           metricsListener: listener, scrapers: fleet.scraperAddresses)
        #expect(nginx.contains("listen [2001:db8::2]:\(spec.monitoring.appMetrics.port);"), "\(nginx)")
        #expect(nginx.contains("allow 2001:db8::1;"), "an allow line takes the bare address: \(nginx)")
        #expect(fleet.nodeExporter(on: "mon")?.target == "[2001:db8::1]:\(spec.monitoring.nodeExporter.port)")
        #expect(fleet.alertmanagers.map(\.target) == ["[2001:db8::1]:\(spec.monitoring.alertmanager.port)"])
    }

    /// The probes deploy and `host monitoring` wait on reach an IPv6 listener by a bracketed URL.
    @Test(.timeLimit(.minutes(1)))
    func probesReachABracketedURL() async throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try LoopbackPorts.pick(1)[0]
        let server = try ProcessHarness(name: "http-v6", executable: "/usr/bin/python3",
                                        arguments: ["-m", "http.server", "--bind", "::1", "--directory", dir.path, "\(port)"], logDirectory: dir)
        defer { server.stop() }
        let status = try await poll("python's http.server on [::1]:\(port)", timeout: .seconds(20)) { () -> Int? in
            try server.checkAlive()
            return try? HTTPProbe.request("http://\(HostPort.join("::1", port))/", timeout: 2).get().status
        }
        #expect(status == 200)
    }
}
