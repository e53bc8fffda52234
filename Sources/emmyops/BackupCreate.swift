import ArgumentParser
import EmmyApp
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct BackupCreate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Snapshot the database, compress, encrypt and store it; the manifest is written last.")

        @OptionGroup var options: BackupOptions

        @Option(name: .long, help: ArgumentHelp("backup-api (default: the smaller writer stall, scripts/bench/backup-snapshot.py) or vacuum-into.", valueName: "method"))
        var snapshotMethod: String = DatabaseSnapshot.Method.backupAPI.rawValue

        func run() async throws {
            if try options.runRemotely("create", ["--snapshot-method", snapshotMethod]) { return }
            PrivateFiles.restrictUmask()
            guard let method = DatabaseSnapshot.Method(rawValue: snapshotMethod) else {
                throw CommandFailure.usage("--snapshot-method is one of \(DatabaseSnapshot.Method.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var backups = try options.backups(try options.loadSpec())
            backups.snapshotMethod = method
            let manifest = try await backups.create()
            BackupProgressLine.clear()
            switch options.format {
            case .json: try options.printJSON(manifest)
            case .text:
                print("backup \(manifest.id): \(manifest.snapshotBytes) bytes of database stored as \(manifest.storedBytes) bytes in \(backups.target.description)")
                print("rows: " + manifest.tables.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
        }
    }
}
