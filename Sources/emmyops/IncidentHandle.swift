import ArgumentParser
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct IncidentHandle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "handle",
            abstract: "Run an alert kind's playbook by hand, or print its plan with --dry-run.",
            discussion: """
            TYPE is an alert kind (app_down, high_error_rate, …) or an alert name (EmmyAppDown). \
            The host is --host, else the one --alert's labels name (instance or host), else the \
            spec's only host. The run goes through the same guards, budget and ledger as \
            `incident serve`. --dry-run prints each step with the verdict its guard gives now and \
            changes nothing (exit 0). Otherwise exit 0 when the run ended healthy or finished, 1 \
            when it escalated or froze.
            """)

        @OptionGroup var options: IncidentOptions

        @Argument(help: ArgumentHelp("Alert kind or alert name.", valueName: "TYPE"))
        var type: AlertKind

        @Option(name: .long, help: ArgumentHelp("Spec host to act on.", valueName: "name"))
        var host: String?

        @Option(name: .long, help: ArgumentHelp("An Alertmanager webhook body (or one of its alerts) whose labels pick the host.", valueName: "alert.json"))
        var alert: String?

        @Flag(name: .long, help: "Print the plan and each guard's verdict; change nothing.")
        var dryRun = false

        @OptionGroup var output: FormatOption

        /// `--dry-run --format json`: the plan, each step with its guard's verdict now.
        struct Plan: Encodable {
            var kind: String
            var host: String?
            var dryRun = true
            var steps: [IncidentEngine.PlannedStep]
        }

        func run() async throws {
            let spec = try options.spec.load()
            let hostName = try resolveHost(spec)
            let engine = try options.engine(spec)
            if dryRun {
                if output.json {
                    try output.print(Plan(kind: type.rawValue, host: hostName, steps: await engine.plan(kind: type, host: hostName)))
                    return
                }
                print("plan for \(type.rawValue) on \(hostName ?? "no single host") (dry run: nothing is changed)")
                for (index, step) in await engine.plan(kind: type, host: hostName).enumerated() {
                    print("\(index + 1). \(step.step)\(step.destructive ? " [destructive]" : ""): \(step.verdict)")
                }
                return
            }
            guard let run = try await engine.handle(kind: type, host: hostName) else { throw CommandFailure.problem("the run was not recorded") }
            if output.json {
                // The run as the ledger holds it, as `incident history --format json` lists it.
                try output.print(run)
            } else {
                print("run \(run.id): \(type.rawValue) on \(hostName ?? "no single host"): \(run.state.rawValue)\(run.note.map { " (\($0))" } ?? "")")
                for step in run.steps {
                    print("  \(step.position + 1). \(step.name.rawValue): \(step.state.rawValue)\(step.detail.map { ", \($0)" } ?? "")")
                }
            }
            if [.escalated, .frozen].contains(run.state) { throw CommandFailure.silentProblem }
        }

        private func resolveHost(_ spec: Spec) throws -> String? {
            if let host { return try options.host(host, in: spec).name }
            if let alert {
                guard let data = FileManager.default.contents(atPath: alert) else { throw CommandFailure.environment("cannot read \(alert)") }
                let labels: [String: String]
                if let payload = try? AlertmanagerPayload.parse(data), let first = payload.alerts.first {
                    labels = first.labels
                } else if let single = try? JSONDecoder().decode(AlertmanagerPayload.Alert.self, from: data) {
                    labels = single.labels
                } else {
                    throw CommandFailure.problem("\(alert) is neither an Alertmanager webhook body nor one of its alerts")
                }
                let hosts = AlertRouting.hosts(for: labels, kind: type, in: spec)
                return hosts.count == 1 ? hosts[0].name : nil
            }
            return spec.hosts.count == 1 ? spec.hosts[0].name : nil
        }
    }
}
