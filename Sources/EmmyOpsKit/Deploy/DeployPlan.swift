/// Builds the plans deploy and rollback run; pure, so `--dry-run` and tests see the exact argv.
public enum DeployPlan {
    /// A local file to install in a release, with its SHA-256.
    public struct Payload: Sendable, Hashable {
        public var path: String
        public var sha256: String
        public init(path: String, sha256: String) {
            self.path = path
            self.sha256 = sha256
        }
    }

    /// Native runtime: upload binary and spec into `<v>.partial`, verify, rename into place,
    /// then let the release's own binary cut over (`host activate`), which also prunes old releases.
    public static func native(target: DeployTarget, version: String, artifact: Payload, spec: Payload,
                              who: String, keep: Int, activationTimeout: Double) -> HostPlan {
        let layout = target.layout
        let partial = layout.partial(version)
        let steps = [
            DeployStep("prepare", ["mkdir", "-p", "--", partial, layout.logs, layout.run]),
            // An installed release with the same binary (a config-only change, a redeploy):
            // hard-link it instead of uploading again. The verify step still checks it.
            DeployStep("reuse", ["sh", "-c", #"for sum in "$1"/*/emmyops.sha256; do [ "$(cat "$sum" 2>/dev/null)" = "$2" ] && ln -f -- "${sum%.sha256}" "$3" && exit 0; done; exit 3"#,
                                 "emmyops-reuse", layout.releases, artifact.sha256, partial + "/emmyops"], isQuery: true),
            upload(artifact.path, to: partial + "/emmyops", unlessQuery: "reuse"),
            upload(spec.path, to: partial + "/emmy.yaml"),
            // A reused binary matched the SHA-256 recorded when it was verified on install, so a
            // config-only deploy hashes the spec alone (a 150 MiB binary costs about a second a host).
            DeployStep("verify", ["sha256sum", "--", partial + "/emmyops"], expectSHA256: [artifact.sha256], unlessQuery: "reuse"),
            DeployStep("verify-spec", ["sha256sum", "--", partial + "/emmy.yaml"], expectSHA256: [spec.sha256]),
            DeployStep("install", ["sh", "-c", #"chmod 0755 "$1/emmyops" && printf '%s\n' "$3" > "$1/emmyops.sha256" && rm -rf -- "$2" && mv -T -- "$1" "$2""#,
                                   "emmyops-install", partial, layout.release(version), artifact.sha256]),
            // Prunes to `keep` releases after a good cut-over: one round trip fewer.
            activate(target: target, version: version, who: who, action: "deploy", timeout: activationTimeout, keep: keep),
        ]
        return HostPlan(target: target, version: version, steps: steps)
    }

    /// Streams a local file into a remote path; the path is the shell's `$1`, never spliced in.
    public static func upload(_ local: String, to remote: String, unlessQuery: String? = nil) -> DeployStep {
        DeployStep("upload", ["sh", "-c", #"cat > "$1""#, "emmyops-upload", remote], stdinFile: local, timeout: 600, unlessQuery: unlessQuery)
    }

    /// Starts `version` on the idle slot, gates, switches nginx and `current` (see HostActivation).
    public static func activate(target: DeployTarget, version: String, who: String, action: String, timeout: Double,
                                keep: Int? = nil) -> DeployStep {
        let layout = target.layout
        return DeployStep("activate", [layout.binary(version), "host", "activate", "--root", layout.root, "--version", version,
                                       "--host", target.host.name, "--who", who, "--action", action]
                                       + (keep.map { ["--keep", String($0)] } ?? []), timeout: timeout)
    }

    /// Reads where `current` points (`readlink` prints nothing when there is no release yet).
    public static func readCurrent(target: DeployTarget) -> DeployStep {
        DeployStep("current", ["readlink", "--", target.layout.current], timeout: 30)
    }
}
