/// Renders Grafana provisioning and dashboards. (Stub: replaced by the full renderer.)
public enum GrafanaRenderer {
    public static let datasourceUID = "emmy-prometheus"

    public static func render(_ spec: Spec) -> [RenderedFile] {
        [RenderedFile(path: "monitoring/grafana/provisioning/datasources/prometheus.yml",
                      contents: datasources(spec, prometheusURL: "http://127.0.0.1:\(spec.monitoring.prometheus.port)"))]
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
    public static func panelQueries(_ spec: Spec) -> [(dashboard: String, panel: String, expr: String)] { [] }
}
