import Yams

// The `github:` section, whole: the model, its schema (defaults read off the model) and how it
// is read from the YAML tree. A new key is added here and nowhere else.

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

// MARK: - Schema

extension SpecSchema {
    static let github = SchemaField("github", .object([
        SchemaField("spec", .string, "Path of the spec in the repository (default \(GitHubSettings().spec))."),
        SchemaField("render_dir", .string, "Folder `emmyops render all --check` compares (default \(GitHubSettings().renderDir))."),
        SchemaField("test_command", .string, "Command the CI workflow runs as its test step."),
        SchemaField("environment", .string, "GitHub environment deploys run in, for protection rules (default \(GitHubSettings().environment))."),
        SchemaField("backup_cron", .string, "Cron schedule of the backup workflow (default `\(GitHubSettings().backupCron)`)."),
        SchemaField("swift_image", .string, "Container image the workflow jobs build in (default \(GitHubSettings().swiftImage)); append @sha256:… to pin it."),
    ]), "GitHub Actions workflows rendered from the spec.")
}

// MARK: - Reading

extension SpecBuilder {
    func github(_ node: CheckedNode?) -> GitHubSettings {
        var github = GitHubSettings()
        set(&github.spec, R.string(R.value(node, "spec")))
        set(&github.renderDir, R.string(R.value(node, "render_dir")))
        github.testCommand = R.string(R.value(node, "test_command"))
        set(&github.environment, R.string(R.value(node, "environment")))
        set(&github.backupCron, R.string(R.value(node, "backup_cron")))
        set(&github.swiftImage, R.string(R.value(node, "swift_image")))
        return github
    }
}
