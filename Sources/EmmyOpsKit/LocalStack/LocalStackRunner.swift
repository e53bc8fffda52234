import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Starts the services of a `LocalStack` as children and stops them all together.
///
/// Each child runs in its own session: a Ctrl-C at the terminal reaches `up` alone, which then
/// stops the children one by one (SIGTERM, SIGKILL after a grace period), so the supervisor can
/// drain the app rather than every process racing its own SIGINT. One thread per child waits
/// in waitpid(2), so none is left a zombie and `stop` knows when each is gone.
public final class LocalStackRunner: Sendable {
    /// A started service and its pid.
    public struct Child: Sendable {
        public var service: LocalStack.Service
        public var pid: Int32
    }

    public enum Readiness: Sendable, Equatable {
        case ready
        /// Exited before it answered; the tail of its log says why.
        case exited(log: String)
        case timedOut(log: String)
    }

    private let exits = Mutex([Int32: ChildExit]())
    private let started = Mutex([Child]())

    public init() {}

    public var children: [Child] { started.withLock { $0 } }

    /// Spawns `service` with its output going to its log file and `environment` added to ours.
    public func start(_ service: LocalStack.Service, environment: [String: String] = [:]) throws -> Child {
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pid = try ProcessSpawn.spawn(service.argv, ProcessSpawn.Options(newSession: true, logFile: service.logFile, environment: merged,
                                                                            defaultSignals: [SIGTERM, SIGINT, SIGHUP, SIGPIPE]))
        let child = Child(service: service, pid: pid)
        started.withLock { $0.append(child) }
        Thread.detachNewThread { [self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            exits.withLock { $0[pid] = ChildExit(waitStatus: status) }
        }
        return child
    }

    public func hasExited(_ pid: Int32) -> Bool { exits.withLock { $0[pid] != nil } }

    /// Waits until the child's ready URL answers 200, it exits, `timeout` passes, or
    /// `cancelled` says the stack is stopping.
    public func waitUntilReady(_ child: Child, timeout: TimeInterval, cancelled: () -> Bool = { false }) -> Readiness {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, !cancelled() {
            if hasExited(child.pid) { return .exited(log: Self.tail(child.service.logFile)) }
            if case .success(let answer) = HTTPProbe.request(child.service.readyURL, timeout: 1), answer.status == 200 { return .ready }
            usleep(100_000)
        }
        return .timedOut(log: Self.tail(child.service.logFile))
    }

    /// SIGTERM to every running child, newest first; SIGKILL to whichever is still there after
    /// `grace`. Returns once every child is reaped; the names of those that needed SIGKILL.
    @discardableResult
    public func stop(grace: TimeInterval) -> [String] {
        let children = self.children.reversed()
        for child in children where !hasExited(child.pid) { kill(child.pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline, children.contains(where: { !hasExited($0.pid) }) { usleep(20_000) }
        var killed: [String] = []
        for child in children where !hasExited(child.pid) {
            killed.append(child.service.name)
            kill(child.pid, SIGKILL)
        }
        while children.contains(where: { !hasExited($0.pid) }) { usleep(20_000) }
        return killed
    }

    /// The last lines of a log, to say why a service did not come up.
    static func tail(_ path: String, lines: Int = 5) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
