import EmmyApp

/// Builds the model from the values the `SchemaChecker` accepted. A value the checker reported
/// is absent and keeps its default, so later checks still run on the rest.
struct SpecBuilder {
    let file: String

    typealias R = CheckedReader

    func build(_ root: CheckedNode?) -> Spec {
        var spec = Spec()
        if let version = R.int(R.value(root, "version")) { spec.version = version }
        if let project = R.string(R.value(root, "project")) { spec.project = project }
        spec.app = app(R.value(root, "app"))
        spec.hosts = hosts(R.value(root, "hosts"))
        spec.monitoring = monitoring(R.value(root, "monitoring"))
        spec.alerts = alerts(R.value(root, "alerts"))
        spec.slo = slo(R.value(root, "slo"))
        spec.notify = notify(R.value(root, "notify"))
        spec.incident = incident(R.value(root, "incident"))
        spec.release = release(R.value(root, "release"))
        spec.backup = backup(R.value(root, "backup"))
        if let node = R.value(root, "infrastructure") { spec.infrastructure = infrastructure(node) }
        spec.github = github(R.value(root, "github"))
        spec.supervise = supervise(R.value(root, "supervise"))
        spec.ssh = ssh(R.value(root, "ssh"))
        spec.deploy = deploy(R.value(root, "deploy"))
        return spec
    }

    func set<T>(_ target: inout T, _ value: T?) {
        if let value { target = value }
    }

    func duration(_ node: CheckedNode?) -> PromDuration? { R.string(node).flatMap(PromDuration.init(parsing:)) }
    func percent(_ node: CheckedNode?) -> Ratio? { R.string(node).flatMap(Ratio.init(percent:)) }
    func port(_ node: CheckedNode?) -> Int? { R.int(node).flatMap { (1...65535).contains($0) ? $0 : nil } }
    func strings(_ node: CheckedNode?) -> [String]? {
        R.list(node)?.compactMap(R.string)
    }
}
