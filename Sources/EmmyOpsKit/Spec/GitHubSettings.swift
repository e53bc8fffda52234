/// The `github:` section: how the rendered GitHub Actions workflows drive emmyops.
public struct GitHubSettings: Sendable, Hashable {
    public var spec: String = "emmy.yaml"
    public var renderDir: String = "."
    public var testCommand: String?
    public var environment: String = "production"
    public var backupCron: String = "17 3 * * *"
    /// Container image the workflow jobs build in; pin `@sha256:…` for byte-for-byte repeatable runs.
    public var swiftImage: String = "swift:6.3-noble"
    public init() {}
}
