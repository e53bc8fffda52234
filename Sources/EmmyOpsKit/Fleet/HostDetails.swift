import EmmyApp
import Foundation

/// One host as `emmyops details` shows it: which release serves on which slot, what its
/// supervisor says, whether it answers its readiness path, and for how long it has run.
/// Gathered on the host by its current binary (`emmyops host details`), in one round trip.
public struct HostDetails: Codable, Sendable, Hashable {
    public var host: String
    /// The release `current` points at; nil before the first deploy.
    public var release: String?
    /// The release behind nginx (`run/active.json`) and its slot: 0 or 1, and its loopback port.
    public var active: String?
    public var slot: Int?
    public var port: Int?
    /// The supervisor's state (`running`, `backoff`, `failed`…, or `stopped (stale state …)`).
    public var supervisor: String?
    public var health: String?
    public var restarts: Int?
    /// `GET <ready_path>` on the slot: the status, or why there was none.
    public var ready: String?
    /// Seconds since the release's supervisor started, and since the host booted.
    public var uptimeS: Int?
    public var hostUptimeS: Int?

    enum CodingKeys: String, CodingKey {
        case host, release, active, slot, port, supervisor, health, restarts, ready
        case uptimeS = "uptime_s", hostUptimeS = "host_uptime_s"
    }

    public init(host: String) { self.host = host }

    /// A release is current and ready, and its supervisor (the native runtime has one; a docker
    /// release has none) is running.
    public var isHealthy: Bool { release != nil && ready == "200" && (supervisor == nil || supervisor == "running") }

    /// Reads the host's own files and probes its release (run on the host).
    public static func gather(layout: ReleaseLayout, hostName: String, now: Date = Date()) -> HostDetails {
        var details = HostDetails(host: hostName)
        details.release = (try? FileManager.default.destinationOfSymbolicLink(atPath: layout.current)).map { ($0 as NSString).lastPathComponent }
        if let text = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8), let first = text.split(separator: " ").first {
            details.hostUptimeS = Double(first).map { Int($0) }
        }
        guard let active = HostActivation.readActive(layout) else { return details }
        details.active = active.version
        details.slot = active.slot
        details.port = active.port
        if let status = try? SupervisorStatus.read(layout.supervisorState(active.version)) {
            details.supervisor = status.label
            details.health = status.state.health.rawValue
            details.restarts = status.state.restarts
            if !status.isStale { details.uptimeS = Int(now.timeIntervalSince(status.state.startedAt)) }
        }
        let readyPath = (try? SpecLoader.load(path: layout.spec(active.version)))?.0.app.readyPath ?? AppConfig().readyPath
        switch HTTPProbe.request("http://127.0.0.1:\(active.port)\(readyPath)", timeout: 3) {
        case .success(let response): details.ready = String(response.status)
        case .failure(let failure): details.ready = failure.description
        }
        return details
    }

    /// `details` as a table row: host, release (slot:port), supervisor, ready, uptime.
    public var row: [String] {
        let release = (self.release ?? "-") + (active.map { $0 == self.release ? "" : " (serving \($0))" } ?? "")
        let slot = self.slot.map { "\(["a", "b"][min(max($0, 0), 1)]):\(port ?? 0)" } ?? "-"
        return [host, release, slot, supervisor ?? "-", ready ?? "-", uptimeS.map(Self.duration) ?? "-"]
    }

    public static let header = ["HOST", "RELEASE", "SLOT", "SUPERVISOR", "READY", "UPTIME"]

    /// `3d4h`, `2h5m`, `4m10s`, `12s`.
    public static func duration(_ seconds: Int) -> String {
        let (d, h, m, s) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60)
        if d > 0 { return "\(d)d\(h)h" }
        if h > 0 { return "\(h)h\(m)m" }
        if m > 0 { return "\(m)m\(s)s" }
        return "\(s)s"
    }

    /// Columns padded to their widest cell.
    public static func table(_ rows: [[String]]) -> String {
        let widths = rows.reduce(into: [Int](repeating: 0, count: rows.first?.count ?? 0)) { widths, row in
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

extension HostDetails {
    /// The remote command: the current release's own binary reports (one round trip).
    public static func command(_ layout: ReleaseLayout, hostName: String) -> [String] {
        [layout.current + "/emmyops", "host", "details", "--root", layout.root, "--host", hostName]
    }
}
