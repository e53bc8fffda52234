import ArgumentParser
import EmmyOpsKit
import Foundation

extension EmmyOps {
    /// `emmyops incident …`: acting on alerts, by Alertmanager's webhook or by hand.
    struct IncidentCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "incident",
            abstract: "Act on alerts: receive Alertmanager's webhook, run playbooks, restart, diagnose.",
            discussion: """
            Playbooks (`incident.playbooks` in the spec) are ordered steps from a fixed vocabulary: \
            check, diagnose, restart, rollback, pause_sending, resume_sending, cleanup, notify, wait. \
            Restarts and rollbacks are limited per host and alert (`incident.budget`); when the \
            budget is spent, automation for that alert and host freezes and escalates until \
            `emmyops incident ack`. Everything is recorded in a SQLite ledger under --data-dir, and \
            every action is a JSON line in the host's audit log.
            """,
            subcommands: [IncidentServe.self, IncidentHandle.self, IncidentHistory.self, IncidentAck.self,
                          IncidentFreeze.self, IncidentHealth.self, IncidentRestart.self, IncidentDiagnose.self, IncidentMonitor.self,
                          IncidentPauseSending.self, IncidentResumeSending.self])
    }
}

/// --spec and --data-dir, shared by every `incident` subcommand.
struct IncidentOptions: ParsableArguments {
    @OptionGroup var spec: SpecOptions

    @Option(name: .long, help: ArgumentHelp("Where the ledger (incident.sqlite) and diagnostics bundles live (default: <EMMY_DATA_DIR>/incident).", valueName: "dir"))
    var dataDir: String?

    @Flag(name: .long, help: "This machine is the --host named (how incident serve runs these commands on a host over SSH).")
    var here = false

    var directory: String { dataDir ?? ServerEnvironment.current.dataDirectory() + "/incident" }

    func engine(_ spec: Spec) throws -> IncidentEngine {
        do { return try IncidentEngine.standard(spec: spec, dataDirectory: directory) } catch {
            throw CommandFailure.environment("cannot open the incident ledger under \(directory): \(error)")
        }
    }

    /// The ledger alone (history, ack, freeze need no engine).
    func ledger() throws -> IncidentLedger {
        do { return try IncidentLedger.open(directory: directory) } catch {
            throw CommandFailure.environment("cannot open the incident ledger under \(directory): \(error)")
        }
    }

    /// The spec and the target of the host named `name`, which must be this machine.
    func localTarget(named name: String) throws -> (Spec, IncidentTarget) {
        let spec = try self.spec.load()
        return (spec, try localTarget(try host(name, in: spec), spec))
    }

    /// The spec host named `name`, or the only host when none is named.
    func host(_ name: String?, in spec: Spec) throws -> EmmyOpsKit.Host {
        if let name {
            guard let host = spec.hosts.first(where: { $0.name == name }) else {
                throw CommandFailure.usage("no host named `\(name)` in \(self.spec.spec) (hosts: \(spec.hosts.map(\.name).joined(separator: ", ")))")
            }
            return host
        }
        guard spec.hosts.count == 1 else {
            throw CommandFailure.usage(spec.hosts.isEmpty ? "\(self.spec.spec) has no hosts" : "give --host: \(self.spec.spec) has \(spec.hosts.count) hosts")
        }
        return spec.hosts[0]
    }

    /// Actions run on this machine only: a remote host's commands run there, over SSH.
    func localTarget(_ host: EmmyOpsKit.Host, _ spec: Spec) throws -> IncidentTarget {
        let target = IncidentTarget(host: host, spec: spec)
        guard target.isLocal || here else {
            throw CommandFailure.usage("host `\(host.name)` (\(host.address)) is not this machine: run this command there, e.g. `ssh \(host.user)@\(host.address) emmyops incident …`")
        }
        return target
    }
}

extension AlertKind: ExpressibleByArgument {
    /// `app_down` or the alert's name (`EmmyAppDown`).
    public init?(argument: String) {
        guard let kind = AlertKind(rawValue: argument) ?? AlertRouting.kind(alertname: argument) else { return nil }
        self = kind
    }

    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
