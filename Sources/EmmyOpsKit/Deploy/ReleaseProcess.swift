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
        let pid = try DetachedSpawn.spawn(arguments(layout: layout, version: version, port: port),
                                          environment: environment, logFile: layout.log(version))
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

    /// Alive and not a zombie (a detached release is reaped by init, but a test harness may not be).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return true }
        return !stat[close...].hasPrefix(") Z")
    }
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

/// Writes a file so readers see the old or the new content, never half of it.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String, mode: Int = 0o644) throws {
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: mode]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    /// Points `link` at `destination` by renaming a fresh symlink over it.
    public static func symlink(_ link: String, to destination: String) throws {
        let temporary = link + ".tmp-\(getpid())"
        unlink(temporary)
        guard Glibc.symlink(destination, temporary) == 0, rename(temporary, link) == 0 else {
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: link])
        }
    }
}

/// posix_spawn into a new session: no controlling terminal, stdin from /dev/null, output to a
/// log file, no inherited descriptors (an inherited SSH channel pipe would keep the session
/// open until the release exits), no blocked signals.
enum DetachedSpawn {
    /// glibc's POSIX_SPAWN_SETSID, which Swift's Glibc module does not export.
    private static let setsid: Int32 = 0x80

    static func spawn(_ argv: [String], environment: [String: String], logFile: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_APPEND, 0o640)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let open = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap(Int32.init)
        for fd in open where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(setsid | Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETSIGDEF)))

        let env = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let status = withCStrings(argv) { cArgv in
            withCStrings(env) { cEnv in posix_spawn(&pid, argv[0], &actions, &attributes, cArgv, cEnv) }
        }
        guard status == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSFilePathErrorKey: argv[0], NSLocalizedDescriptionKey: String(cString: strerror(status))])
        }
        return pid
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
