extension SpecSchema {
    static let github = SchemaField("github", .object([
        SchemaField("spec", .string, "Path of the spec in the repository (default emmy.yaml)."),
        SchemaField("render_dir", .string, "Folder `emmyops render all --check` compares (default .)."),
        SchemaField("test_command", .string, "Command the CI workflow runs as its test step."),
        SchemaField("environment", .string, "GitHub environment deploys run in, for protection rules (default production)."),
        SchemaField("backup_cron", .string, "Cron schedule of the backup workflow (default `17 3 * * *`)."),
        SchemaField("swift_image", .string, "Container image the workflow jobs build in (default swift:6.3-noble); append @sha256:… to pin it."),
    ]), "GitHub Actions workflows rendered from the spec.")
}
