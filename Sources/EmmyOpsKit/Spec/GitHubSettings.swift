/// The `github:` section: how the rendered GitHub Actions workflows drive emmyops.
public struct GitHubSettings: Sendable, Hashable {
    public var spec: String = "emmy.yaml"
    public var renderDir: String = "."
    public var testCommand: String?
    public var environment: String = "production"
    public var backupCron: String = "17 3 * * *"
    public init() {}
}
