import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What /proc says about another process: whether it lives (a zombie does not) and its argv.
enum ProcessTable {
    /// kill(pid, 0) delivers nothing; EPERM still means the process exists. A zombie (its parent
    /// has not reaped it, or no init reaps orphans, as in some containers) counts as gone.
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let state = stat.split(separator: ")").last?.split(separator: " ").first, state == "Z" {
            return false
        }
        return true
    }

    /// The process's argv, or nil where /proc cannot tell (not Linux, no permission).
    static func arguments(_ pid: Int32) -> [String]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Alive and, where /proc tells, running `emmyops <subcommand>` (not a process that reused the pid).
    static func isEmmyOps(_ pid: Int32, _ subcommand: String) -> Bool {
        guard isAlive(pid) else { return false }
        guard let arguments = arguments(pid) else { return true }
        return arguments.count > 1 && arguments[1] == subcommand
    }
}
