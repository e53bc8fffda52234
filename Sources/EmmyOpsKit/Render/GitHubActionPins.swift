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

    /// A job with read-only access to the repository and a time limit; in the Swift container
    /// when it builds Swift (`swift`), else on the runner itself.
    static func job(_ name: String, spec: Spec, timeoutMinutes: Int, environment: String? = nil, swift: Bool = true,
                    steps: [YAMLValue]) -> YAMLValue {
        .object(
            ("name", .string(name)),
            ("runs-on", "ubuntu-24.04"),
            ("timeout-minutes", .int(timeoutMinutes)),
            ("permissions", .object(("contents", "read"))),
            ("environment", environment.map(YAMLValue.string)),
            ("container", swift ? .object(("image", .string(spec.github.swiftImage))) : nil),
            ("steps", .list(steps))
        )
    }

    /// Where the SSH material lives while a job runs.
    static let sshDir = "$RUNNER_TEMP/emmyops-ssh"

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

    /// Where `installRelease` puts the binary.
    static let releaseBinary = "\"$RUNNER_TEMP/emmyops/emmyops\""

    /// Downloads the spec's release (`release.url`, else the published `emmyops-linux-x86_64`
    /// of `release.version`) over HTTPS only and checks it before it runs: against
    /// `release.sha256` when the spec pins it, else against the `.sha256` file published beside
    /// it, as action.yml does. The values reach the script through `env:`.
    static func installRelease(_ release: Release) -> YAMLValue {
        let url = release.url ?? "https://github.com/emmyops/emmyops/releases/download/v\(release.version)/emmyops-linux-x86_64"
        return run("Install emmyops \(release.version)", """
            set -euo pipefail
            dir="$RUNNER_TEMP/emmyops"
            mkdir -p "$dir"
            fetch() {
              curl --fail --silent --show-error --location --proto '=https' --proto-redir '=https' --tlsv1.2 \\
                --retry 3 --max-time 300 --output "$2" "$1"
            }
            fetch "$EMMY_RELEASE_URL" "$dir/emmyops"
            sha256="$EMMY_RELEASE_SHA256"
            if [ -z "$sha256" ]; then
              fetch "$EMMY_RELEASE_URL.sha256" "$dir/emmyops.sha256"
              sha256=$(cut -d ' ' -f 1 "$dir/emmyops.sha256")
            fi
            printf '%s  %s\\n' "$sha256" "$dir/emmyops" | sha256sum --check --strict
            chmod 755 "$dir/emmyops"
            "$dir/emmyops" --version
            """, env: [("EMMY_RELEASE_URL", url), ("EMMY_RELEASE_SHA256", release.sha256 ?? "")])
    }
}
