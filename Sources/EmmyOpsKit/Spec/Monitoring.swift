import EmmyApp
import Yams

// The `monitoring:` section, whole: the model, its schema (defaults read off the model), how it
// is read from the YAML tree, and its checks. A new key is added here and nowhere else. (Port
// clashes between its listeners and the app's are checked with the whole spec, in SpecValidation.)

/// The `monitoring:` section.
public struct Monitoring: Sendable, Hashable {
    public var scrapeInterval: PromDuration
    public var evaluationInterval: PromDuration
    /// Address compose publishes ports on; `127.0.0.1` keeps the stack off the network.
    public var bindAddress: String
    /// Base URL of the runbook; each alert links to `<base>#<anchor>`.
    public var runbookURL: String
    public var prometheus: Prometheus
    public var alertmanager: Alertmanager
    public var grafana: Grafana
    public var nodeExporter: NodeExporter

    public init(
        scrapeInterval: PromDuration = .seconds(15),
        evaluationInterval: PromDuration = .seconds(15),
        bindAddress: String = "127.0.0.1",
        runbookURL: String = "RUNBOOK.md",
        prometheus: Prometheus = Prometheus(),
        alertmanager: Alertmanager = Alertmanager(),
        grafana: Grafana = Grafana(),
        nodeExporter: NodeExporter = NodeExporter()
    ) {
        self.scrapeInterval = scrapeInterval
        self.evaluationInterval = evaluationInterval
        self.bindAddress = bindAddress
        self.runbookURL = runbookURL
        self.prometheus = prometheus
        self.alertmanager = alertmanager
        self.grafana = grafana
        self.nodeExporter = nodeExporter
    }

    public struct Prometheus: Sendable, Hashable {
        public var port: Int = 9090
        public var retention: PromDuration = .days(15)
        public var externalURL: String = ""
        public var image: String = "prom/prometheus:v2.42.0"
        public init() {}
    }

    public struct Alertmanager: Sendable, Hashable {
        public var port: Int = 9093
        public var externalURL: String = ""
        public var image: String = "prom/alertmanager:v0.25.0"
        /// Directory on the Alertmanager host holding one file per secret, named after it.
        public var secretsDir: String = "/etc/alertmanager/secrets"
        public init() {}
    }

    public struct Grafana: Sendable, Hashable {
        public var port: Int = 3000
        public var externalURL: String = ""
        public var image: String = "grafana/grafana:10.4.2"
        public var adminUser: String = "admin"
        /// Must be a secret reference: no default password is ever rendered.
        public var adminPassword: ConfigValue = .secret(name: "GRAFANA_ADMIN_PASSWORD")
        public init() {}
    }

    /// Where monitoring hosts scrape the app: an nginx listener on each app host's private
    /// address that forwards to whichever slot serves, so a slot switch never moves the target.
    public var appMetrics = AppMetrics()

    public struct AppMetrics: Sendable, Hashable {
        public var port: Int = 9101
        public init() {}
    }

    public struct NodeExporter: Sendable, Hashable {
        public var port: Int = 9100
        public var enabled: Bool = true
        public var image: String = "prom/node-exporter:v1.5.0"
        public init() {}
    }
}

// MARK: - Schema

extension SpecSchema {
    static let monitoring = SchemaField("monitoring", .object([
        SchemaField("scrape_interval", .duration, "How often Prometheus scrapes (default \(Monitoring().scrapeInterval))."),
        SchemaField("evaluation_interval", .duration, "How often rules are evaluated (default \(Monitoring().evaluationInterval))."),
        SchemaField("bind_address", .string, "Address compose publishes ports on (default \(Monitoring().bindAddress))."),
        SchemaField("runbook_url", .string, "Base URL of RUNBOOK.md; alerts link to its anchors."),
        SchemaField("prometheus", .object([
            SchemaField("port", .port, "Default \(Monitoring.Prometheus().port)."),
            SchemaField("retention", .duration, "TSDB retention (default \(Int(Monitoring.Prometheus().retention.seconds / 86_400))d)."),
            SchemaField("external_url", .string, "URL users reach Prometheus at."),
            SchemaField("image", .string, "Container image for compose."),
        ]), "Prometheus settings."),
        SchemaField("alertmanager", .object([
            SchemaField("port", .port, "Default \(Monitoring.Alertmanager().port)."),
            SchemaField("external_url", .string, "URL users reach Alertmanager at."),
            SchemaField("image", .string, "Container image for compose."),
            SchemaField("secrets_dir", .string, "Directory holding one file per secret for *_file settings."),
        ]), "Alertmanager settings."),
        SchemaField("grafana", .object([
            SchemaField("port", .port, "Default \(Monitoring.Grafana().port)."),
            SchemaField("external_url", .string, "URL users reach Grafana at."),
            SchemaField("image", .string, "Container image for compose."),
            SchemaField("admin_user", .string, "Admin login (default \(Monitoring.Grafana().adminUser))."),
            SchemaField("admin_password", .secret, "A ${SECRET} reference; never a literal password."),
        ]), "Grafana settings."),
        SchemaField("app_metrics", .object([
            SchemaField("port", .port, "Port of the app's metrics listener on each app host's private address, open to monitoring hosts only (default \(Monitoring.AppMetrics().port))."),
        ]), "Where monitoring hosts scrape the app."),
        SchemaField("node_exporter", .object([
            SchemaField("port", .port, "Default \(Monitoring.NodeExporter().port)."),
            SchemaField("enabled", .boolean, "Scrape node-exporter and render host alerts (default \(Monitoring.NodeExporter().enabled))."),
            SchemaField("image", .string, "Container image for compose."),
        ]), "node-exporter settings."),
    ]), "The monitoring stack.")
}

// MARK: - Reading

extension SpecBuilder {
    func monitoring(_ node: CheckedNode?) -> Monitoring {
        var m = Monitoring()
        set(&m.scrapeInterval, duration(R.value(node, "scrape_interval")))
        set(&m.evaluationInterval, duration(R.value(node, "evaluation_interval")))
        set(&m.bindAddress, R.string(R.value(node, "bind_address")))
        set(&m.runbookURL, R.string(R.value(node, "runbook_url")))
        let prometheus = R.value(node, "prometheus")
        set(&m.prometheus.port, port(R.value(prometheus, "port")))
        set(&m.prometheus.retention, duration(R.value(prometheus, "retention")))
        set(&m.prometheus.externalURL, R.string(R.value(prometheus, "external_url")))
        set(&m.prometheus.image, R.string(R.value(prometheus, "image")))
        let alertmanager = R.value(node, "alertmanager")
        set(&m.alertmanager.port, port(R.value(alertmanager, "port")))
        set(&m.alertmanager.externalURL, R.string(R.value(alertmanager, "external_url")))
        set(&m.alertmanager.image, R.string(R.value(alertmanager, "image")))
        set(&m.alertmanager.secretsDir, R.string(R.value(alertmanager, "secrets_dir")))
        let grafana = R.value(node, "grafana")
        set(&m.grafana.port, port(R.value(grafana, "port")))
        set(&m.grafana.externalURL, R.string(R.value(grafana, "external_url")))
        set(&m.grafana.image, R.string(R.value(grafana, "image")))
        set(&m.grafana.adminUser, R.string(R.value(grafana, "admin_user")))
        set(&m.grafana.adminPassword, R.string(R.value(grafana, "admin_password")).map(ConfigValue.init(parsing:)))
        set(&m.appMetrics.port, port(R.value(R.value(node, "app_metrics"), "port")))
        let nodeExporter = R.value(node, "node_exporter")
        set(&m.nodeExporter.port, port(R.value(nodeExporter, "port")))
        set(&m.nodeExporter.enabled, R.bool(R.value(nodeExporter, "enabled")))
        set(&m.nodeExporter.image, R.string(R.value(nodeExporter, "image")))
        return m
    }
}

// MARK: - Validation

extension SpecValidation {
    /// Intervals Prometheus can work with, and runbook links that open where alerts are read.
    static func validateMonitoring(_ spec: Spec, error: (String, String, String?) -> Void, warning: (String, String, String?) -> Void) {
        let m = spec.monitoring
        for (path, value) in [("monitoring.scrape_interval", m.scrapeInterval), ("monitoring.evaluation_interval", m.evaluationInterval),
                              ("monitoring.prometheus.retention", m.prometheus.retention)] where value.milliseconds == 0 {
            error(path, "must be longer than 0s", nil)
        }
        if m.scrapeInterval.milliseconds > 0, m.scrapeInterval > PromDuration.minutes(5) {
            warning("monitoring.scrape_interval", "scraping less often than every 5m leaves gaps in rate() windows", nil)
        }
        if !spec.notify.receivers.isEmpty, !m.runbookURL.contains("://") {
            warning("monitoring.runbook_url", "`\(m.runbookURL)` is relative, so runbook links in Slack, email or PagerDuty will not open",
                    "point it at where RUNBOOK.md is published, e.g. https://github.com/OWNER/REPO/blob/main/monitoring/RUNBOOK.md")
        }
        if !m.runbookURL.isEmpty, m.runbookURL.contains("#") {
            error("monitoring.runbook_url", "must not contain `#`", "each alert adds its own anchor")
        }
    }
}
