import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a playbook's steps do to a host. The engine decides whether and when (guards, budget,
/// ledger); an implementation only does. Tests substitute a recorder; `LocalHostActions` acts
/// on this machine.
public protocol HostActions: Sendable {
    /// One look, or (with `until` > 0) looks until healthy or the time is up.
    func check(_ target: IncidentTarget, until seconds: Double) async -> HealthReport
    func restart(_ target: IncidentTarget) async throws -> String
    /// Writes a bundle into `directory`; returns its path and a one-paragraph summary.
    func diagnose(_ target: IncidentTarget, into directory: String) async throws -> (path: String, summary: String)
    func rollback(_ target: IncidentTarget, to version: String) async throws -> String
    func cleanup(_ target: IncidentTarget) async throws -> String
    /// Stops the host's send workers claiming (EmmyApp's `SendingPause`); with
    /// `onlyIfAuthRefused`, only when its recent failures show the provider refusing credentials.
    func pauseSending(_ target: IncidentTarget, reason: String, onlyIfAuthRefused: Bool) async throws -> SendingSwitch.Outcome
    func resumeSending(_ target: IncidentTarget) async throws -> SendingSwitch.Outcome
    /// The host's last successful deploy, from its audit log.
    func lastDeploy(_ target: IncidentTarget) -> AuditEntry?
    func audit(_ target: IncidentTarget, _ entry: IncidentAuditEntry)
}

/// Why an action could not be done.
public struct HostActionFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Acts on this machine: signals its supervisor, reads its layout, writes its audit log.
public struct LocalHostActions: HostActions {
    public init() {}

    public func check(_ target: IncidentTarget, until seconds: Double) async -> HealthReport {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let report = look(target)
            if report.healthy || Date() >= deadline { return report }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    func look(_ target: IncidentTarget) -> HealthReport {
        func status(_ path: String) -> Int? { try? HTTPProbe.request(target.appURL + path, timeout: 2).get().status }
        let supervisor: String
        switch Result(catching: { try SupervisorStatus.read(target.supervisorStateFile) }) {
        case .success(let status?): supervisor = status.label
        case .success(nil): supervisor = "none (no \(target.supervisorStateFile))"
        case .failure(let error): supervisor = "unreadable (\(error))"
        }
        return HealthReport(host: target.host.name, health: status(target.spec.app.healthPath), ready: status(target.spec.app.readyPath),
                            supervisor: supervisor, diskUsedPercent: SystemUsage.diskUsedPercent(target.layout.root),
                            memoryUsedPercent: SystemUsage.memoryUsedPercent())
    }

    /// SIGHUP to the supervisor: it restarts a hung or running child gracefully, and gives a
    /// supervisor that spent its crash budget (`failed`) a fresh start.
    public func restart(_ target: IncidentTarget) async throws -> String {
        let path = target.supervisorStateFile
        guard let status = try SupervisorStatus.read(path) else { throw HostActionFailure("no supervisor state at \(path)") }
        guard status.supervisorAlive else { throw HostActionFailure("supervisor \(status.state.pid) in \(path) is not running") }
        guard kill(status.state.pid, SIGHUP) == 0 else { throw HostActionFailure("cannot signal supervisor \(status.state.pid): \(String(cString: strerror(errno)))") }
        return "asked supervisor \(status.state.pid) (was \(status.label)) to restart the app"
    }

    public func diagnose(_ target: IncidentTarget, into directory: String) async throws -> (path: String, summary: String) {
        try DiagnosticsBundle.collect(target, health: look(target), into: directory)
    }

    public func rollback(_ target: IncidentTarget, to version: String) async throws -> String {
        let result = try HostActivation(layout: target.layout, hostName: target.host.name, version: version,
                                        who: "emmyops-incident", action: "rollback").run()
        return "rolled back \(result.from ?? "nothing") -> \(result.to) in \(String(format: "%.1f", result.durationS))s"
    }

    public func cleanup(_ target: IncidentTarget) async throws -> String {
        let removed = HostActivation.prune(target.layout, keep: max(2, target.spec.deploy.keepReleases))
        var logs: [String] = []
        // Rotated logs (`x.log.1`, `x.log.2.gz`): the live `.log` files stay.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: target.layout.logs)) ?? [] where name.range(of: #"\.log\.\d+(\.gz)?$"#, options: .regularExpression) != nil {
            if (try? FileManager.default.removeItem(atPath: target.layout.logs + "/" + name)) != nil { logs.append(name) }
        }
        return "removed \(removed.count) old release(s)\(removed.isEmpty ? "" : " (\(removed.joined(separator: ", ")))") and \(logs.count) rotated log(s)"
    }

    public func pauseSending(_ target: IncidentTarget, reason: String, onlyIfAuthRefused: Bool) async throws -> SendingSwitch.Outcome {
        try await SendingSwitch.pause(target, reason: reason, who: "emmyops-incident", onlyIfAuthRefused: onlyIfAuthRefused)
    }

    public func resumeSending(_ target: IncidentTarget) async throws -> SendingSwitch.Outcome {
        try SendingSwitch.resume(target)
    }

    public func lastDeploy(_ target: IncidentTarget) -> AuditEntry? {
        AuditLog.read(target.layout.audit).last { $0.host == target.host.name && $0.action == "deploy" && $0.result == "ok" }
    }

    public func audit(_ target: IncidentTarget, _ entry: IncidentAuditEntry) {
        try? FileManager.default.createDirectory(atPath: target.layout.shared, withIntermediateDirectories: true)
        try? AuditLog.append(entry, to: target.layout.audit)
    }
}

/// Disk and memory use from statvfs and /proc/meminfo.
enum SystemUsage {
    static func diskUsedPercent(_ path: String) -> Int? {
        var stat = statvfs()
        var probe = path
        while statvfs(probe, &stat) != 0 {
            guard probe != "/" else { return nil }
            probe = (probe as NSString).deletingLastPathComponent
            if probe.isEmpty { probe = "/" }
        }
        guard stat.f_blocks > 0 else { return nil }
        return Int((Double(stat.f_blocks - stat.f_bavail) / Double(stat.f_blocks) * 100).rounded())
    }

    static func memoryUsedPercent() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        func kib(_ key: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(key + ":") }.flatMap { line in
                line.split(separator: " ").dropFirst().first.flatMap { Double($0) }
            }
        }
        guard let total = kib("MemTotal"), let available = kib("MemAvailable"), total > 0 else { return nil }
        return Int(((total - available) / total * 100).rounded())
    }
}
