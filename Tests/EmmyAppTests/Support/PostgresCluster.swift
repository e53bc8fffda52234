@testable import EmmyApp
import Foundation
import Logging
import PostgresNIO
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A throw-away PostgreSQL 15 cluster for tests: `initdb` into a temporary directory and
/// `pg_ctl` start on a free loopback port, password authentication over TCP, stopped and
/// deleted at the end. PostgreSQL refuses to run as root, so as root (CI, these machines) its
/// programs run as the `postgres` user the Debian package creates, in a directory it owns.
///
/// One cluster serves a whole suite (`@Suite(.postgresCluster)`); each test takes a database
/// of its own from it (`PostgresCluster.current.freshDatabase()`), which costs milliseconds
/// where a cluster costs seconds.
final class PostgresCluster: Sendable {
    static let binaries = "/usr/lib/postgresql/15/bin"
    let directory: URL
    let port: Int
    let user = "emmy"
    let password: String

    @TaskLocal static var running: PostgresCluster?

    /// The cluster of the suite the test runs in.
    static var current: PostgresCluster {
        get throws {
            guard let running else { throw Failure(what: "no cluster: mark the suite with .postgresCluster", output: "") }
            return running
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var what: String
        var output: String
        var description: String { output.isEmpty ? what : "\(what):\n\(output)" }
    }

    private init(directory: URL, port: Int, password: String) {
        self.directory = directory
        self.port = port
        self.password = password
    }

    /// Creates and starts a cluster; throws (never skips) when PostgreSQL 15 is not installed.
    static func start() throws -> PostgresCluster {
        guard FileManager.default.isExecutableFile(atPath: "\(binaries)/initdb") else {
            throw Failure(what: "PostgreSQL 15 is not installed (\(binaries)/initdb); run scripts/install-deps.sh", output: "")
        }
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("emmy-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let password = UUID().uuidString
        let passwordFile = directory.appendingPathComponent("password")
        try Data((password + "\n").utf8).write(to: passwordFile)
        if geteuid() == 0 {
            guard let account = getpwnam("postgres") else { throw Failure(what: "no `postgres` user to run PostgreSQL as (root cannot)", output: "") }
            for path in [directory.path, passwordFile.path] { chown(path, account.pointee.pw_uid, account.pointee.pw_gid) }
        }
        let data = directory.appendingPathComponent("data").path
        try run("initdb", ["-D", data, "-U", "emmy", "--pwfile=\(passwordFile.path)", "--auth-local=trust", "--auth-host=scram-sha-256",
                           "--encoding=UTF8", "--no-locale", "--no-sync"])
        // A port free when asked can be taken before the server binds it: try a few.
        var lastError: (any Error)?
        for _ in 0..<3 {
            let port = try Self.freePort()
            let settings = """

                listen_addresses = '127.0.0.1'
                port = \(port)
                unix_socket_directories = '\(directory.path)'
                max_connections = 300
                fsync = off
                full_page_writes = off
                """
            let conf = try FileHandle(forWritingTo: URL(fileURLWithPath: data).appendingPathComponent("postgresql.conf"))
            try conf.seekToEnd()
            try conf.write(contentsOf: Data(settings.utf8))
            try conf.close()
            do {
                try run("pg_ctl", ["-D", data, "-l", directory.appendingPathComponent("server.log").path, "-w", "-t", "60", "start"])
                return PostgresCluster(directory: directory, port: port, password: password)
            } catch {
                lastError = error
            }
        }
        throw lastError ?? Failure(what: "PostgreSQL did not start", output: "")
    }

    /// Stops the server at once (nothing in it is worth a clean shutdown) and deletes it.
    func stop() {
        _ = try? Self.run("pg_ctl", ["-D", directory.appendingPathComponent("data").path, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(at: directory)
    }

    /// Settings for a new, empty database of this cluster; its password is `password`.
    func freshDatabase() async throws -> PostgresSettings {
        let name = "t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        try await withAdmin { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Self.logger)
        }
        return PostgresSettings(user: user, host: "127.0.0.1", port: port, database: name, tls: .disable)
    }

    /// Runs `body` with the engine on a fresh, migrated database.
    func withEngine<Result: Sendable>(maximumConnections: Int = 8, _ body: @Sendable (PostgresEngine) async throws -> Result) async throws -> Result {
        let settings = try await freshDatabase()
        return try await PostgresEngine.withRunning(settings: settings, password: password, logger: Self.logger,
                                                    maximumConnections: maximumConnections, body)
    }

    /// A client on the `postgres` database, for what tests do around the app's tables.
    private func withAdmin<Result: Sendable>(_ body: @Sendable (PostgresClient) async throws -> Result) async throws -> Result {
        let settings = PostgresSettings(user: user, host: "127.0.0.1", port: port, database: "postgres", tls: .disable)
        let engine = PostgresEngine(settings: settings, password: password, logger: Self.logger, maximumConnections: 1)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await engine.run() }
            defer { group.cancelAll() }
            return try await body(engine.client)
        }
    }

    static let logger = Logger(label: "postgres-test") { _ in SwiftLogNoOpLogHandler() }

    /// Runs a PostgreSQL program to its end (as `postgres` when we are root); throws with its
    /// output when it fails.
    ///
    /// Spawned directly, not through Foundation's `Process`: `pg_ctl start` leaves the server
    /// running, and the server would inherit the descriptor `Process` watches for its child's
    /// end, so `waitUntilExit` would wait for the server. Here the child keeps no descriptor but
    /// its output file (and gets no blocked signals, which the test threads have).
    @discardableResult
    private static func run(_ program: String, _ arguments: [String]) throws -> String {
        let argv = geteuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", "\(binaries)/\(program)"] + arguments
                                  : ["\(binaries)/\(program)"] + arguments
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("emmy-pg-\(UUID().uuidString).out").path
        defer { unlink(log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        for fd in inheritedDescriptors() { posix_spawn_file_actions_addclose(&actions, fd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, environ)
        guard spawned == 0 else { throw Failure(what: "cannot start \(argv[0]): \(String(cString: strerror(spawned)))", output: "") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        // Exited normally with 0: the low 7 bits (the signal) and the exit code both 0.
        guard status == 0 else { throw Failure(what: "\(program) failed (wait status \(status))", output: output) }
        return output
    }

    /// This process's descriptors above stderr that an exec would keep open (no FD_CLOEXEC),
    /// such as the ends of pipes other tests' `Process`es use at this moment.
    private static func inheritedDescriptors() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap(Int32.init).filter { fd in
            guard fd > 2 else { return false }
            let flags = fcntl(fd, F_GETFD)
            return flags >= 0 && flags & FD_CLOEXEC == 0
        }
    }
}

/// Starts one cluster for the suite it marks and stops it after the suite's last test.
struct PostgresClusterTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let cluster = try PostgresCluster.start()
        defer { cluster.stop() }
        try await PostgresCluster.$running.withValue(cluster) { try await function() }
    }
}

extension Trait where Self == PostgresClusterTrait {
    /// A throw-away PostgreSQL cluster for the suite: `PostgresCluster.current` in its tests.
    static var postgresCluster: Self { PostgresClusterTrait() }
}
