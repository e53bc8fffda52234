/// Renders `prometheus.yml` and the rule files.
public enum PrometheusRenderer {
    /// Where Prometheus finds its scrape targets.
    public enum Topology: Sendable {
        /// Prometheus on a monitoring host scrapes every spec host by address.
        case hosts
        /// Prometheus in the compose stack scrapes the other services by service name.
        case compose
    }

    public static let selfJob = "prometheus"
    public static let alertmanagerJob = "alertmanager"
    public static let incidentJob = "emmyops-incident"

    /// Job name → targets, in rendering order.
    public static func scrapeJobs(_ spec: Spec, topology: Topology) -> [(job: String, targets: [String], metricsPath: String)] {
        let m = spec.monitoring
        switch topology {
        case .hosts:
            // Where each part answers comes from FleetTopology, like the hosts' listeners and
            // the firewall; with no host of a role, this machine stands in for it.
            let fleet = FleetTopology(spec: spec)
            func targets(_ endpoints: [FleetTopology.Endpoint], port: Int) -> [String] {
                endpoints.isEmpty ? ["127.0.0.1:\(port)"] : endpoints.map(\.target)
            }
            var jobs = [
                (selfJob, ["127.0.0.1:\(m.prometheus.port)"], "/metrics"),
                (alertmanagerJob, targets(fleet.alertmanagers, port: m.alertmanager.port), "/metrics"),
                (spec.appJob, targets(fleet.appMetrics, port: spec.app.port), spec.app.metricsPath),
            ]
            if m.nodeExporter.enabled {
                jobs.append((AlertCatalogue.nodeJob, targets(fleet.nodeExporters, port: m.nodeExporter.port), "/metrics"))
            }
            if PostgresExporter.enabled(spec) {
                jobs.append((PostgresExporter.job, targets(fleet.postgresExporters, port: PostgresExporter.port), "/metrics"))
            }
            if let incident = incidentTarget(spec) { jobs.append((incidentJob, [incident], "/metrics")) }
            return jobs
        case .compose:
            var jobs = [
                (selfJob, ["localhost:\(m.prometheus.port)"], "/metrics"),
                (alertmanagerJob, ["alertmanager:\(m.alertmanager.port)"], "/metrics"),
                (spec.appJob, ["app:\(spec.app.port)"], spec.app.metricsPath),
            ]
            if m.nodeExporter.enabled { jobs.append((AlertCatalogue.nodeJob, ["node-exporter:\(m.nodeExporter.port)"], "/metrics")) }
            if PostgresExporter.enabled(spec) {
                jobs.append((PostgresExporter.job, ["\(ComposePostgres.exporterService):\(PostgresExporter.port)"], "/metrics"))
            }
            if let incident = incidentTarget(spec) { jobs.append((incidentJob, [incident], "/metrics")) }
            return jobs
        }
    }

    /// `incident serve` runs where Alertmanager sends the incident webhook; its /metrics show
    /// what automation did. Scraped where the webhook points, like Alertmanager posts there.
    static func incidentTarget(_ spec: Spec) -> String? {
        guard spec.incident.webhook != nil else { return nil }
        let (host, port) = spec.incident.listenAddress
        return HostPort.join(["0.0.0.0", "::", ""].contains(host) ? "127.0.0.1" : host, port)
    }

    public static func config(_ spec: Spec, topology: Topology, rulesGlob: String = "rules/*.yml") -> String {
        let m = spec.monitoring
        let alertmanagers: [String]
        switch topology {
        case .hosts:
            let endpoints = FleetTopology(spec: spec).alertmanagers
            alertmanagers = endpoints.isEmpty ? ["127.0.0.1:\(m.alertmanager.port)"] : endpoints.map(\.target)
        case .compose:
            alertmanagers = ["alertmanager:\(m.alertmanager.port)"]
        }
        let jobs: [YAMLValue] = scrapeJobs(spec, topology: topology).map { job in
            .object(
                ("job_name", .string(job.job)),
                ("metrics_path", job.metricsPath == "/metrics" ? nil : .string(job.metricsPath)),
                ("static_configs", [.object(("targets", .strings(job.targets)))])
            )
        }
        let doc: YAMLValue = .object(
            ("global", .object(
                ("scrape_interval", .string("\(m.scrapeInterval)")),
                ("evaluation_interval", .string("\(m.evaluationInterval)")),
                ("external_labels", .object(("project", .string(spec.project))))
            )),
            ("rule_files", [.string(rulesGlob)]),
            ("alerting", .object(("alertmanagers", [.object(("static_configs", [.object(("targets", .strings(alertmanagers)))]))]))),
            ("scrape_configs", .list(jobs))
        )
        return doc.document(header: GeneratedHeader.lines)
    }

    /// One rules file per group: recording rules first, so alerts in the group read fresh values.
    public static func ruleFiles(_ spec: Spec, catalogue: AlertCatalogue? = nil) -> [RenderedFile] {
        let catalogue = catalogue ?? AlertCatalogue(spec: spec)
        let alerts = catalogue.alerts
        let recording = catalogue.recordingRules
        return catalogue.groups.map { group in
            var rules: [YAMLValue] = recording.filter { $0.group == group }.map { rule in
                .object(("record", .string(rule.record)), ("expr", .string(rule.expr)))
            }
            rules += alerts.filter { $0.group == group }.map { alertRule($0, spec: spec) }
            let doc: YAMLValue = .object(("groups", [.object(("name", .string(group)), ("rules", .list(rules)))]))
            return RenderedFile(path: OutputPath.rules(group), contents: doc.document(header: GeneratedHeader.lines))
        }
    }

    static func labels(_ alert: AlertDefinition, spec: Spec) -> [(String, String)] {
        ([("severity", alert.severity.rawValue), ("service", spec.app.name)] + alert.extraLabels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    static func annotations(_ alert: AlertDefinition, spec: Spec) -> [(String, String)] {
        [("summary", alert.summary), ("description", alert.description), ("runbook_url", runbookURL(alert, spec: spec))]
    }

    static func runbookURL(_ alert: AlertDefinition, spec: Spec) -> String {
        "\(spec.monitoring.runbookURL)#\(alert.anchor)"
    }

    private static func alertRule(_ alert: AlertDefinition, spec: Spec) -> YAMLValue {
        .object(
            ("alert", .string(alert.name)),
            ("expr", .string(alert.expr)),
            ("for", .string("\(alert.for)")),
            ("labels", .map(labels(alert, spec: spec).map { .init($0.0, .string($0.1)) })),
            ("annotations", .map(annotations(alert, spec: spec).map { .init($0.0, .string($0.1)) }))
        )
    }
}
