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

    /// Native runtime, in as few round trips as the checks allow (each costs an SSH exchange,
    /// ~0.2 s on an idle host and several times that on a busy one):
    ///
    /// 1. `stage` (the spec on stdin): report where `current` points and stop if it is this
    ///    version; write the spec into `<v>.partial` and check its SHA-256 where it landed;
    ///    hard-link an installed binary with the artifact's SHA-256 (a config-only change, a
    ///    redeploy: it matched when it was installed) and go on to the cut-over. Without one it
    ///    exits 3 ("not found").
    /// 2. `upload` (only then; the binary on stdin): write it, check its SHA-256, cut over.
    ///
    /// The cut-over renames the release into place and execs its own binary (`host activate`,
    /// which also prunes old releases), so the step's output and exit status are the
    /// activation's. A mismatch or an interruption leaves at most an unused `.partial` or an
    /// installed release that is not `current`.
    public static func native(target: DeployTarget, version: String, artifact: Payload, spec: Payload,
                              who: String, keep: Int, activationTimeout: Double) -> HostPlan {
        let layout = target.layout
        let partial = layout.partial(version)
        let cutOver = activate(target: target, version: version, who: who, action: "deploy", timeout: activationTimeout, keep: keep).argv
        let steps = [
            DeployStep("stage", ["sh", "-c", stageScript, "emmyops-stage", partial, layout.release(version), artifact.sha256, spec.sha256,
                                 layout.logs, layout.run, layout.releases, layout.current, version] + cutOver,
                       stdinFile: spec.path, timeout: activationTimeout + 60, isQuery: true, reportsCurrent: true, activates: true),
            DeployStep("upload", ["sh", "-c", uploadScript, "emmyops-upload", partial, layout.release(version), artifact.sha256] + cutOver,
                       stdinFile: artifact.path, timeout: activationTimeout + 600, unlessQuery: "stage", activates: true),
        ]
        return HostPlan(target: target, version: version, steps: steps)
    }

    /// `h < FILE` prints FILE's SHA-256: through OpenSSL where the host has it (its SHA-NI code
    /// hashes ~1 GB/s, coreutils' ~0.3 GB/s: five hosts hashing a 95 MiB binary on two cores
    /// made that a second of the deploy).
    static let hashFunction = #"h() { if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r; else sha256sum; fi | cut -c1-64; }; "#

    /// Checks that `$file` (a shell word) has the SHA-256 in `$expected`, else exits 1 naming `what`.
    static func checkSHA256(_ file: String, _ expected: String, _ what: String) -> String {
        #"s=$(h < \#(file)); [ "$s" = \#(expected) ] || { echo "the \#(what) that landed has SHA-256 $s, not "\#(expected) >&2; exit 1; }; "#
    }

    /// `$1` partial, `$2` release, `$3` the binary's SHA-256 (recorded for later reuse), then after
    /// `shift n` the cut-over's argv, exec'd.
    static func installAndCutOver(shift n: Int) -> String {
        #"chmod 0755 "$1/emmyops" && printf '%s\n' "$3" > "$1/emmyops.sha256" && rm -rf -- "$2" && mv -T -- "$1" "$2" && shift \#(n) && exec "$@""#
    }

    /// `$1` partial, `$2` release, `$3` the binary's SHA-256, `$4` the spec's, `$5` logs, `$6` run,
    /// `$7` releases, `$8` current, `$9` the version, then the cut-over. A stale `.partial` binary is
    /// removed first: it may be a hard link to an installed release that an upload would write through.
    static let stageScript = #"c=$(readlink -- "$8"); printf '%s\n' "$c"; [ "${c##*/}" = "$9" ] && exit 0; "# + hashFunction
        + #"mkdir -p -- "$1" "$5" "$6" && rm -f -- "$1/emmyops" && cat > "$1/emmy.yaml" || exit 1; "#
        + checkSHA256(#""$1/emmy.yaml""#, #""$4""#, "spec")
        + #"for sum in "$7"/*/emmyops.sha256; do [ "$(cat -- "$sum" 2>/dev/null)" = "$3" ] && ln -f -- "${sum%.sha256}" "$1/emmyops" && break; done; "#
        + #"[ -e "$1/emmyops" ] || exit 3; "# + installAndCutOver(shift: 9)

    /// `$1` partial, `$2` release, `$3` the binary's SHA-256, then the cut-over; the binary on stdin.
    static let uploadScript = hashFunction + #"rm -f -- "$1/emmyops" && cat > "$1/emmyops" || exit 1; "#
        + checkSHA256(#""$1/emmyops""#, #""$3""#, "binary") + installAndCutOver(shift: 3)

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
                                       + (keep.map { ["--keep", String($0)] } ?? []), timeout: timeout, activates: true)
    }

    /// Reads where `current` points (`readlink` prints nothing when there is no release yet).
    public static func readCurrent(target: DeployTarget) -> DeployStep {
        DeployStep("current", ["readlink", "--", target.layout.current], timeout: 30)
    }
}
