@testable import EmmyOpsKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Stopping what a test's deploys started, and proving nothing of it is left: the processes run
/// detached (their own session, reparented to init), so no harness reaps them, and a test that
/// forgets one leaves it running, holding its port, long after the suite.
enum ProcessSweep {
    /// SIGTERM to every pid, then waits (polling) until each is gone or `grace` has passed,
    /// then SIGKILL to the rest and waits once more. Returns the pids still alive after that.
    @discardableResult
    static func stop(_ pids: [Int32], grace: TimeInterval) -> [Int32] {
        let pids = Array(Set(pids.filter { $0 > 1 && $0 != getpid() }))
        for pid in pids where ProcessTable.isAlive(pid) {
            kill(pid, SIGTERM)
            kill(pid, SIGCONT)
        }
        guard !wait(pids, timeout: grace) else { return [] }
        for pid in pids where ProcessTable.isAlive(pid) { kill(pid, SIGKILL) }
        _ = wait(pids, timeout: 5)
        return pids.filter(ProcessTable.isAlive)
    }

    /// True once none of `pids` is alive; false when `timeout` passed first.
    private static func wait(_ pids: [Int32], timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while pids.contains(where: ProcessTable.isAlive) {
            guard Date() < deadline else { return false }
            usleep(20_000)
        }
        return true
    }

    /// Live processes (not this one) whose command line contains `text`, from /proc.
    static func naming(_ text: String) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter { names($0, text) }
    }

    /// Whether `pid` is alive, not this process, and its command line contains `text`: a pid
    /// read from a file may since belong to anything.
    static func names(_ pid: Int32, _ text: String) -> Bool {
        pid != getpid() && ProcessTable.isAlive(pid) && (ProcessTable.arguments(pid)?.joined(separator: " ").contains(text) ?? false)
    }

    /// What `pgrep -a -f` finds for `text` taken literally: one `pid command line` per process.
    /// The independent check that `naming` and the stops above missed nothing.
    static func pgrep(_ text: String) throws -> [String] {
        let pattern = text.map { "\\.^$|?*+()[]{}".contains($0) ? "\\\($0)" : String($0) }.joined()
        let out = try ProcessRunner().run("/usr/bin/pgrep", ["-a", "-f", "--", pattern], timeout: 10)
        // 1: nothing matched; anything above it: pgrep itself failed.
        guard out.status <= 1 else { throw LoopbackPorts.Failure(description: "pgrep: \(out.stderr)") }
        return out.stdout.split(separator: "\n").map(String.init)
    }
}
