import ArgumentParser
import EmmyApp
import EmmyOpsKit
import Foundation

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

    @Option(name: .long, help: ArgumentHelp("age identity file to decrypt with (default: EMMY_BACKUP_IDENTITY_FILE).", valueName: "file"))
    var identity: String?

    @Option(name: .long, help: "text or json (one JSON document on stdout; progress events as JSON lines on stderr).")
    var format: Format = .text

    /// --spec, else ./emmy.yaml when present, else the defaults (flags then carry the target).
    func loadSpec() throws -> Spec {
        if let spec { return try SpecOptions(spec: spec).load() }
        if FileManager.default.fileExists(atPath: "emmy.yaml") { return try SpecOptions(spec: "emmy.yaml").load() }
        return Spec()
    }

    var dataDirectory: String { ServerEnvironment.current.dataDirectory(dataDir) }

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
            guard let file = identity ?? ProcessInfo.processInfo.environment["EMMY_BACKUP_IDENTITY_FILE"] else {
                throw CommandFailure.usage("decrypting needs an age identity: pass --identity FILE or set EMMY_BACKUP_IDENTITY_FILE")
            }
            guard let text = FileManager.default.contents(atPath: file) else { throw CommandFailure.environment("cannot read the identity file \(file)") }
            do { identities = try AgeIdentity.parseFile(String(decoding: text, as: UTF8.self)) } catch {
                throw CommandFailure.problem("\(file): \(error)")
            }
        }
        return Backups(target: try BackupTargets.open(url, settings: spec.backup), recipients: recipients, identities: identities,
                       dataDirectory: dataDirectory, appVersion: EmmyOpsVersion.current, progress: BackupProgressLine.reporter(json: format == .json))
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
        if isatty(2) == 1 {
            return { progress in FileHandle.standardError.write(Data(("\r\u{1B}[K" + line(progress)).utf8)) }
        }
        guard json else { return nil }
        return { progress in
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            if let data = try? encoder.encode(progress) { FileHandle.standardError.write(data + Data("\n".utf8)) }
        }
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
        if isatty(2) == 1 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
