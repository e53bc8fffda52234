/// What `emmyops render` can produce.
public enum RenderTarget: String, Sendable, CaseIterable {
    case all, monitoring, compose, terraform, github

    /// Folders this target's renderings live in; stale files there are removed.
    public var ownedFolders: [String] {
        self == .all ? RenderTarget.allCases.filter { $0 != .all }.flatMap(\.ownedFolders) : ["\(rawValue)/"]
    }

    /// Renders this target; `all` is every other target, in order.
    public func render(_ spec: Spec) -> [RenderedFile] {
        switch self {
        case .all: RenderTarget.allCases.filter { $0 != .all }.flatMap { $0.render(spec) }
        case .monitoring: MonitoringRenderer.render(spec)
        case .compose: ComposeRenderer.render(spec)
        case .terraform: TerraformRenderer.render(spec)
        case .github: GitHubRenderer.render(spec)
        }
    }
}

/// Everything under `monitoring/`.
public enum MonitoringRenderer {
    public static func render(_ spec: Spec) -> [RenderedFile] {
        [RenderedFile(path: "monitoring/prometheus/prometheus.yml", contents: PrometheusRenderer.config(spec, topology: .hosts))]
            + PrometheusRenderer.ruleFiles(spec)
            + RuleTestRenderer.render(spec)
            + AlertmanagerRenderer.render(spec)
            + GrafanaRenderer.render(spec)
            + [RunbookRenderer.render(spec)]
    }
}
