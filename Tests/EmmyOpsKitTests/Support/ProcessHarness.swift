import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process a test owns: output goes to a log file (a pipe nobody drains could block it),
/// and `stop()` always ends it, escalating from SIGTERM to SIGKILL.
final class ProcessHarness {
    let name: String
    let logURL: URL
    private let process = Process()

    init(name: String, executable: String, arguments: [String], logDirectory: URL, environment: [String: String]? = nil) throws {
        self.name = name
        logURL = logDirectory.appendingPathComponent("\(name).log")
        guard FileManager.default.createFile(atPath: logURL.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: logURL.path])
        }
        let log = try FileHandle(forWritingTo: logURL)
        defer { try? log.close() }  // the child keeps its own descriptor
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try SignalSafeSpawn(process).run()
    }

    var isRunning: Bool { process.isRunning }
    var pid: Int32 { process.processIdentifier }

    struct Exited: Error, CustomStringConvertible {
        var name: String
        var status: Int32
        var description: String { "\(name) exited early with status \(status)" }
    }

    /// Throws when the process has already exited, so a wait for it can fail at once.
    func checkAlive() throws {
        if !process.isRunning { throw Exited(name: name, status: process.terminationStatus) }
    }

    /// Ends the process and waits for it; safe to call more than once.
    func stop(grace: Duration = .seconds(5)) {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Kills the process with SIGKILL (no cleanup, as in a crash) and waits for it.
    func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The last lines of the log, for failure messages.
    func logTail(_ lines: Int = 15) -> String {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        let tail = text.split(separator: "\n").suffix(lines).joined(separator: "\n")
        return "--- \(name) (\(isRunning ? "running" : "exited")) ---\n\(tail)"
    }
}

/// Starts a `Process` from a fresh thread with no signals blocked.
///
/// A child inherits the spawning thread's signal mask, and under `swift test` the threads tests
/// run on block SIGTERM, SIGINT, SIGHUP and more: a child spawned straight from a test (python3,
/// a shell) then ignores `terminate()`. Go programs unblock their own signals, hiding the problem.
private final class SignalSafeSpawn: @unchecked Sendable {
    private let process: Process
    private var failure: Error?
    private let done = DispatchSemaphore(value: 0)

    init(_ process: Process) { self.process = process }

    func run() throws {
        Thread.detachNewThread { [self] in
            var none = sigset_t()
            sigemptyset(&none)
            pthread_sigmask(SIG_SETMASK, &none, nil)
            do { try process.run() } catch { failure = error }
            done.signal()
        }
        done.wait()
        if let failure { throw failure }
    }
}

/// Polls `probe` until it returns a value or `timeout` passes; the short sleep only paces the loop.
func poll<T>(_ what: String, timeout: Duration, every interval: Duration = .milliseconds(100),
             _ probe: () throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try probe() { return value }
        guard ContinuousClock.now < deadline else { throw PollTimeout(what: what, timeout: timeout) }
        try await Task.sleep(for: interval)
    }
}

struct PollTimeout: Error, CustomStringConvertible {
    var what: String
    var timeout: Duration
    var description: String { "timed out after \(timeout) waiting for \(what)" }
}
