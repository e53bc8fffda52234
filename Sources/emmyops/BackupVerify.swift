import ArgumentParser
import EmmyApp
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct BackupVerify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Restore a backup to a scratch file and check it against its manifest; record the result.",
            discussion: "Downloads, checks the SHA-256, decrypts, decompresses, runs PRAGMA integrity_check and compares row counts. Exit 1 names the backup that fails.")

        @OptionGroup var options: BackupOptions

        @Argument(help: "The backup id (see `backup list`).")
        var id: String?

        @Flag(name: .long, help: "Verify the newest backup.")
        var latest = false

        func validate() throws {
            if (id == nil) == !latest { throw ValidationError("name a backup id or pass --latest (one of them)") }
        }

        func run() async throws {
            if try options.runRemotely("verify", id.map { ["--", $0] } ?? ["--latest"], needsIdentity: true) { return }
            let backups = try options.backups(try options.loadSpec(), needIdentity: true)
            let record = try await backups.verify(id.map(Backups.Selector.id) ?? .latest)
            BackupProgressLine.clear()
            switch options.format {
            case .json: try options.printJSON(record)
            case .text: print("backup \(record.id) verified: restores in \(record.restoreSeconds)s, integrity_check ok, row counts match")
            }
        }
    }
}
