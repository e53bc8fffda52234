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
    public var ssh: SSHSettings
    public var deploy: DeploySettings
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
        ssh: SSHSettings = SSHSettings(),
        deploy: DeploySettings = DeploySettings(),
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
        self.ssh = ssh
        self.deploy = deploy
        self.sourceMap = sourceMap
    }

    /// The Prometheus job that scrapes EmmyApp.
    public var appJob: String { app.name }
}

/// Alert severities, as the `severity` label carries them.
public enum Severity: String, Sendable, Hashable, CaseIterable, Comparable {
    case critical, warning, info

    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
