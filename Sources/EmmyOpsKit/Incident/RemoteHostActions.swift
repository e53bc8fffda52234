import Foundation

/// Acts on a host that is not this machine by running the host's own release binary over SSH
/// (`<root>/current/emmyops incident …` and `host activate|prune`), so each action is done,
/// and written to the audit log, on the host it touches.
public struct RemoteHostActions: HostActions {
    let runner: @Sendable (Host) -> any CommandRunner

    public init(runner: @escaping @Sendable (Host) -> any CommandRunner) { self.runner = runner }

    private func emmyops(_ target: IncidentTarget, _ arguments: [String], timeout: TimeInterval = 120) throws -> CommandResult {
        let root = target.layout.root
        return try runner(target.host).run([root + "/current/emmyops"] + arguments + ["--spec", root + "/current/emmy.yaml",
                                                                                     "--data-dir", root + "/shared/incident", "--here"], timeout: timeout)
    }

    public func check(_ target: IncidentTarget, until seconds: Double) async -> HealthReport {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let result = try? emmyops(target, ["incident", "health", "--host", target.host.name], timeout: 30)
            let line = result?.stdout.split(separator: "\n").first.map(String.init) ?? ""
            let healthy = result?.status == 0
            if healthy || Date() >= deadline {
                // The host printed `name: healthy: <summary>`; keep its summary as the supervisor field.
                let summary = line.components(separatedBy: ": ").dropFirst(2).joined(separator: ": ")
                return HealthReport(host: target.host.name, health: healthy ? 200 : nil, ready: healthy ? 200 : nil,
                                    supervisor: summary.isEmpty ? "unknown (\(result?.stderr.trimmingCharacters(in: .whitespacesAndNewlines) ?? "ssh failed"))" : summary)
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    public func restart(_ target: IncidentTarget) async throws -> String {
        let result = try emmyops(target, ["incident", "restart", "--host", target.host.name])
        guard result.status == 0 else { throw HostActionFailure("\(target.host.name): \(result.stderr.isEmpty ? result.stdout : result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func diagnose(_ target: IncidentTarget, into directory: String) async throws -> (path: String, summary: String) {
        let result = try emmyops(target, ["incident", "diagnose", "--host", target.host.name])
        guard result.status == 0 else { throw HostActionFailure("\(target.host.name): \(result.stderr)") }
        let lines = result.stdout.split(separator: "\n").map(String.init)
        return ("\(target.host.name):\(lines.first ?? "")", lines.dropFirst().joined(separator: " "))
    }

    public func rollback(_ target: IncidentTarget, to version: String) async throws -> String {
        let root = target.layout.root
        let result = try runner(target.host).run([root + "/current/emmyops", "host", "activate", "--root", root, "--version", version,
                                                  "--host", target.host.name, "--who", "emmyops-incident", "--action", "rollback"], timeout: 600)
        guard result.status == 0 else { throw HostActionFailure("\(target.host.name): \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func cleanup(_ target: IncidentTarget) async throws -> String {
        let root = target.layout.root
        let result = try runner(target.host).run([root + "/current/emmyops", "host", "prune", "--root", root,
                                                  "--keep", String(target.spec.deploy.keepReleases)], timeout: 120)
        guard result.status == 0 else { throw HostActionFailure("\(target.host.name): \(result.stderr)") }
        return result.stdout.isEmpty ? "nothing to remove" : result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func pauseSending(_ target: IncidentTarget, reason: String, onlyIfAuthRefused: Bool) async throws -> SendingSwitch.Outcome {
        try sendingSwitch(target, ["incident", "pause-sending", "--host", target.host.name, "--reason", reason] + (onlyIfAuthRefused ? ["--if-auth-refused"] : []))
    }

    public func resumeSending(_ target: IncidentTarget) async throws -> SendingSwitch.Outcome {
        try sendingSwitch(target, ["incident", "resume-sending", "--host", target.host.name])
    }

    /// The host flips its own switch and prints one `SendingSwitch.Outcome` line.
    private func sendingSwitch(_ target: IncidentTarget, _ arguments: [String]) throws -> SendingSwitch.Outcome {
        let result = try emmyops(target, arguments, timeout: 60)
        let line = result.stdout.split(separator: "\n").first.map(String.init) ?? ""
        guard result.status == 0, let outcome = SendingSwitch.Outcome(line: line) else {
            throw HostActionFailure("\(target.host.name): \(result.stderr.isEmpty ? result.stdout : result.stderr)")
        }
        return outcome
    }

    public func lastDeploy(_ target: IncidentTarget) -> AuditEntry? {
        guard let result = try? runner(target.host).run(["cat", target.layout.audit], timeout: 30), result.status == 0 else { return nil }
        return result.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(AuditEntry.self, from: Data($0.utf8)) }
            .last { $0.host == target.host.name && $0.action == "deploy" && $0.result == "ok" }
    }

    /// Remote commands write their own lines; an escalation or a refused step is recorded here
    /// by appending one line through the host's own shell-free `tee -a`.
    public func audit(_ target: IncidentTarget, _ entry: IncidentAuditEntry) {
        guard let line = try? JSONEncoder.sorted.encode(entry) else { return }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("emmyops-audit-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: file.path, contents: line + Data("\n".utf8)) else { return }
        defer { try? FileManager.default.removeItem(at: file) }
        _ = try? runner(target.host).run(["tee", "-a", target.layout.audit], stdinFile: file.path, timeout: 30)
    }
}

/// Local targets act in this process; the rest over SSH.
public struct RoutedHostActions: HostActions {
    let local: any HostActions
    let remote: any HostActions

    public init(local: any HostActions = LocalHostActions(), remote: any HostActions) {
        self.local = local
        self.remote = remote
    }

    private func pick(_ target: IncidentTarget) -> any HostActions { target.isLocal ? local : remote }

    public func check(_ target: IncidentTarget, until seconds: Double) async -> HealthReport { await pick(target).check(target, until: seconds) }
    public func restart(_ target: IncidentTarget) async throws -> String { try await pick(target).restart(target) }
    public func diagnose(_ target: IncidentTarget, into directory: String) async throws -> (path: String, summary: String) {
        try await pick(target).diagnose(target, into: directory)
    }
    public func rollback(_ target: IncidentTarget, to version: String) async throws -> String { try await pick(target).rollback(target, to: version) }
    public func cleanup(_ target: IncidentTarget) async throws -> String { try await pick(target).cleanup(target) }
    public func pauseSending(_ target: IncidentTarget, reason: String, onlyIfAuthRefused: Bool) async throws -> SendingSwitch.Outcome {
        try await pick(target).pauseSending(target, reason: reason, onlyIfAuthRefused: onlyIfAuthRefused)
    }
    public func resumeSending(_ target: IncidentTarget) async throws -> SendingSwitch.Outcome { try await pick(target).resumeSending(target) }
    public func lastDeploy(_ target: IncidentTarget) -> AuditEntry? { pick(target).lastDeploy(target) }
    public func audit(_ target: IncidentTarget, _ entry: IncidentAuditEntry) { pick(target).audit(target, entry) }
}
