import EmmyApp
import Foundation

/// Where one spec host's app, supervisor and logs are, as incident response needs them: the
/// deploy layout's active release when there is one, else `<root>/shared/supervise.json`
/// (what `emmyops supervise --data-dir <root>/shared` writes) on `app.port`.
public struct IncidentTarget: Sendable {
    public let host: Host
    public let spec: Spec
    public let layout: ReleaseLayout

    public init(host: Host, spec: Spec) {
        self.host = host
        self.spec = spec
        layout = DeployTarget(host: host, spec: spec).layout
    }

    public var active: ActiveRelease? { HostActivation.readActive(layout) }
    public var port: Int { active?.port ?? spec.app.port }
    public var appURL: String { "http://127.0.0.1:\(port)" }
    public var supervisorStateFile: String { active.map { layout.supervisorState($0.version) } ?? layout.shared + "/supervise.json" }
    public var logFile: String? { active.map { layout.log($0.version) } }
    /// The app's data directory (`supervise --data-dir`), shared by every release.
    public var appDataDirectory: String { layout.shared }
    public var database: String { appDataDirectory + "/emmy.sqlite" }
    /// The environment the host's app reads its settings from: deploy starts every release with
    /// `<root>/shared/secrets.env` (where `secrets push` puts EMMY_DATABASE_PASSWORD), an app
    /// started by hand has its starter's, taken here as this process's; the file wins.
    public var appEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.merging(HostActivation.secrets(layout.secrets)) { _, secret in secret }
    }

    /// Whether this host is this machine: its actions run in this process, not over SSH. A
    /// loopback address with an SSH port other than 22 is another machine reached through a
    /// tunnel (`ssh -L 2222:prod-1:22`), or a test's sshd: it is acted on over SSH too.
    public var isLocal: Bool {
        (SpecValidation.isLocal(host.address) && host.port == 22) || host.address == ProcessInfo.processInfo.hostName
    }
}

/// One line of the host's audit log for an automated action (next to deploy's lines; deploy's
/// reader skips them, they lack its `to`).
public struct IncidentAuditEntry: Codable, Sendable, Hashable {
    public var who: String
    /// ISO 8601, UTC.
    public var when: String
    public var host: String
    /// `incident.restart`, `incident.rollback`, …
    public var action: String
    public var alert: String
    public var fingerprint: String?
    /// ok | failed | skipped | escalated
    public var result: String
    public var durationS: Double
    public var detail: String?

    enum CodingKeys: String, CodingKey {
        case who, when, host, action, alert, fingerprint, result, detail
        case durationS = "duration_s"
    }

    public init(who: String = "emmyops-incident", when: Date, host: String, step: PlaybookStep, alert: String, fingerprint: String?,
                result: String, durationS: Double, detail: String?) {
        self.who = who
        self.when = DateText.iso8601(when)
        self.host = host
        action = "incident.\(step.rawValue)"
        self.alert = alert
        self.fingerprint = fingerprint
        self.result = result
        self.durationS = (durationS * 1000).rounded() / 1000
        self.detail = detail
    }

    /// The incident lines of an audit log, oldest first.
    public static func read(_ path: String) -> [IncidentAuditEntry] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(IncidentAuditEntry.self, from: Data($0.utf8)) }
            .filter { $0.action.hasPrefix("incident.") }
    }
}

/// What one look at a host found.
public struct HealthReport: Codable, Sendable, Hashable {
    public var host: String
    public var health: Int?
    public var ready: Int?
    /// The supervisor's state (`running`, `failed`, …), or why there is none.
    public var supervisor: String
    public var diskUsedPercent: Int?
    public var memoryUsedPercent: Int?

    /// `/health` and `/ready` both answer 200.
    public var healthy: Bool { health == 200 && ready == 200 }

    public var summary: String {
        func code(_ status: Int?) -> String { status.map(String.init) ?? "no answer" }
        var parts = ["health \(code(health))", "ready \(code(ready))", "supervisor \(supervisor)"]
        if let disk = diskUsedPercent { parts.append("disk \(disk)% used") }
        if let memory = memoryUsedPercent { parts.append("memory \(memory)% used") }
        return parts.joined(separator: ", ")
    }
}
