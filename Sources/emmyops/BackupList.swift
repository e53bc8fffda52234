import ArgumentParser
import EmmyApp
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct BackupList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the backups at the target (objects with a manifest), oldest first.")

        @OptionGroup var options: BackupOptions

        func run() async throws {
            if try options.runRemotely("list") { return }
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
