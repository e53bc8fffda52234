import EmmyOpsKit
import Foundation
import Testing

/// Real Prometheus and Alertmanager on a rendered `monitoring/` folder, on loopback ports: what
/// every closed-loop test starts, and the readiness it must wait for before it times anything.
struct MonitoringPair {
    let prometheus: ProcessHarness
    let alertmanager: ProcessHarness
    let prometheusURL: String
    let alertmanagerURL: String

    var children: [ProcessHarness] { [prometheus, alertmanager] }

    /// The spec's `monitoring:` section every closed loop uses: 1 s scrapes and evaluations on
    /// the given loopback ports, no node-exporter. Starts at column 0, one key per line.
    static func specSection(prometheusPort: Int, alertmanagerPort: Int, grafanaPort: Int, metricsPort: Int) -> String {
        """
        monitoring:
          scrape_interval: 1s
          evaluation_interval: 1s
          prometheus: { port: \(prometheusPort) }
          alertmanager: { port: \(alertmanagerPort) }
          grafana: { port: \(grafanaPort) }
          node_exporter: { enabled: false }
          app_metrics: { port: \(metricsPort) }
        """
    }

    /// Starts both on the rendering under `monitoring` (the `monitoring/` folder `render` writes),
    /// with their data, logs and state under `dir`.
    static func start(monitoring: String, in dir: URL, prometheusPort: Int, alertmanagerPort: Int) throws -> MonitoringPair {
        let prometheus = try ProcessHarness(name: "prometheus", executable: LoopTools.prometheus!, arguments: [
            "--config.file=\(monitoring)/prometheus/prometheus.yml", "--storage.tsdb.path=\(dir.path)/prometheus-data",
            "--web.listen-address=127.0.0.1:\(prometheusPort)",
        ], logDirectory: dir)
        let alertmanager: ProcessHarness
        do {
            alertmanager = try ProcessHarness(name: "alertmanager", executable: LoopTools.alertmanager!, arguments: [
                "--config.file=\(monitoring)/alertmanager/alertmanager.yml", "--storage.path=\(dir.path)/alertmanager-data",
                "--web.listen-address=127.0.0.1:\(alertmanagerPort)",
                "--cluster.listen-address=",  // otherwise it binds 9094 for gossip
            ], logDirectory: dir)
        } catch {
            prometheus.stop()
            throw error
        }
        return MonitoringPair(prometheus: prometheus, alertmanager: alertmanager, prometheusURL: "http://127.0.0.1:\(prometheusPort)",
                              alertmanagerURL: "http://127.0.0.1:\(alertmanagerPort)")
    }

    /// Until both answer, Prometheus has found its Alertmanager and has scraped every job of
    /// `jobs` up: before that, a timing measures start-up. `alive` are checked on every poll,
    /// so a child that died fails at once with its log instead of at the timeout.
    func awaitReady(jobs: [String], alive: [ProcessHarness] = []) async throws {
        for (name, url) in [("prometheus", "\(prometheusURL)/-/ready"), ("alertmanager", "\(alertmanagerURL)/-/ready")] {
            try await poll("\(name) to answer \(url)", timeout: .seconds(40)) {
                try (alive + children).forEach { try $0.checkAlive() }
                return (try? HTTPProbe.request(url, timeout: 1).get().status) == 200 ? () : nil
            }
        }
        try await poll("Prometheus to discover Alertmanager", timeout: .seconds(30)) {
            let active = (query("/api/v1/alertmanagers")?["data"] as? [String: Any])?["activeAlertmanagers"] as? [Any]
            return active?.isEmpty == false ? () : nil
        }
        for job in jobs {
            try await poll("Prometheus to scrape \(job) up", timeout: .seconds(30)) {
                try (alive + children).forEach { try $0.checkAlive() }
                return value("up{job=\"\(job)\"}") == "1" ? () : nil
            }
        }
    }

    /// A JSON answer of Prometheus's API (`path` with its query), or nil.
    func query(_ path: String) -> [String: Any]? {
        guard case .success(let response) = HTTPProbe.request(prometheusURL + path, timeout: 2), response.status == 200 else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any]
    }

    /// The first sample's value of an instant PromQL query, or nil.
    func value(_ promQL: String) -> String? {
        let encoded = promQL.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let result = (query("/api/v1/query?query=\(encoded)")?["data"] as? [String: Any])?["result"] as? [[String: Any]]
        return (result?.first?["value"] as? [Any])?.last as? String
    }
}
