/// Where every monitored part of the fleet answers and who may connect to it, derived once from
/// the spec. prometheus.yml's targets, each host's nginx metrics listener and node-exporter
/// listen address, and the security group's rules between hosts all read these values, so they
/// cannot disagree; `TopologyValidation` says when the spec makes an endpoint unreachable.
///
/// The app itself serves on 127.0.0.1 slot ports that change at every deploy; monitoring never
/// scrapes them. It scrapes a fixed listener on the host's fleet address (nginx, forwarding to
/// whichever slot serves), so a slot switch never moves a scrape target.
public struct FleetTopology: Sendable {
    public enum Service: String, Sendable, Hashable {
        case appMetrics = "app metrics"
        case nodeExporter = "node-exporter"
        case alertmanager
        case postgresExporter = "postgres_exporter"
    }

    /// Something a monitoring host connects to: `service` on `host`, at `address:port`.
    public struct Endpoint: Sendable, Hashable {
        public var service: Service
        public var host: Host
        public var address: String
        public var port: Int
        /// `address:port`, an IPv6 address in brackets: what Prometheus scrapes and the
        /// exporters listen on.
        public var target: String { HostPort.join(address, port) }
    }

    /// A port the firewall opens between the fleet's hosts, and why.
    public struct IntraFleetPort: Sendable, Hashable {
        public var port: Int
        public var purpose: String
    }

    public let monitoringHosts: [Host]
    public let appHosts: [Host]
    /// One per app host: nginx on the host's fleet address, forwarding to the serving slot.
    public let appMetrics: [Endpoint]
    /// One per host of the fleet when node-exporter is enabled: every app host runs one too.
    public let nodeExporters: [Endpoint]
    /// One per monitoring host: where Prometheus sends alerts.
    public let alertmanagers: [Endpoint]
    /// One per monitoring host when the app uses PostgreSQL: postgres_exporter runs beside
    /// Prometheus and connects to the database itself (RDS has no host of its own to run it on).
    public let postgresExporters: [Endpoint]

    public init(spec: Spec) {
        let m = spec.monitoring
        monitoringHosts = spec.hosts.filter { $0.roles.contains(.monitoring) }
        appHosts = spec.hosts.filter { $0.roles.contains(.app) }
        appMetrics = appHosts.map { Endpoint(service: .appMetrics, host: $0, address: Self.fleetAddress($0), port: m.appMetrics.port) }
        let monitored = spec.hosts.filter { !$0.roles.isEmpty }
        nodeExporters = m.nodeExporter.enabled
            ? monitored.map { Endpoint(service: .nodeExporter, host: $0, address: Self.fleetAddress($0), port: m.nodeExporter.port) }
            : []
        alertmanagers = monitoringHosts.map { Endpoint(service: .alertmanager, host: $0, address: Self.fleetAddress($0), port: m.alertmanager.port) }
        postgresExporters = PostgresExporter.enabled(spec)
            ? monitoringHosts.map { Endpoint(service: .postgresExporter, host: $0, address: Self.fleetAddress($0), port: PostgresExporter.port) }
            : []
    }

    /// The address the other hosts reach `host` at: its private address when it has one.
    public static func fleetAddress(_ host: Host) -> String { host.privateAddress ?? host.address }

    /// Every endpoint a monitoring host connects to.
    public var endpoints: [Endpoint] { appMetrics + nodeExporters + alertmanagers + postgresExporters }

    /// The addresses monitoring hosts connect from: the only ones the metrics listeners admit.
    public var scraperAddresses: [String] { monitoringHosts.map(Self.fleetAddress) }

    /// The app metrics listener of `hostName`, when some monitoring host scrapes it.
    public func metricsListener(on hostName: String) -> Endpoint? {
        monitoringHosts.isEmpty ? nil : appMetrics.first { $0.host.name == hostName }
    }

    /// node-exporter's listen address on `hostName`, when it runs there.
    public func nodeExporter(on hostName: String) -> Endpoint? {
        nodeExporters.first { $0.host.name == hostName }
    }

    /// Exactly the ports monitoring needs between hosts: scrapes and alert delivery. Nothing
    /// when no host monitors.
    public var intraFleetPorts: [IntraFleetPort] {
        guard !monitoringHosts.isEmpty else { return [] }
        var ports: [IntraFleetPort] = []
        func add(_ endpoints: [Endpoint], _ purpose: String) {
            guard let port = endpoints.first?.port, !ports.contains(where: { $0.port == port }) else { return }
            ports.append(IntraFleetPort(port: port, purpose: purpose))
        }
        add(appMetrics, "Prometheus scrapes the app metrics listener (monitoring.app_metrics.port)")
        add(nodeExporters, "Prometheus scrapes node-exporter (monitoring.node_exporter.port)")
        add(alertmanagers, "Prometheus sends alerts to Alertmanager (monitoring.alertmanager.port)")
        add(postgresExporters, "Prometheus scrapes postgres_exporter (app.database is PostgreSQL)")
        return ports
    }
}
