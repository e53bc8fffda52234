import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a release runs on a host, and starting it detached from the SSH session.
public enum ReleaseProcess {
    /// The release's command line; the only place it is spelled. The release runs under its
    /// own supervisor (restarts, health probes, drain on SIGTERM); the pid deploy records and
    /// stops is the supervisor's.
    public static func arguments(layout: ReleaseLayout, version: String, port: Int) -> [String] {
        [layout.binary(version), "supervise", "--spec", layout.spec(version), "--data-dir", layout.shared,
         "--host", "127.0.0.1", "--port", String(port), "--state-file", layout.supervisorState(version)]
    }

    /// Starts the release in its own session with output appended to its log, records its pid
    /// in the state file, and returns the pid.
    public static func start(layout: ReleaseLayout, version: String, port: Int, environment: [String: String]) throws -> Int32 {
        try FileManager.default.createDirectory(atPath: (layout.supervisorState(version) as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let pid = try ProcessSpawn.spawn(arguments(layout: layout, version: version, port: port),
                                         .detached(logFile: layout.log(version), environment: environment))
        try ReleaseState(pid: pid, port: port).write(to: layout.state(version))
        return pid
    }

    /// SIGTERM (the server drains), then SIGKILL after `grace`, each sent only while `running`
    /// still holds for the pid (by default: alive, enough for our own child). True when it is gone.
    @discardableResult
    public static func stop(pid: Int32, grace: TimeInterval, while running: (Int32) -> Bool = ReleaseProcess.isAlive) -> Bool {
        guard pid > 1, running(pid) else { return true }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while running(pid), Date() < deadline { usleep(20_000) }
        if running(pid) { kill(pid, SIGKILL); usleep(50_000) }
        return !running(pid)
    }

    /// Alive and not a zombie (a detached release is reaped by init, but a test harness may
    /// not be); the process table's one rule.
    public static func isAlive(_ pid: Int32) -> Bool { ProcessTable.isAlive(pid) }
}

/// The run-state file of a release: `{"pid": …}` (the supervise contract), plus the port.
public struct ReleaseState: Codable, Sendable {
    public var pid: Int32
    public var port: Int?

    public static func read(_ path: String) -> ReleaseState? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(ReleaseState.self, from: $0) }
    }

    public func write(to path: String) throws {
        try AtomicFile.write(try JSONEncoder().encode(self), to: path)
    }
}
