import ArgumentParser
import EmmyApp
import EmmyOpsKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension EmmyOps {
    /// `emmyops backup …`: the group; each subcommand lives in its own Backup*.swift file.
    struct BackupCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backup",
            abstract: "Encrypted backups of EmmyApp's database, each proven restorable.",
            discussion: """
            A backup is a consistent snapshot, compressed (zstd) and encrypted to the age \
            recipients of backup.recipients, stored at backup.target (s3://bucket/prefix or \
            file:///path) with its manifest written last. `verify` restores it to a scratch file \
            and checks it; `restore` swaps only a backup that passes the same checks.
            """,
            subcommands: [BackupCreate.self, BackupList.self, BackupVerify.self, BackupRestore.self, BackupPrune.self])
    }
}

/// Flags every `backup` subcommand shares, and how they become a `Backups`.
struct BackupOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(name: .long, help: ArgumentHelp("Path to the spec (default: ./emmy.yaml when present).", valueName: "file"))
    var spec: String?

    @Option(name: .long, help: ArgumentHelp("Where backups go (default: backup.target): s3://bucket/prefix or file:///path.", valueName: "url"))
    var target: String?

    @Option(name: .long, help: ArgumentHelp("Data directory holding emmy.sqlite (default: EMMY_DATA_DIR, else .emmy).", valueName: "dir"))
    var dataDir: String?

    @Option(name: .long, help: ArgumentHelp("age identity file to decrypt with (default: EMMY_BACKUP_IDENTITY_FILE, else the identity itself in EMMY_BACKUP_IDENTITY); with --host it is read here and handed to the host on its input, never stored there.", valueName: "file"))
    var identity: String?

    @Option(name: .long, help: ArgumentHelp("Run on this host of the spec over SSH with its installed release; its database, plaintext and credentials (environment, secrets.env, ~/.aws, instance profile) stay there.", valueName: "name"))
    var host: String?

    @Option(name: .long, help: ArgumentHelp("OpenSSH client config (-F) for --host; overrides ssh.config.", valueName: "file"))
    var sshConfig: String?

    @Option(name: .long, help: "text or json (one JSON document on stdout; progress events as JSON lines on stderr).")
    var format: Format = .text

    // The host side of --host (RemoteBackup.command): the deployment's root and this host's spec name.
    @Option(name: .long, help: .private) var deployedRoot: String?
    @Option(name: .long, help: .private) var hostName: String?
    /// Progress as JSON lines on stderr whatever the format, for the operator's side to show.
    @Flag(name: .long, help: .private) var progressEvents = false

    func validate() throws {
        if host != nil, dataDir != nil { throw ValidationError("--data-dir is the host's own with --host; drop one of them") }
        if host != nil, deployedRoot != nil { throw ValidationError("--host and --deployed-root exclude each other") }
        if (deployedRoot == nil) != (hostName == nil) { throw ValidationError("--deployed-root needs --host-name") }
    }

    /// On a deployed host (the far end of --host): where the release keeps its spec, data and secrets.
    var deployed: DeployedBackup? {
        guard let deployedRoot, let hostName else { return nil }
        return DeployedBackup(root: deployedRoot, hostName: hostName)
    }

    /// The process environment, with a deployed host's secrets file over it.
    var environment: [String: String] {
        deployed?.environment() ?? ProcessInfo.processInfo.environment
    }

    /// --spec, else a deployed host's release spec, else ./emmy.yaml when present, else the
    /// defaults (flags then carry the target).
    func loadSpec() throws -> Spec {
        if let spec { return try SpecOptions(spec: spec).load() }
        if let deployed { return try SpecOptions(spec: deployed.specPath).load() }
        if FileManager.default.fileExists(atPath: "emmy.yaml") { return try SpecOptions(spec: "emmy.yaml").load() }
        return Spec()
    }

    var dataDirectory: String { deployed?.dataDirectory ?? ServerEnvironment.current.dataDirectory(dataDir) }

    /// The identity text from --identity (`-`: standard input), EMMY_BACKUP_IDENTITY_FILE or
    /// EMMY_BACKUP_IDENTITY; nil when none is given.
    func identityText() throws -> String? {
        let environment = self.environment
        if identity == "-" {
            return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        if let file = identity ?? environment["EMMY_BACKUP_IDENTITY_FILE"] {
            guard let text = FileManager.default.contents(atPath: file) else { throw CommandFailure.environment("cannot read the identity file \(file)") }
            return String(decoding: text, as: UTF8.self)
        }
        return environment["EMMY_BACKUP_IDENTITY"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The target, recipients and (when `needIdentity`) identities from the flags, the
    /// environment and the spec.
    func backups(_ spec: Spec, needIdentity: Bool = false) throws -> Backups {
        guard let url = target ?? spec.backup.target else {
            throw CommandFailure.usage("no backup target: pass --target or set backup.target in the spec")
        }
        let recipients: [AgeRecipient]
        do { recipients = try spec.backup.recipients.map(AgeRecipient.init) } catch {
            throw CommandFailure.problem("backup.recipients: \(error)")
        }
        var identities: [AgeIdentity] = []
        if needIdentity {
            guard let text = try identityText() else {
                throw CommandFailure.usage("decrypting needs an age identity: pass --identity FILE or set EMMY_BACKUP_IDENTITY_FILE")
            }
            do { identities = try AgeIdentity.parseFile(text) } catch {
                throw CommandFailure.problem("\(identity ?? "the identity"): \(error)")
            }
        }
        var backups = Backups(target: try BackupTargets.open(url, settings: spec.backup, environment: environment), recipients: recipients,
                              identities: identities, dataDirectory: dataDirectory, appVersion: EmmyOpsVersion.current,
                              progress: BackupProgressLine.reporter(json: format == .json || progressEvents))
        if let deployed {
            backups.host = deployed.hostName
            backups.selectingHost = deployed.hostName
        }
        return backups
    }

    /// With --host, runs the subcommand there and returns true (its outcome is relayed). On the
    /// host's side, the work finishes even if the operator's connection drops.
    func runRemotely(_ subcommand: String, _ arguments: [String] = [], needsIdentity: Bool = false) throws -> Bool {
        guard host != nil else {
            if deployed != nil {
                signal(SIGPIPE, SIG_IGN)
                signal(SIGHUP, SIG_IGN)
            }
            return false
        }
        try BackupRemote(options: self).run(subcommand, arguments, needsIdentity: needsIdentity)
        return true
    }

    /// Prints `value` as the command's JSON document.
    func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// Progress of long work: a rewritten line (bytes, rate, ETA) when stderr is a terminal, JSON
/// lines with --format json, nothing otherwise.
enum BackupProgressLine {
    static func reporter(json: Bool) -> (@Sendable (BackupProgress) -> Void)? {
        if json { return { progress in if let event = event(progress) { writeError(event + "\n") } } }
        guard isatty(2) == 1 else { return nil }
        return { progress in writeError("\r\u{1B}[K" + line(progress)) }
    }

    /// One progress event as a JSON line: `{"bytes":…,"elapsed_seconds":…,"phase":…,"total":…}`.
    static func event(_ progress: BackupProgress) -> String? {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(progress)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The event a line of a remote command's stderr carries, or nil for any other line.
    static func parse(_ line: Substring) -> BackupProgress? {
        guard line.hasPrefix("{") else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try? decoder.decode(BackupProgress.self, from: Data(line.utf8))
    }

    /// Straight to the descriptor, ignoring errors: a reader that went away (the operator's ssh
    /// on a host) must not stop the work.
    static func writeError(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }

    static func line(_ p: BackupProgress) -> String {
        let mib = Double(p.bytes) / 1_048_576
        let rate = p.elapsedSeconds > 0 ? mib / p.elapsedSeconds : 0
        var text = String(format: "%@ %.1f MiB", p.phase, mib)
        if p.total > 0 { text += String(format: " of %.1f MiB", Double(p.total) / 1_048_576) }
        text += String(format: ", %.1f MiB/s", rate)
        if p.total > 0, rate > 0, p.bytes < p.total { text += String(format: ", ETA %.0fs", Double(p.total - p.bytes) / 1_048_576 / rate) }
        return text
    }

    /// Ends a progress line before the result is printed.
    static func clear() {
        if isatty(2) == 1 { writeError("\r\u{1B}[K") }
    }
}
