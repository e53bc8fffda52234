import Yams

/// Reads the rendered prometheus.yml and network.tf back and compares them with FleetTopology:
/// every target of the hosts' jobs is a place a host answers (its metrics listener,
/// node-exporter or Alertmanager on its fleet address), every part of the fleet is scraped, and
/// every scraped port is open between the hosts. A renderer that drifted from the topology
/// fails here, at the line of the rendering.
enum TopologyCrossCheck {
    static func run(_ spec: Spec, files: [String: String]) -> [Diagnostic] {
        let fleet = FleetTopology(spec: spec)
        guard !fleet.monitoringHosts.isEmpty, let prometheus = files[OutputPath.prometheusConfig] else { return [] }
        var out: [Diagnostic] = []
        func report(_ path: String, _ needle: String, _ message: String, hint: String? = nil) {
            let (line, column) = CrossChecks.locate(needle, in: files[path] ?? "")
            out.append(Diagnostic(.error, at: SourceLocation(file: path, line: line, column: column), path: "", message, hint: hint))
        }
        let scraped = targets(prometheus)
        let jobs: [(job: String, endpoints: [FleetTopology.Endpoint])] = [
            (spec.appJob, fleet.appMetrics), (AlertCatalogue.nodeJob, fleet.nodeExporters),
            (PrometheusRenderer.alertmanagerJob, fleet.alertmanagers), (PostgresExporter.job, fleet.postgresExporters),
        ]
        for (job, endpoints) in jobs where !endpoints.isEmpty {
            let expected = Set(endpoints.map(\.target))
            let found = scraped[job] ?? []
            for target in found where !expected.contains(target) {
                report(OutputPath.prometheusConfig, target, "job `\(job)` scrapes \(target), where no host of the fleet answers",
                       hint: "the hosts answer at \(expected.sorted().joined(separator: ", "))")
            }
            for endpoint in endpoints where !found.contains(endpoint.target) {
                report(OutputPath.prometheusConfig, "job_name: \(job)", "job `\(job)` never scrapes \(endpoint.host.name) at \(endpoint.target)")
            }
        }
        if let network = files[OutputPath.terraform("network.tf")], !network.isEmpty {
            let open = intraFleetPorts(network)
            for (job, endpoints) in jobs {
                for port in Set(endpoints.map(\.port)) where !open.contains(port) {
                    report(OutputPath.terraform("network.tf"), "resource \"aws_security_group\" \"host\"",
                           "job `\(job)` scrapes port \(port) on other hosts, which the security group does not open between them")
                }
            }
        }
        return out
    }

    /// Job name → targets of `static_configs`, read from the rendered YAML.
    static func targets(_ yaml: String) -> [String: [String]] {
        guard let root = try? Yams.compose(yaml: yaml) else { return [:] }
        var jobs: [String: [String]] = [:]
        for config in NodeReader.items(NodeReader.value(root, "scrape_configs")) {
            guard let job = NodeReader.string(NodeReader.value(config, "job_name")) else { continue }
            jobs[job, default: []] += NodeReader.items(NodeReader.value(config, "static_configs")).flatMap {
                NodeReader.items(NodeReader.value($0, "targets")).compactMap(NodeReader.string)
            }
        }
        return jobs
    }

    /// Ports of the rules that admit the group's own members, in both directions.
    static func intraFleetPorts(_ hcl: String) -> Set<Int> {
        var ingress: Set<Int> = [], egress: Set<Int> = []
        for block in hcl.matches(of: /(?s)\n  (ingress|egress) \{(.*?)\n  \}/) where block.2.contains(/self\s+= true/) {
            guard let port = block.2.firstMatch(of: /from_port\s+= (\d+)/).flatMap({ Int($0.1) }) else { continue }
            if block.1 == "ingress" { ingress.insert(port) } else { egress.insert(port) }
        }
        return ingress.intersection(egress)
    }
}
