import ArgumentParser
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct IncidentPauseSending: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pause-sending",
            abstract: "Stop a host's app claiming messages from its send queue; everything stays queued.",
            discussion: """
            The switch is a marker file in the app's data directory (<root>/shared/sending-paused.json): \
            it survives restarts and deploys, and /metrics shows it as emmy_sending_paused. A host \
            that is not this machine is switched over SSH. --if-auth-refused pauses only when the \
            host's failures of the last 15 minutes show the provider refusing the credentials \
            (what the high_failure_rate playbook does). Prints `changed: …` or `unchanged: …`; \
            the switch is a line in the host's audit log. Undo with `emmyops incident resume-sending`.
            """)

        @OptionGroup var options: IncidentOptions

        @Option(name: .long, help: ArgumentHelp("Spec host whose sending to pause.", valueName: "name"))
        var host: String

        @Option(name: .long, help: ArgumentHelp("Why, for the marker and the audit log.", valueName: "text"))
        var reason = "paused by hand"

        @Flag(name: .long, help: "Pause only if the provider has been refusing the credentials (401/403).")
        var ifAuthRefused = false

        @OptionGroup var output: FormatOption

        func run() async throws {
            try await options.switchSending(host: host, step: .pauseSending, output: output) { actions, target in
                try await actions.pauseSending(target, reason: reason, onlyIfAuthRefused: ifAuthRefused)
            }
        }
    }

    struct IncidentResumeSending: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resume-sending",
            abstract: "Let a host's app claim and send queued messages again after pause-sending.",
            discussion: "Removes the marker; the send workers pick up the queue within a second. A host that is not this machine is switched over SSH. Prints `changed: …` or `unchanged: …` (it was not paused); audited.")

        @OptionGroup var options: IncidentOptions

        @Option(name: .long, help: ArgumentHelp("Spec host whose sending to resume.", valueName: "name"))
        var host: String

        @OptionGroup var output: FormatOption

        func run() async throws {
            try await options.switchSending(host: host, step: .resumeSending, output: output) { actions, target in
                try await actions.resumeSending(target)
            }
        }
    }
}

extension IncidentOptions {
    /// What `--format json` prints for a flip.
    struct SwitchedJSON: Encodable {
        var host: String
        var changed: Bool
        var detail: String
    }

    /// Flips a host's sending switch, here or over SSH, prints the outcome line (the engine reads
    /// it back from a host, so --format json changes only what a person asked for), and writes
    /// the audit line. With --here (how `incident serve` runs it on a host) the caller audits.
    func switchSending(host name: String, step: PlaybookStep, output: FormatOption,
                       _ flip: (any HostActions, IncidentTarget) async throws -> SendingSwitch.Outcome) async throws {
        let spec = try self.spec.load()
        let target = IncidentTarget(host: try host(name, in: spec), spec: spec)
        var transport: SSHTransport?
        var control: String?
        defer {
            transport?.close()
            if let control { try? FileManager.default.removeItem(atPath: control) }
        }
        let actions: any HostActions
        if target.isLocal || here {
            actions = LocalHostActions()
        } else {
            do { control = try SSHTransport.makeControlDirectory() } catch { throw CommandFailure.environment("\(error)") }
            let ssh = SSHTransport(host: target.host, settings: spec.ssh, controlDirectory: control!)
            transport = ssh
            actions = RemoteHostActions { _ in ssh }
        }
        let started = Date()
        func audit(_ result: String, _ detail: String) {
            guard !here else { return }
            actions.audit(target, IncidentAuditEntry(who: FleetOptions.who, when: started, host: target.host.name, step: step, alert: "manual",
                                                     fingerprint: nil, result: result, durationS: Date().timeIntervalSince(started), detail: detail))
        }
        do {
            let outcome = try await flip(actions, target)
            audit(outcome.changed ? "ok" : "skipped", outcome.detail)
            if output.json {
                try output.print(SwitchedJSON(host: target.host.name, changed: outcome.changed, detail: outcome.detail))
            } else {
                print(outcome.line)
            }
        } catch {
            audit("failed", "\(error)")
            throw target.isLocal || here ? CommandFailure.problem("\(error)") : CommandFailure.environment("\(error)")
        }
    }
}
