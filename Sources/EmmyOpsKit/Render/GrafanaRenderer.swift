import EmmyApp

/// Renders Grafana provisioning and the two dashboards.
///
/// Dashboards follow the Grafana dashboard-linter rules: every panel reads the `datasource`
/// variable, every selector is scoped by the `job` and `instance` variables, and every counter
/// is read through `rate(...[$__rate_interval])`. Metric names come only from `MetricCatalogue`
/// and the SLO recording rules, which `emmyops validate` cross-checks via `panelQueries`.
public enum GrafanaRenderer {
    public static let datasourceUID = "emmy-prometheus"
    /// Where the provider reads dashboards from on the Grafana host.
    static let dashboardsPath = "/var/lib/grafana/dashboards"

    /// `catalogue`: the spec's alerts when the caller built them already (render all, validate).
    public static func render(_ spec: Spec, catalogue: AlertCatalogue? = nil) -> [RenderedFile] {
        [
            RenderedFile(path: OutputPath.grafanaDatasource,
                         contents: datasources(spec, prometheusURL: "http://127.0.0.1:\(spec.monitoring.prometheus.port)")),
            RenderedFile(path: OutputPath.grafanaDashboardProvider, contents: dashboardProvider()),
        ] + dashboards(spec, catalogue ?? AlertCatalogue(spec: spec)).map {
            RenderedFile(path: OutputPath.grafanaDashboard($0.uid), contents: $0.json())
        }
    }

    public static func datasources(_ spec: Spec, prometheusURL: String) -> String {
        let doc: YAMLValue = .object(
            ("apiVersion", .int(1)),
            ("datasources", [.object(
                ("name", "Prometheus"), ("uid", .string(datasourceUID)), ("type", "prometheus"), ("access", "proxy"),
                ("url", .string(prometheusURL)), ("isDefault", .bool(true)), ("editable", .bool(false))
            )])
        )
        return doc.document(header: GeneratedHeader.lines)
    }

    /// Every PromQL query a dashboard panel runs, for cross-checks.
    public static func panelQueries(_ spec: Spec, catalogue: AlertCatalogue? = nil) -> [(dashboard: String, panel: String, expr: String)] {
        dashboards(spec, catalogue ?? AlertCatalogue(spec: spec)).flatMap { dashboard in
            dashboard.panels.flatMap { panel in
                panel.targets.map { (dashboard: dashboard.uid, panel: panel.title, expr: $0.expr) }
            }
        }
    }

    static func dashboardProvider() -> String {
        let doc: YAMLValue = .object(
            ("apiVersion", .int(1)),
            ("providers", [.object(
                ("name", "emmyops"), ("folder", "emmyops"), ("type", "file"),
                // The spec is the source of truth: no deleting or saving from the UI.
                ("disableDeletion", .bool(true)), ("allowUiUpdates", .bool(false)),
                ("options", .object(("path", .string(dashboardsPath)), ("foldersFromFilesStructure", .bool(false))))
            )])
        )
        return doc.document(header: GeneratedHeader.lines)
    }

    static func dashboards(_ spec: Spec, _ catalogue: AlertCatalogue) -> [Dashboard] {
        // Without node-exporter there are no host series to show.
        spec.monitoring.nodeExporter.enabled ? [appDashboard(spec, catalogue), hostDashboard(spec)] : [appDashboard(spec, catalogue)]
    }

    // MARK: - Dashboards

    static func appDashboard(_ spec: Spec, _ catalogue: AlertCatalogue) -> Dashboard {
        let requests = MetricCatalogue.httpRequests.name
        let duration = MetricCatalogue.httpRequestDuration.name + "_bucket"
        // Prometheus' own scrapes would swamp the request panels.
        let notScrape = "route!=\"\(spec.app.metricsPath)\""
        var panels: [PanelSpec] = [
            PanelSpec("Request rate", "HTTP requests answered per second, by route template (scrapes excluded).", unit: "reqps", [
                Target("A", "sum by (route) (\(rate(requests, notScrape)))", legend: "{{route}}"),
            ]),
            PanelSpec("Error ratio", "Share of HTTP requests answered with a 5xx status.", unit: "percentunit", min: 0, max: 1, [
                Target("A", "sum(\(rate(requests, notScrape, "status=~\"5..\""))) / sum(\(rate(requests, notScrape)))", legend: "5xx share"),
            ]),
            PanelSpec("Request latency", "50th, 95th and 99th percentile of time to the response head, across all routes.", unit: "s",
                      [("0.5", "p50"), ("0.95", "p95"), ("0.99", "p99")].enumerated().map { index, quantile in
                          Target(refID(index), "histogram_quantile(\(quantile.0), sum by (le) (\(rate(duration, notScrape))))",
                                 legend: quantile.1)
                      }),
            PanelSpec("Messages by status", "Messages entering each status per second.", unit: "cps", [
                Target("A", "sum by (status) (\(rate(MetricCatalogue.messages.name)))", legend: "{{status}}"),
            ]),
            PanelSpec("Queue depth", "Messages waiting in the send queue (queued or sending).", unit: "short", min: 0, [
                Target("A", "sum by (instance) (\(selector(MetricCatalogue.queueDepth.name)))", legend: "{{instance}}"),
            ]),
            PanelSpec("Oldest queued message age", "Age of the oldest message still waiting to be sent; 0 when the queue is empty.",
                      unit: "s", min: 0, [
                Target("A", "max by (instance) (\(selector(MetricCatalogue.queueOldestAge.name)))", legend: "{{instance}}"),
            ]),
            PanelSpec("Provider request latency (p95)", "95th percentile duration of requests to the SMS provider's API, by provider.",
                      unit: "s", [
                Target("A", "histogram_quantile(0.95, sum by (provider, le) (\(rate(MetricCatalogue.providerRequestDuration.name + "_bucket"))))",
                       legend: "{{provider}}"),
            ]),
            PanelSpec("Rate-limited requests", "Requests refused with 429 by a rate limit per second, by route template.", unit: "reqps", [
                Target("A", "sum by (route) (\(rate(MetricCatalogue.httpRateLimited.name)))", legend: "{{route}}"),
            ]),
            PanelSpec("Database up", "Whether each instance's last database probe succeeded.", type: "stat", unit: "bool_yes_no", [
                Target("A", "min by (instance) (\(selector(MetricCatalogue.databaseUp.name)))", legend: "{{instance}}"),
            ]),
        ]
        if spec.backup.target != nil {
            panels.append(PanelSpec("Age of the newest verified backup",
                                    "Time since each instance's newest backup passed `emmyops backup verify`; the backup_stale alert warns above its threshold.",
                                    unit: "s", min: 0, [
                Target("A", "time() - max by (instance) (\(selector(MetricCatalogue.backupLastVerified.name)))", legend: "{{instance}}"),
            ]))
        }
        // Burn over the paging tiers' long windows (1h, 6h), so the panel shows what the pages see.
        let paging = BurnTier.all.filter { $0.severity == .critical }
        let thresholds = paging.map { "\(Ratio.format($0.factor)) over \($0.long)" }.joined(separator: " or ")
        for objective in catalogue.objectives where objective.budget > 0 {
            let budget = Ratio.format(objective.budget)
            panels.append(PanelSpec(
                "SLO burn rate: \(objective.slo)",
                "How fast the error budget of \"\(objective.title)\" is spent: 1 uses it up exactly by the end of the SLO window; "
                    + "alerts page above \(thresholds) (while the short window agrees).",
                unit: "short", min: 0,
                paging.enumerated().map { index, tier in
                    // Recording rules aggregate by job only, so they carry no instance label to match.
                    Target(refID(index), "\(catalogue.recordName(objective.slo, tier.long)){job=~\"$job\"} / \(budget)",
                           legend: "\(tier.long) window")
                }))
        }
        return Dashboard(uid: "emmy-app", title: "\(spec.project) / EmmyApp",
                         description: "EmmyApp traffic, message pipeline, provider and SLO burn; generated by emmyops.",
                         templating: templating(defaultJob: spec.appJob), panels: layout(panels))
    }

    static func hostDashboard(_ spec: Spec) -> Dashboard {
        let fs = "fstype!~\"tmpfs|overlay|squashfs|ramfs\""
        let panels = [
            PanelSpec("CPU usage", "Share of CPU time not idle, averaged over each host's CPUs.", unit: "percentunit", min: 0, max: 1, [
                Target("A", "1 - avg by (instance) (\(rate("node_cpu_seconds_total", "mode=\"idle\"")))", legend: "{{instance}}"),
            ]),
            PanelSpec("Memory usage", "Share of memory not available to new allocations, per host.", unit: "percentunit", min: 0, max: 1, [
                Target("A", "1 - (\(selector("node_memory_MemAvailable_bytes")) / \(selector("node_memory_MemTotal_bytes")))",
                       legend: "{{instance}}"),
            ]),
            PanelSpec("Disk usage", "Share of each filesystem that is used, per mountpoint (pseudo filesystems excluded).",
                      unit: "percentunit", min: 0, max: 1, [
                Target("A", "1 - (\(selector("node_filesystem_avail_bytes", fs)) / \(selector("node_filesystem_size_bytes", fs)))",
                       legend: "{{instance}} {{mountpoint}}"),
            ]),
        ]
        return Dashboard(uid: "emmy-host", title: "\(spec.project) / Hosts",
                         description: "CPU, memory and disk of the hosts node-exporter runs on; generated by emmyops.",
                         templating: templating(defaultJob: AlertCatalogue.nodeJob), panels: layout(panels))
    }

    // MARK: - Building blocks

    /// What a panel shows; `layout` gives it an id and a place.
    struct PanelSpec {
        var title: String
        var description: String
        var type: String
        var fieldConfig: FieldConfig
        var targets: [Target]

        init(_ title: String, _ description: String, type: String = "timeseries", unit: String,
             min: Double? = nil, max: Double? = nil, _ targets: [Target]) {
            self.title = title
            self.description = description
            self.type = type
            self.fieldConfig = FieldConfig(unit: unit, min: min, max: max)
            self.targets = targets
        }
    }

    /// Two half-width panels per row in declaration order, so ids and positions are stable.
    static func layout(_ specs: [PanelSpec]) -> [Panel] {
        let width = 12, height = 8
        return specs.enumerated().map { index, spec in
            Panel(id: index + 1, type: spec.type, title: spec.title, description: spec.description,
                  gridPos: GridPos(h: height, w: width, x: (index % 2) * width, y: (index / 2) * height),
                  fieldConfig: spec.fieldConfig, options: spec.type == "timeseries" ? .sharedTooltip : nil,
                  targets: spec.targets)
        }
    }

    static func templating(defaultJob: String) -> Dashboard.Templating {
        Dashboard.Templating(list: [
            .datasource(defaultUID: datasourceUID),
            .labelValues("job", label: "Job", query: "label_values(up, job)", selected: defaultJob),
            .labelValues("instance", label: "Instance", query: "label_values(up{job=~\"$job\"}, instance)", selected: nil),
        ])
    }

    /// `metric{job=~"$job",instance=~"$instance",...}`: every panel selector is scoped by the variables.
    static func selector(_ metric: String, _ matchers: String...) -> String { scoped(metric, matchers) }

    /// Per-second rate over Grafana's scrape-aware interval.
    static func rate(_ metric: String, _ matchers: String...) -> String { "rate(\(scoped(metric, matchers))[$__rate_interval])" }

    private static func scoped(_ metric: String, _ matchers: [String]) -> String {
        "\(metric){\((["job=~\"$job\"", "instance=~\"$instance\""] + matchers).joined(separator: ","))}"
    }

    static func refID(_ index: Int) -> String {
        String(UnicodeScalar(UInt8(ascii: "A") + UInt8(index)))
    }
}
