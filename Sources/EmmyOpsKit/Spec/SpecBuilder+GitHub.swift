import Yams

extension SpecBuilder {
    func github(_ node: Node?) -> GitHubSettings {
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
