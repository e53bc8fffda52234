import ArgumentParser
import EmmyApp
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct IncidentHistory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "history",
            abstract: "Show the ledger: notifications (with fingerprints), playbook runs, steps, outcomes and freezes.")

        @OptionGroup var options: IncidentOptions

        @OptionGroup var output: FormatOption

        @Option(name: .long, help: "Show at most this many notifications and runs (the newest).")
        var limit = 100

        struct Document: Encodable {
            var notifications: [IncidentLedger.Notification]
            var runs: [IncidentLedger.Run]
            var freezes: [IncidentLedger.Freeze]
        }

        func run() async throws {
            let ledger = try options.ledger()
            let document = Document(notifications: try ledger.notifications(limit: limit), runs: try ledger.runs(limit: limit),
                                    freezes: try ledger.freezes(open: false))
            switch output.format {
            case .json:
                try output.print(document)
            case .text:
                print("notifications:")
                for n in document.notifications {
                    print("  \(DateText.iso8601(n.receivedAt)) \(n.status) \(n.alertname) fingerprint \(n.fingerprint) starts \(n.startsAt) host \(n.host ?? "-")\(n.duplicate ? " (duplicate)" : "")")
                }
                print("runs:")
                for run in document.runs {
                    print("  #\(run.id) \(DateText.iso8601(run.createdAt)) \(run.kind) on \(run.host ?? "no single host"): \(run.state.rawValue)\(run.note.map { " (\($0))" } ?? "")")
                    for step in run.steps {
                        print("      \(step.position + 1). \(step.name.rawValue): \(step.state.rawValue)\(step.detail.map { ", \($0)" } ?? "")")
                    }
                }
                print("freezes:")
                for freeze in document.freezes {
                    print("  \(freeze.kind) on \(freeze.host) since \(DateText.iso8601(freeze.frozenAt)): \(freeze.ackedAt.map { "acknowledged \(DateText.iso8601($0))" } ?? "FROZEN") (\(freeze.reason))")
                }
            }
        }
    }

    struct IncidentAck: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ack",
            abstract: "Resume automation for an alert that spent its budget and froze.",
            discussion: "Lifts the freeze of ALERT on --host (or on every host) and gives it a fresh budget. Exit 0 even when nothing was frozen.")

        @OptionGroup var options: IncidentOptions

        @Argument(help: ArgumentHelp("Alert kind or alert name.", valueName: "ALERT"))
        var alert: AlertKind

        @Option(name: .long, help: ArgumentHelp("Only this host's freeze.", valueName: "name"))
        var host: String?

        @OptionGroup var output: FormatOption

        struct Acknowledged: Encodable {
            var kind: String
            var host: String?
            var lifted: Int
        }

        func run() async throws {
            let ledger = try options.ledger()
            let user = ProcessInfo.processInfo.environment["USER"] ?? "unknown"
            let lifted = try ledger.acknowledge(kind: alert, host: host, by: user)
            if output.json { return try output.print(Acknowledged(kind: alert.rawValue, host: host, lifted: lifted)) }
            print(lifted == 0 ? "\(alert.rawValue): nothing was frozen\(host.map { " on \($0)" } ?? "")"
                              : "\(alert.rawValue): automation resumed on \(lifted) host(s)")
        }
    }
}

extension EmmyOps {
    struct IncidentFreeze: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "freeze",
            abstract: "Stop automation for an alert on a host now, until `emmyops incident ack`.",
            discussion: "Checks, diagnostics and notices still run; restarts and rollbacks do not.")

        @OptionGroup var options: IncidentOptions

        /// `--format json`: `new` is false when the alert was already frozen on the host.
        struct Frozen: Encodable {
            var kind: String
            var host: String
            var new: Bool
        }

        @Argument(help: ArgumentHelp("Alert kind or alert name.", valueName: "ALERT"))
        var alert: AlertKind

        @Option(name: .long, help: ArgumentHelp("Spec host.", valueName: "name"))
        var host: String

        @OptionGroup var output: FormatOption

        func run() async throws {
            let spec = try options.spec.load()
            let host = try options.host(host, in: spec)
            let ledger = try options.ledger()
            let user = ProcessInfo.processInfo.environment["USER"] ?? "unknown"
            let new = try ledger.freeze(kind: alert, host: host.name, reason: "frozen by hand by \(user)")
            if output.json { return try output.print(Frozen(kind: alert.rawValue, host: host.name, new: new)) }
            print(new ? "\(alert.rawValue) on \(host.name): automation frozen until `emmyops incident ack \(alert.rawValue) --host \(host.name)`"
                      : "\(alert.rawValue) on \(host.name): already frozen")
        }
    }
}
