/// What `emmyops render` can produce.
public enum RenderTarget: String, Sendable, CaseIterable {
    case all, monitoring, compose, terraform, github

    /// Folders this target's renderings live in; stale files there are removed.
    public var ownedFolders: [String] {
        switch self {
        case .all: RenderTarget.allCases.filter { $0 != .all }.flatMap(\.ownedFolders)
        // Only the workflows folder: a repository's own files elsewhere under .github are not ours.
        case .github: [OutputPath.workflowsFolder + "/", OutputPath.legacyWorkflowsFolder + "/"]
        default: ["\(rawValue)/"]
        }
    }

    /// Renders this target; `all` is every other target, in order. The spec's alerts are built
    /// once (or taken from `catalogue`) for every rendering that reads them.
    public func render(_ spec: Spec, catalogue: AlertCatalogue? = nil) -> [RenderedFile] {
        switch self {
        case .all:
            let catalogue = catalogue ?? AlertCatalogue(spec: spec)
            return RenderTarget.allCases.filter { $0 != .all }.flatMap { $0.render(spec, catalogue: catalogue) }
        case .monitoring: return MonitoringRenderer.render(spec, catalogue: catalogue)
        case .compose: return ComposeRenderer.render(spec)
        case .terraform: return TerraformRenderer.render(spec)
        case .github: return GitHubRenderer.render(spec)
        }
    }
}

/// Everything under `monitoring/`.
public enum MonitoringRenderer {
    public static func render(_ spec: Spec, catalogue: AlertCatalogue? = nil) -> [RenderedFile] {
        let catalogue = catalogue ?? AlertCatalogue(spec: spec)
        return [RenderedFile(path: OutputPath.prometheusConfig, contents: PrometheusRenderer.config(spec, topology: .hosts))]
            + PrometheusRenderer.ruleFiles(spec, catalogue: catalogue)
            + RuleTestRenderer.render(spec, catalogue: catalogue)
            + AlertmanagerRenderer.render(spec)
            + GrafanaRenderer.render(spec, catalogue: catalogue)
            + [RunbookRenderer.render(spec, catalogue: catalogue)]
    }
}
