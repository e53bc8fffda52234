import ArgumentParser
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "audit",
            abstract: "Show the audit log of every host as one timeline: deploys, rollbacks, secrets pushes.",
            discussion: "Without --host every host. --format json prints the entries as one JSON array.")

        @OptionGroup var fleet: FleetOptions

        @Option(name: .long, help: ArgumentHelp("Only entries from this long ago on (1h, 7d) or since an ISO 8601 time.", valueName: "when"))
        var since: String?

        func validate() throws {
            if let since, Since.parse(since) == nil { throw ValidationError("--since `\(since)` is neither a duration such as 1h nor an ISO 8601 time") }
        }

        func run() throws {
            let (spec, targets) = try fleet.load(roles: [.app, .monitoring])
            let answers = try fleet.withTransports(spec) { runner in
                FleetQuery.each(targets) { target -> [AuditEntry] in
                    let result = try runner(target).run(FleetAudit.readCommand(target.layout), timeout: 60)
                    guard result.status == 0 else {
                        throw RemoteError.failed(host: target.host.name, command: "cat audit.log", status: result.status, stderr: result.stderr)
                    }
                    return AuditLog.parse(result.stdout)
                }
            }
            let (logs, failure) = FleetAnswers.split(answers)
            let entries = FleetAudit.merge(logs, since: since.flatMap { Since.parse($0) })
            if fleet.format == .json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(entries), as: UTF8.self))
            } else {
                for entry in entries { print(FleetAudit.line(entry)) }
            }
            if let failure { throw failure }
        }
    }
}
