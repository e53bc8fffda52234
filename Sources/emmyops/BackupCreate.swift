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

    struct BackupList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the backups at the target (objects with a manifest), oldest first.")

        @OptionGroup var options: BackupOptions

        func run() async throws {
            let entries = try await options.backups(try options.loadSpec()).list()
            switch options.format {
            case .json: try options.printJSON(entries)
            case .text:
                if entries.isEmpty { Output.note("no backups") }
                for entry in entries {
                    let verified = entry.verification.map { v in
                        v.ok ? "verified \(DateText.iso8601(v.verifiedAt)) (restore \(v.restoreSeconds)s)" : "FAILED verification: \(v.problem ?? "")"
                    } ?? "not verified"
                    print("\(entry.id)  \(entry.manifest.storedBytes) bytes  \(entry.manifest.host)  \(verified)")
                }
            }
        }
    }
}
