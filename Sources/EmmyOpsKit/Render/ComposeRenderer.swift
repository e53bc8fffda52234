import EmmyApp

/// Renders `compose/docker-compose.yml`: the app and its monitoring stack on one machine, and
/// PostgreSQL with its exporter when `app.database` is a postgres:// URL (ComposePostgres).
///
/// Ports are published on `monitoring.bind_address` (loopback by default); secrets come from
/// files under `compose/secrets/` or the caller's environment, never from the rendering.
public enum ComposeRenderer {
    public static let services = ["app", "prometheus", "alertmanager", "grafana", "node-exporter"]

    public static func render(_ spec: Spec) -> [RenderedFile] {
        [
            RenderedFile(path: OutputPath.compose, contents: compose(spec)),
            RenderedFile(path: OutputPath.composePrometheus,
                         contents: PrometheusRenderer.config(spec, topology: .compose)),
            RenderedFile(path: OutputPath.composeGrafanaDatasource,
                         contents: GrafanaRenderer.datasources(spec, prometheusURL: "http://prometheus:\(spec.monitoring.prometheus.port)")),
        ]
    }

    /// `host:container` port mappings per service, as rendered.
    public static func publishedPorts(_ spec: Spec) -> [String: Int] {
        let m = spec.monitoring
        var ports = ["app": spec.app.port, "prometheus": m.prometheus.port, "alertmanager": m.alertmanager.port, "grafana": m.grafana.port]
        if m.nodeExporter.enabled { ports["node-exporter"] = m.nodeExporter.port }
        if ComposePostgres(spec) != nil { ports[ComposePostgres.exporterService] = PostgresExporter.port }
        return ports
    }

    private static func wgetCheck(_ url: String) -> YAMLValue {
        .object(("test", .strings(["CMD", "wget", "-q", "--spider", url])), ("interval", "10s"), ("timeout", "5s"), ("retries", .int(3)))
    }

    static func compose(_ spec: Spec) -> String {
        let m = spec.monitoring
        let bind = m.bindAddress
        func ports(_ port: Int) -> YAMLValue { .strings(["\(bind):\(port):\(port)"]) }
        var appEnvironment: [YAMLValue] = [.string("EMMY_PORT=\(spec.app.port)")]
        for (key, value) in spec.app.env.sorted(by: { $0.key < $1.key }) {
            switch value {
            case .literal(let text): appEnvironment.append(.string("\(key)=\(text)"))
            // A bare name passes the caller's variable through; the value never lands here.
            case .secret(let name): appEnvironment.append(.string(name == key ? key : "\(key)=${\(name)}"))
            }
        }
        for secret in spec.app.secrets.sorted() where spec.app.env[secret] == nil { appEnvironment.append(.string(secret)) }
        let postgres = ComposePostgres(spec)
        if let postgres { appEnvironment += postgres.appEnvironment }

        var prometheusCommand = ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus",
                                 "--storage.tsdb.retention.time=\(m.prometheus.retention)", "--web.listen-address=:\(m.prometheus.port)"]
        if !m.prometheus.externalURL.isEmpty { prometheusCommand.append("--web.external-url=\(m.prometheus.externalURL)") }
        var alertmanagerCommand = ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager",
                                   "--web.listen-address=:\(m.alertmanager.port)", "--cluster.listen-address="]
        if !m.alertmanager.externalURL.isEmpty { alertmanagerCommand.append("--web.external-url=\(m.alertmanager.externalURL)") }

        var grafanaEnvironment: [YAMLValue] = [
            .string("GF_SERVER_HTTP_PORT=\(m.grafana.port)"),
            .string("GF_SECURITY_ADMIN_USER=\(m.grafana.adminUser)"),
            .string("GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/grafana_admin_password"),
            .string("GF_USERS_ALLOW_SIGN_UP=false"),
            .string("GF_AUTH_ANONYMOUS_ENABLED=false"),
        ]
        if !m.grafana.externalURL.isEmpty { grafanaEnvironment.append(.string("GF_SERVER_ROOT_URL=\(m.grafana.externalURL)")) }
        let grafanaSecret: String
        switch m.grafana.adminPassword {
        case .secret(let name): grafanaSecret = name
        case .literal: grafanaSecret = "GRAFANA_ADMIN_PASSWORD"
        }

        var services: [YAMLValue.Pair] = [
            .init("app", .object(
                ("image", .string(spec.app.image)),
                ("command", .strings(["serve", "--host", "0.0.0.0", "--port", "\(spec.app.port)", "--data-dir", "/data"])),
                ("environment", .list(appEnvironment)),
                ("ports", ports(spec.app.port)),
                ("volumes", .strings(["app-data:/data"])),
                ("secrets", postgres.map { _ in .strings([ComposePostgres.secret]) }),
                ("healthcheck", .object(
                    ("test", .strings(["CMD", "emmyops", "probe", "http://127.0.0.1:\(spec.app.port)\(spec.app.healthPath)"])),
                    ("interval", "10s"), ("timeout", "5s"), ("retries", .int(3)))),
                ("depends_on", postgres?.appDependency),
                ("restart", "unless-stopped")
            )),
            .init("prometheus", .object(
                ("image", .string(m.prometheus.image)),
                ("command", .strings(prometheusCommand)),
                ("ports", ports(m.prometheus.port)),
                ("volumes", .strings(["./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro",
                                      "../monitoring/prometheus/rules:/etc/prometheus/rules:ro", "prometheus-data:/prometheus"])),
                ("healthcheck", wgetCheck("http://127.0.0.1:\(m.prometheus.port)/-/ready")),
                ("restart", "unless-stopped")
            )),
            .init("alertmanager", .object(
                ("image", .string(m.alertmanager.image)),
                ("command", .strings(alertmanagerCommand)),
                ("ports", ports(m.alertmanager.port)),
                ("volumes", .strings(["../monitoring/alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro",
                                      "./secrets:\(m.alertmanager.secretsDir):ro", "alertmanager-data:/alertmanager"])),
                ("healthcheck", wgetCheck("http://127.0.0.1:\(m.alertmanager.port)/-/ready")),
                ("restart", "unless-stopped")
            )),
            .init("grafana", .object(
                ("image", .string(m.grafana.image)),
                ("environment", .list(grafanaEnvironment)),
                ("secrets", .strings(["grafana_admin_password"])),
                ("ports", ports(m.grafana.port)),
                ("volumes", .strings(["./grafana/datasources:/etc/grafana/provisioning/datasources:ro",
                                      "../monitoring/grafana/provisioning/dashboards:/etc/grafana/provisioning/dashboards:ro",
                                      "../monitoring/grafana/dashboards:/var/lib/grafana/dashboards:ro", "grafana-data:/var/lib/grafana"])),
                ("healthcheck", wgetCheck("http://127.0.0.1:\(m.grafana.port)/api/health")),
                ("depends_on", .strings(["prometheus"])),
                ("restart", "unless-stopped")
            )),
        ]
        if m.nodeExporter.enabled {
            services.append(.init("node-exporter", .object(
                ("image", .string(m.nodeExporter.image)),
                ("command", .strings(["--path.rootfs=/host", "--web.listen-address=:\(m.nodeExporter.port)"])),
                ("pid", "host"),
                ("ports", ports(m.nodeExporter.port)),
                ("volumes", .strings(["/:/host:ro,rslave"])),
                ("healthcheck", wgetCheck("http://127.0.0.1:\(m.nodeExporter.port)/metrics")),
                ("restart", "unless-stopped")
            )))
        }
        var volumes: [YAMLValue.Pair] = ["app-data", "prometheus-data", "alertmanager-data", "grafana-data"].map { .init($0, .map([])) }
        var secrets: [YAMLValue.Pair] = [.init("grafana_admin_password", .object(("file", .string("./secrets/\(grafanaSecret)"))))]
        if let postgres {
            services += postgres.services()
            volumes.append(.init(ComposePostgres.volume, .map([])))
            secrets.append(.init(ComposePostgres.secret, .object(("file", .string("./secrets/\(ComposePostgres.secretFile)")))))
        }
        let doc: YAMLValue = .object(
            ("version", "3.8"),
            ("services", .map(services)),
            ("volumes", .map(volumes)),
            ("secrets", .map(secrets))
        )
        return doc.document(header: GeneratedHeader.lines + ["secrets: put one file per secret in ./secrets/ (e.g. ./secrets/\(grafanaSecret))"])
    }
}
