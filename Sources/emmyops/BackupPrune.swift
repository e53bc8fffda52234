import ArgumentParser
import EmmyApp
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct BackupPrune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune",
            abstract: "Delete backups backup.keep does not keep (never the newest verified one).")

        @OptionGroup var options: BackupOptions

        @Flag(name: .long, help: "Show what would be deleted; delete nothing.")
        var dryRun = false

        func run() async throws {
            if try options.runRemotely("prune", dryRun ? ["--dry-run"] : []) { return }
            let spec = try options.loadSpec()
            let decisions = try await options.backups(spec).prune(keep: spec.backup.keep, dryRun: dryRun)
            switch options.format {
            case .json: try options.printJSON(decisions)
            case .text:
                for decision in decisions {
                    print("\(decision.keep ? "keep  " : (dryRun ? "would delete" : "deleted")) \(decision.id)\(decision.keep ? "  (\(decision.reasons.joined(separator: ", ")))" : "")")
                }
            }
        }
    }
}
