import Foundation

/// `emmyops backup … --host H`: the same command, run on H over SSH by its installed release
/// (`<root>/current/emmyops`), as deploy runs `host activate`. The snapshot, the plaintext and
/// the host's credentials (its environment, `shared/secrets.env`, `~/.aws`, the instance
/// profile) never leave the host; only progress events and the result come back.
public enum RemoteBackup {
    /// The argv run on the host: the release's binary, told which deployment it serves and which
    /// spec host it is; `arguments` are the subcommand's own (and the forwarded flags).
    public static func command(_ target: DeployTarget, subcommand: String, arguments: [String]) -> [String] {
        [target.layout.current + "/emmyops", "backup", subcommand,
         "--deployed-root", target.layout.root, "--host-name", target.host.name, "--progress-events"] + arguments
    }
}

/// The host side of a remote backup command: what the deployment under `layout` means for it.
public struct DeployedBackup: Sendable {
    public var layout: ReleaseLayout
    /// The host's name in the spec: written into manifests, and what `--latest` selects by.
    public var hostName: String

    public init(root: String, hostName: String) {
        layout = ReleaseLayout(root: root)
        self.hostName = hostName
    }

    /// The spec of the release behind nginx, else of `current`.
    public var specPath: String {
        HostActivation.readActive(layout).map { layout.spec($0.version) } ?? layout.current + "/emmy.yaml"
    }

    /// Every release runs with `--data-dir <root>/shared` (ReleaseProcess).
    public var dataDirectory: String { layout.shared }

    /// This process's environment with the host's secrets file over it, as the app sees its own:
    /// AWS keys or EMMY_BACKUP_IDENTITY_FILE pushed with `secrets push` reach the backup too.
    public func environment(_ base: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        base.merging(HostActivation.secrets(layout.secrets)) { _, secret in secret }
    }

    /// The supervisor state file of the serving release and the loopback port its app answers
    /// on: what restore signals and then gates on. nil before the first deploy.
    public var supervision: (stateFile: String, port: Int)? {
        HostActivation.readActive(layout).map { (layout.supervisorState($0.version), $0.port) }
    }
}
