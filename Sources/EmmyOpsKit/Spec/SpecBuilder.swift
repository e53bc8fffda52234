import EmmyApp
import Yams

/// Builds the model from a YAML tree the `SchemaChecker` has seen. Lenient by design: a value
/// the checker already reported keeps its default, so later checks still run on the rest.
struct SpecBuilder {
    let file: String

    typealias R = NodeReader

    func build(_ root: Node) -> Spec {
        var spec = Spec()
        if let version = R.int(R.value(root, "version")) { spec.version = version }
        if let project = R.string(R.value(root, "project")) { spec.project = project }
        spec.app = app(R.value(root, "app"))
        spec.hosts = hosts(R.value(root, "hosts"))
        spec.monitoring = monitoring(R.value(root, "monitoring"))
        spec.alerts = alerts(R.value(root, "alerts"))
        spec.slo = slo(R.value(root, "slo"))
        spec.notify = notify(R.value(root, "notify"))
        spec.incident = Incident(webhook: R.string(R.value(R.value(root, "incident"), "webhook")))
        let release = R.value(root, "release")
        set(&spec.release.version, R.string(R.value(release, "version")))
        spec.release.url = R.string(R.value(release, "url"))
        spec.release.sha256 = R.string(R.value(release, "sha256"))
        spec.backup = backup(R.value(root, "backup"))
        if let node = R.value(root, "infrastructure"), !R.isNull(node) { spec.infrastructure = infrastructure(node) }
        spec.github = github(R.value(root, "github"))
        spec.supervise = supervise(R.value(root, "supervise"))
        spec.ssh = ssh(R.value(root, "ssh"))
        spec.deploy = deploy(R.value(root, "deploy"))
        return spec
    }

    func set<T>(_ target: inout T, _ value: T?) {
        if let value { target = value }
    }

    func duration(_ node: Node?) -> PromDuration? { R.string(node).flatMap(PromDuration.init(parsing:)) }
    func percent(_ node: Node?) -> Ratio? { R.string(node).flatMap(Ratio.init(percent:)) }
    func port(_ node: Node?) -> Int? { R.int(node).flatMap { (1...65535).contains($0) ? $0 : nil } }
    func strings(_ node: Node?) -> [String]? {
        guard let node, case .sequence = node else { return nil }
        return R.items(node).compactMap(R.string)
    }
}
