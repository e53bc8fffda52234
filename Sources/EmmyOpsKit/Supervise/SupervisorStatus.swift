import EmmyApp
import Foundation

/// What `emmyops status` concludes from a state file and whether its supervisor still lives.
public struct SupervisorStatus: Sendable {
    public var state: SupervisorState
    public var supervisorAlive: Bool

    public init(state: SupervisorState, supervisorAlive: Bool) {
        self.state = state
        self.supervisorAlive = supervisorAlive
    }

    /// Reads `path`; nil when there is no file (no supervisor has run with this data dir).
    public static func read(_ path: String) throws -> SupervisorStatus? {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) {
                throw CocoaError(.fileReadNoPermission, userInfo: [NSFilePathErrorKey: path])
            }
            return nil
        }
        let state = try SupervisorState.decode(data)
        return SupervisorStatus(state: state, supervisorAlive: isAlive(state.pid))
    }

    /// Whether `pid` is a live `emmyops supervise` (not a zombie, not a process that reused the pid).
    public static func isAlive(_ pid: Int32) -> Bool { ProcessTable.isEmmyOps(pid, "supervise") }

    /// A supervisor that died without writing `stopped` (SIGKILL, power loss) left a stale file.
    public var isStale: Bool { !supervisorAlive && state.state != .stopped }

    public var label: String {
        isStale ? "stopped (stale state: the file says \(state.state.rawValue), but supervisor \(state.pid) is gone)" : state.state.rawValue
    }

    /// Running and answering its health probe: the only state `status` exits 0 for.
    public var isHealthy: Bool { !isStale && state.state == .running && state.health == .ok }

    public var summary: [String] {
        var lines = ["supervisor: \(label) (pid \(state.pid), emmyops \(state.version), started \(DateText.iso8601(state.startedAt)))"]
        if let child = state.childPID, !isStale {
            lines.append("child: pid \(child), health \(state.health.rawValue)"
                         + (state.consecutiveHealthFailures > 0 ? " (\(state.consecutiveHealthFailures) failed probes in a row)" : ""))
        } else {
            lines.append("child: none")
        }
        lines.append("restarts: \(state.restarts) in total, \(state.restartsInWindow) in the crash window")
        if let exit = state.lastExit {
            lines.append("last exit: \(exit.status) at \(DateText.iso8601(exit.at))")
        }
        if state.state == .failed, !isStale {
            lines.append("hint: the crash budget is spent; read the app's log, fix the cause, then `kill -HUP \(state.pid)` to try again")
        }
        return lines
    }

    /// The state file's JSON plus `supervisor_alive` and `stale`.
    public func json() throws -> Data {
        var object = try JSONSerialization.jsonObject(with: try state.json()) as? [String: Any] ?? [:]
        object["supervisor_alive"] = supervisorAlive
        object["stale"] = isStale
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    }
}
