/// Where each rendering lands under the output directory: the one spelling of every path, read
/// by the renderers that write them, the cross-checks that compare them and the tool checks
/// that run real checkers on them.
public enum OutputPath {
    // monitoring/: the production monitoring stack.
    public static let prometheusConfig = "monitoring/prometheus/prometheus.yml"
    public static let rulesFolder = "monitoring/prometheus/rules/"
    public static func rules(_ group: String) -> String { rulesFolder + group + ".yml" }
    public static let ruleTestsFolder = "monitoring/prometheus/tests/"
    public static func ruleTests(_ group: String) -> String { ruleTestsFolder + group + ".test.yml" }
    public static let alertmanagerConfig = "monitoring/alertmanager/alertmanager.yml"
    /// The routes amtool must confirm, one per severity.
    public static let alertmanagerRoutes = "monitoring/alertmanager/routes.expected.yml"
    public static let runbook = "monitoring/RUNBOOK.md"
    public static let grafanaDatasource = "monitoring/grafana/provisioning/datasources/prometheus.yml"
    public static let grafanaDashboardProvider = "monitoring/grafana/provisioning/dashboards/emmyops.yml"
    public static func grafanaDashboard(_ uid: String) -> String { "monitoring/grafana/dashboards/\(uid).json" }

    // compose/: the local stack.
    public static let compose = "compose/docker-compose.yml"
    public static let composePrometheus = "compose/prometheus/prometheus.yml"
    public static let composeGrafanaDatasource = "compose/grafana/datasources/prometheus.yml"
    public static let composeSecrets = "compose/secrets"

    // terraform/ and .github/.
    public static let terraformFolder = "terraform/"
    public static func terraform(_ file: String) -> String { terraformFolder + file }
    public static let cloudInit = terraform("cloud-init.yaml")
    /// Where GitHub reads workflows, so `render all --out .` in a repository is what runs.
    public static let workflowsFolder = ".github/workflows"
    /// Where earlier versions rendered them (GitHub never read it): removed as stale on the next render.
    public static let legacyWorkflowsFolder = "github/workflows"
}
