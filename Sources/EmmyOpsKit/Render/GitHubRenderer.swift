/// Renders `.github/workflows/`: the CI, deploy and backup workflows that drive emmyops.
///
/// Every job starts with no permissions but `contents: read`, runs in the Swift container with a
/// time limit, and checks out without persisting the token. Spec values reach scripts through
/// `env:` (never `${{ }}` inside a script), and every third-party action is pinned to a commit.
/// Deploy and backup run the spec's pinned, checksum-verified emmyops release on the runner
/// itself; only CI, which builds and tests the repository, needs the Swift container.
public enum GitHubRenderer {
    /// Where the workflows are rendered, relative to the output folder.
    public static let folder = OutputPath.workflowsFolder

    public static func render(_ spec: Spec) -> [RenderedFile] {
        let workflows = GitHubWorkflows(spec: spec)
        return [("ci.yml", workflows.ci), ("deploy.yml", workflows.deploy), ("backup.yml", workflows.backup)].map { name, workflow in
            RenderedFile(path: "\(folder)/\(name)", contents: workflow.document(header: GeneratedHeader.lines))
        }
    }
}

/// The three workflows as YAML values.
struct GitHubWorkflows {
    let spec: Spec
    private var github: GitHubSettings { spec.github }

    /// Pull requests and pushes to main: build, test, validate, and fail on stale renderings.
    var ci: YAMLValue {
        var steps: [YAMLValue] = [
            GitHubStep.checkout,
            GitHubStep.run("Resolve Swift packages", "swift package resolve"),
            GitHubStep.run("Build", "swift build"),
        ]
        if let test = github.testCommand { steps.append(GitHubStep.run("Test", test)) }
        steps += [
            GitHubStep.run("Validate the spec and its renderings", ".build/debug/emmyops validate --spec \"$EMMY_SPEC\" --format github"),
            GitHubStep.run("Check the committed renderings are current",
                           ".build/debug/emmyops render all --spec \"$EMMY_SPEC\" --out \"$EMMY_RENDER_DIR\" --check"),
        ]
        return workflow("CI",
                        on: .object(("pull_request", .map([])), ("push", .object(("branches", ["main"])))),
                        // A newer push to the same branch or pull request supersedes a running check.
                        concurrency: .object(("group", "ci-${{ github.ref }}"), ("cancel-in-progress", .bool(true))),
                        env: [("EMMY_SPEC", github.spec), ("EMMY_RENDER_DIR", github.renderDir)],
                        jobs: [("ci", GitHubStep.job("Build, test and validate", spec: spec, timeoutMinutes: 60, steps: steps))])
    }

    /// Pushes to main and `v*` tags: install the pinned release binary and roll it out to every host.
    var deploy: YAMLValue {
        let steps = releaseOverSSH("Deploy to every host", "deploy --all")
        return workflow("Deploy",
                        on: .object(("push", .object(("branches", ["main"]), ("tags", ["v*"])))),
                        concurrency: serialised("deploy-\(spec.project)"),
                        env: [("EMMY_SPEC", github.spec)],
                        jobs: [("deploy", GitHubStep.job("Deploy every host", spec: spec, timeoutMinutes: 30,
                                                         environment: github.environment, swift: false, steps: steps))])
    }

    /// On the spec's schedule or by hand: on every app host (each has its own database), take a
    /// backup there and prove it restores. The age identity reaches `verify` from the
    /// environment's secret and the host only on its input; the next host still goes ahead after
    /// one fails (`!cancelled()`), and the job fails.
    var backup: YAMLValue {
        let flags = "--host \"$EMMY_HOST\" --spec \"$EMMY_SPEC\" --ssh-config \"\(GitHubStep.sshDir)/config\""
        let perHost = spec.hosts.filter { $0.roles.contains(.app) }.map { host in
            GitHubStep.run("Back up \(host.name) and verify the backup", """
                \(GitHubStep.releaseBinary) backup create \(flags)
                \(GitHubStep.releaseBinary) backup verify --latest \(flags)
                """, env: [("EMMY_HOST", host.name), ("EMMY_BACKUP_IDENTITY", "${{ secrets.EMMY_BACKUP_IDENTITY }}")],
                condition: "!cancelled()")
        }
        let steps = [GitHubStep.checkout, GitHubStep.installRelease(spec.release), GitHubStep.writeSSHConfig] + perHost
            + [GitHubStep.removeSSHConfig]
        return workflow("Backup",
                        on: .object(("schedule", .list([.object(("cron", .string(github.backupCron)))])),
                                    ("workflow_dispatch", .map([]))),
                        concurrency: serialised("backup-\(spec.project)"),
                        env: [("EMMY_SPEC", github.spec)],
                        jobs: [("backup", GitHubStep.job("Back up", spec: spec, timeoutMinutes: 30,
                                                         environment: github.environment, swift: false, steps: steps))])
    }

    /// Installs the pinned release binary and runs `emmyops <command>` against the hosts with
    /// the SSH material from the environment's secrets, removing it afterwards whatever happened.
    /// The runner image has the OpenSSH client; the repository is checked out for its spec.
    private func releaseOverSSH(_ name: String, _ command: String) -> [YAMLValue] {
        [
            GitHubStep.checkout,
            GitHubStep.installRelease(spec.release),
            GitHubStep.writeSSHConfig,
            GitHubStep.run(name, "\(GitHubStep.releaseBinary) \(command) --spec \"$EMMY_SPEC\" --ssh-config \"\(GitHubStep.sshDir)/config\""),
            GitHubStep.removeSSHConfig,
        ]
    }

    /// One run at a time in `group`: a second waits for the first and never cancels it, so two
    /// deploys (or backups) of the same project never overlap.
    private func serialised(_ group: String) -> YAMLValue {
        .object(("group", .string(group)), ("cancel-in-progress", .bool(false)))
    }

    /// A workflow with no default permissions and bash (with pipefail) as the shell.
    private func workflow(_ name: String, on trigger: YAMLValue, concurrency: YAMLValue,
                          env: [(String, String)], jobs: [(String, YAMLValue)]) -> YAMLValue {
        .object(
            ("name", .string(name)),
            ("on", trigger),
            ("permissions", .map([])),
            ("concurrency", concurrency),
            ("env", .map(env.map { YAMLValue.Pair($0.0, .string($0.1)) })),
            ("defaults", .object(("run", .object(("shell", "bash"))))),
            ("jobs", .map(jobs.map { YAMLValue.Pair($0.0, $0.1) }))
        )
    }
}
