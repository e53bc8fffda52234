import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one posix_spawn(2) wrapper, for processes that outlive a call: the release a deploy
/// starts, nginx's launcher, the child a supervisor keeps running. (`ProcessRunner` runs a
/// command to its end and collects its output.)
///
/// Every child starts with no signal blocked and the chosen signals at their default action: a
/// parent's threads block or handle signals, and a child that inherited that would ignore the
/// SIGTERM asking it to drain. Descriptors above stderr are closed in the child: an inherited
/// pipe would keep whoever reads it (a test harness, an SSH channel) waiting for the child too.
public enum ProcessSpawn {
    public struct Options: Sendable {
        /// A new session (setsid): no controlling terminal, out of the caller's process group,
        /// so the end of an SSH session does not reach it.
        public var newSession: Bool
        /// stdin from /dev/null, stdout and stderr appended to this file; nil inherits all three.
        public var logFile: String?
        /// The child's whole environment; nil passes on this process's.
        public var environment: [String: String]?
        /// Signals set back to their default action; nil means every signal.
        public var defaultSignals: [Int32]?

        public init(newSession: Bool = false, logFile: String? = nil, environment: [String: String]? = nil,
                    defaultSignals: [Int32]? = nil) {
            self.newSession = newSession
            self.logFile = logFile
            self.environment = environment
            self.defaultSignals = defaultSignals
        }

        /// Detached from the caller: its own session, no input, output to `logFile`, the
        /// termination signals at their defaults (deploy's releases, nginx's launcher).
        public static func detached(logFile: String, environment: [String: String]) -> Options {
            Options(newSession: true, logFile: logFile, environment: environment, defaultSignals: [SIGTERM, SIGINT, SIGHUP, SIGPIPE])
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var executable: String
        public var reason: String
        public var description: String { reason }
    }

    /// glibc's POSIX_SPAWN_SETSID, which Swift's Glibc module does not export.
    private static let setsid: Int32 = 0x80

    /// Starts `argv` (argv[0] is the executable's path) and returns its pid; the caller reaps it.
    public static func spawn(_ argv: [String], _ options: Options = Options()) throws -> Int32 {
        precondition(!argv.isEmpty, "spawn needs an executable")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let logFile = options.logFile {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_APPEND, 0o640)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        // posix_spawn_file_actions_addclosefrom_np is not visible from Swift; list them instead.
        for fd in openDescriptors() where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        if let signals = options.defaultSignals {
            sigemptyset(&defaults)
            for signal in signals { sigaddset(&defaults, signal) }
        } else {
            sigfillset(&defaults)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETSIGDEF)
        if options.newSession { flags |= setsid }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var pid: pid_t = 0
        let status = withCStrings(argv) { cArgv in
            if let environment = options.environment {
                withCStrings(environment.map { "\($0.key)=\($0.value)" }) { cEnv in
                    posix_spawn(&pid, argv[0], &actions, &attributes, cArgv, cEnv)
                }
            } else {
                posix_spawn(&pid, argv[0], &actions, &attributes, cArgv, environ)
            }
        }
        guard status == 0 else { throw Failure(executable: argv[0], reason: String(cString: strerror(status))) }
        return pid
    }

    private static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
