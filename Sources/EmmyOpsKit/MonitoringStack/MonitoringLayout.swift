import Foundation

/// Where a host keeps its monitoring stack, beside its releases:
///
///     <root>/monitoring/incoming/                 the rendered files of this deploy, as uploaded
///     <root>/monitoring/configs/<stamp>/          one checked configuration per deploy
///     <root>/monitoring/current  -> configs/<stamp>   what the running Prometheus/Alertmanager read
///     <root>/monitoring/previous -> configs/<stamp>   what to fall back to
///     <root>/monitoring/data/{prometheus,alertmanager}/, logs/, run/<service>.pid
///     <root>/monitoring/run/postgres-exporter.password   (0600) only when the password came from
///                                                   EMMY_DATABASE_PASSWORD, not a file
public struct MonitoringLayout: Sendable, Hashable {
    public var root: String

    public init(root: String) { self.root = root + "/monitoring" }

    public var incoming: String { root + "/incoming" }
    public var configs: String { root + "/configs" }
    public var current: String { root + "/current" }
    public var previous: String { root + "/previous" }
    public var data: String { root + "/data" }
    public var logs: String { root + "/logs" }
    public var run: String { root + "/run" }
    public func pidFile(_ service: MonitoringService) -> String { run + "/\(service.rawValue).pid" }
    public func log(_ service: MonitoringService) -> String { logs + "/\(service.rawValue).log" }

    /// Paths inside a configuration folder, as `render monitoring` lays them out.
    public static let prometheusConfig = "prometheus/prometheus.yml"
    public static let alertmanagerConfig = "alertmanager/alertmanager.yml"
    public static let spec = "emmy.yaml"
}

/// The long-running parts of the stack a host runs.
public enum MonitoringService: String, Sendable, CaseIterable {
    case prometheus, alertmanager
    case nodeExporter = "node-exporter"
    case postgresExporter = "postgres-exporter"

    /// Executable names, Debian's first; the Debian package that provides them.
    var executables: [String] {
        switch self {
        case .prometheus: ["prometheus"]
        case .alertmanager: ["prometheus-alertmanager", "alertmanager"]
        case .nodeExporter: ["prometheus-node-exporter", "node_exporter"]
        case .postgresExporter: ["prometheus-postgres-exporter", "postgres_exporter"]
        }
    }

    var package: String {
        switch self {
        case .prometheus: "prometheus"
        case .alertmanager: "prometheus-alertmanager"
        case .nodeExporter: "prometheus-node-exporter"
        case .postgresExporter: "prometheus-postgres-exporter"
        }
    }
}
