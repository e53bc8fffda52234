import EmmyApp

/// emmy.yaml, version 1, with every default applied.
///
/// Plain value types with defaulted initialisers so tests can build a spec without YAML.
public struct Spec: Sendable {
    public var version: Int
    public var project: String
    public var app: AppConfig
    public var hosts: [Host]
    public var monitoring: Monitoring
    public var alerts: Alerts
    public var slo: SLO
    public var notify: Notify
    public var incident: Incident
    public var release: Release
    public var backup: Backup
    /// Present when the spec describes cloud infrastructure.
    public var infrastructure: Infrastructure?
    public var github: GitHubSettings
    public var supervise = SuperviseSettings()
    /// Where each key path was written, for diagnostics found after loading.
    public var sourceMap: SourceMap

    public init(
        version: Int = 1,
        project: String = "emmy",
        app: AppConfig = AppConfig(),
        hosts: [Host] = [],
        monitoring: Monitoring = Monitoring(),
        alerts: Alerts = Alerts(),
        slo: SLO = SLO(),
        notify: Notify = Notify(),
        incident: Incident = Incident(),
        release: Release = Release(),
        backup: Backup = Backup(),
        infrastructure: Infrastructure? = nil,
        github: GitHubSettings = GitHubSettings(),
        sourceMap: SourceMap = SourceMap(file: "emmy.yaml")
    ) {
        self.version = version
        self.project = project
        self.app = app
        self.hosts = hosts
        self.monitoring = monitoring
        self.alerts = alerts
        self.slo = slo
        self.notify = notify
        self.incident = incident
        self.release = release
        self.backup = backup
        self.infrastructure = infrastructure
        self.github = github
        self.sourceMap = sourceMap
    }

    /// The Prometheus job that scrapes EmmyApp.
    public var appJob: String { app.name }
}

/// A machine emmyops deploys to or monitors.
public struct Host: Sendable, Hashable {
    public var name: String
    public var address: String
    public var user: String
    public var port: Int
    public var roles: [Role]

    public enum Role: String, Sendable, Hashable, CaseIterable {
        case app, monitoring
    }

    public init(name: String, address: String, user: String = "deploy", port: Int = 22, roles: [Role] = [.app, .monitoring]) {
        self.name = name
        self.address = address
        self.user = user
        self.port = port
        self.roles = roles
    }
}

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

    public struct NodeExporter: Sendable, Hashable {
        public var port: Int = 9100
        public var enabled: Bool = true
        public var image: String = "prom/node-exporter:v1.5.0"
        public init() {}
    }
}

/// Alert severities, as the `severity` label carries them.
public enum Severity: String, Sendable, Hashable, CaseIterable, Comparable {
    case critical, warning, info

    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The `incident:` section.
public struct Incident: Sendable, Hashable {
    /// URL of emmyops' own alert receiver; when set, every alert is also routed there.
    public var webhook: String?
    public init(webhook: String? = nil) { self.webhook = webhook }
}
