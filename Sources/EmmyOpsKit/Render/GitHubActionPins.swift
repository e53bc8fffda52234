/// A third-party action pinned to the full commit of a released tag.
///
/// Tags move; commits do not. The tag rides along as a comment so a reader (and Dependabot)
/// knows which release the commit is.
struct PinnedAction: Sendable, Hashable {
    var repository: String
    var commit: String
    var tag: String

    /// `owner/name@<40 hex> # vX.Y.Z`, written as is: a YAML comment cannot be built from a string.
    var uses: YAMLValue { .raw("\(repository)@\(commit) # \(tag)") }

    /// actions/checkout v4.2.2.
    static let checkout = PinnedAction(repository: "actions/checkout", commit: "11bd71901bbe5b1630ceea73d27597364c9af683", tag: "v4.2.2")

    /// Every action a rendered workflow may use.
    static let all = [checkout]
}

/// Steps and jobs the rendered workflows share.
enum GitHubStep {
    /// A `run:` step; multi-line scripts come out in literal block style.
    static func run(_ name: String, _ script: String, env: [(String, String)] = [], condition: String? = nil) -> YAMLValue {
        .object(
            ("name", .string(name)),
            ("if", condition.map(YAMLValue.string)),
            ("env", env.isEmpty ? nil : .map(env.map { YAMLValue.Pair($0.0, .string($0.1)) })),
            ("run", .text(script.contains("\n") ? script + "\n" : script))
        )
    }

    /// actions/checkout without leaving the token in `.git/config` for later steps to find.
    static let checkout: YAMLValue = .object(
        ("name", "Check out"),
        ("uses", PinnedAction.checkout.uses),
        ("with", .object(("persist-credentials", .bool(false))))
    )

    /// A job in the Swift container with read-only access to the repository and a time limit.
    static func job(_ name: String, spec: Spec, timeoutMinutes: Int, environment: String? = nil, steps: [YAMLValue]) -> YAMLValue {
        .object(
            ("name", .string(name)),
            ("runs-on", "ubuntu-24.04"),
            ("timeout-minutes", .int(timeoutMinutes)),
            ("permissions", .object(("contents", "read"))),
            ("environment", environment.map(YAMLValue.string)),
            ("container", .object(("image", .string(spec.github.swiftImage)))),
            ("steps", .list(steps))
        )
    }

    /// Where the SSH material lives while a job runs.
    static let sshDir = "$RUNNER_TEMP/emmyops-ssh"

    /// Installs the OpenSSH client the container image lacks.
    static let installSSHClient = run("Install the SSH client", """
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends openssh-client
        """)

    /// Writes the key and known_hosts from secrets into files only this user can read, plus an
    /// ssh config that uses them and nothing else. The secrets reach the script through `env:`.
    static let writeSSHConfig = run("Write the SSH key, known hosts and config", """
        set -euo pipefail
        if [ -z "$EMMY_SSH_KEY" ] || [ -z "$EMMY_KNOWN_HOSTS" ]; then
          echo "::error::set the EMMY_SSH_KEY and EMMY_KNOWN_HOSTS secrets of this environment"
          exit 1
        fi
        umask 077
        dir="\(sshDir)"
        mkdir -p "$dir"
        printf '%s\\n' "$EMMY_SSH_KEY" > "$dir/id"
        printf '%s\\n' "$EMMY_KNOWN_HOSTS" > "$dir/known_hosts"
        {
          echo 'Host *'
          echo "  IdentityFile \\"$dir/id\\""
          echo '  IdentitiesOnly yes'
          echo "  UserKnownHostsFile \\"$dir/known_hosts\\""
          echo '  StrictHostKeyChecking yes'
          echo '  BatchMode yes'
        } > "$dir/config"
        chmod 600 "$dir/id" "$dir/known_hosts" "$dir/config"
        """, env: [("EMMY_SSH_KEY", "${{ secrets.EMMY_SSH_KEY }}"), ("EMMY_KNOWN_HOSTS", "${{ secrets.EMMY_KNOWN_HOSTS }}")])

    /// Removes the key even when an earlier step failed.
    static let removeSSHConfig = run("Remove the SSH key", "rm -rf \"\(sshDir)\"", condition: "always()")

    static let buildRelease = run("Build the release binary", "swift build -c release --static-swift-stdlib")
}
