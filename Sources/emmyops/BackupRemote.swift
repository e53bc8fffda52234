import ArgumentParser
import EmmyOpsKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The operator's side of `backup … --host H`: runs the subcommand on H through the spec's SSH
/// settings (strict host keys, as deploy), shows its progress events as this side's own
/// progress, passes its output and errors through, and ends with its exit status.
struct BackupRemote {
    var options: BackupOptions

    /// Runs `subcommand` with `arguments` on `--host`; `needsIdentity` hands a local identity
    /// (if one is given here) to the host on its input.
    func run(_ subcommand: String, _ arguments: [String], needsIdentity: Bool = false) throws {
        guard let name = options.host else { return }
        var spec = try options.loadSpec()
        if let sshConfig = options.sshConfig { spec.ssh.config = sshConfig }
        guard let host = spec.hosts.first(where: { $0.name == name }) else {
            throw CommandFailure.usage("no host named `\(name)` in the spec (hosts: \(spec.hosts.map(\.name).joined(separator: ", ")))")
        }
        var forwarded = ["--format", options.format.rawValue]
        if let target = options.target { forwarded += ["--target", target] }
        let identity = needsIdentity ? try options.identityText() : nil
        if identity != nil { forwarded += ["--identity", "-"] }
        // The subcommand's own last: it may end with `-- ID`.
        let command = RemoteBackup.command(DeployTarget(host: host, spec: spec), subcommand: subcommand, arguments: forwarded + arguments)

        let directory: String
        do { directory = try SSHTransport.makeControlDirectory() } catch { throw CommandFailure.environment("\(error)") }
        let transport = SSHTransport(host: host, settings: spec.ssh, controlDirectory: directory)
        defer {
            transport.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
        // ssh may end before it read the identity: a write to its closed input must not kill us.
        signal(SIGPIPE, SIG_IGN)
        let progress = BackupProgressLine.reporter(json: options.format == .json)
        let output = NSLock()
        let stream: LineStream
        do {
            stream = try LineStream(transport.arguments(for: command), input: Data((identity ?? "").utf8), onLine: { line in
                output.withLock {
                    BackupProgressLine.clear()
                    FileHandle.standardOutput.write(Data((String(line) + "\n").utf8))
                }
            }, onError: { line in
                if let event = BackupProgressLine.parse(line) {
                    output.withLock { progress?(event) }
                } else {
                    output.withLock {
                        BackupProgressLine.clear()
                        BackupProgressLine.writeError(String(line) + "\n")
                    }
                }
            })
        } catch {
            throw CommandFailure.environment("cannot run ssh: \(error)")
        }
        let status = stream.wait()
        BackupProgressLine.clear()
        switch status {
        case 0: return
        // ssh's own failure (connection, login, host key); its message came through above.
        case 255: throw CommandFailure.environment("cannot reach \(name) over ssh")
        case 126, 127: throw CommandFailure.environment("\(name) has no release installed at \(command[0]); deploy one first")
        default: throw CommandFailure.childStatus(status)
        }
    }
}
