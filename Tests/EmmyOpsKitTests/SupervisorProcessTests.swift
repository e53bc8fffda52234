@testable import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `emmyops supervise` and `emmyops status` as built, with the real `serve` child on loopback:
/// real processes and signals, waits by polling with deadlines.
@Suite(.serialized) struct SupervisorProcessTests {
    /// Fast settings so a test's backoffs and probes take fractions of a second.
    static let spec = """
    version: 1
    supervise:
      backoff_initial: 200ms
      backoff_max: 1s
      crash_budget: {restarts: 3, window: 60s}
      health_interval: 250ms
      health_failures: 4
      drain_timeout: 10s
    """

    /// One supervisor in a temporary directory; tearing it down leaves no process behind.
    final class Run {
        let directory: URL
        let port: Int
        let dataDir: String
        let stateFile: String
        let supervisor: ProcessHarness
        private var children: Set<Int32> = []

        init(port: Int? = nil, reusing previous: Run? = nil) throws {
            directory = try previous?.directory.appendingPathComponent("successor") ?? CLI.temporaryDirectory()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            self.port = try previous?.port ?? port ?? LoopbackPorts.pick(1)[0]
            dataDir = previous?.dataDir ?? directory.appendingPathComponent("shared").path
            stateFile = dataDir + "/supervise.json"
            let specPath = directory.appendingPathComponent("emmy.yaml").path
            try SupervisorProcessTests.spec.write(toFile: specPath, atomically: true, encoding: .utf8)
            supervisor = try ProcessHarness(name: "supervise", executable: CLI.binary,
                                            arguments: ["supervise", "--spec", specPath, "--data-dir", dataDir, "--port", "\(self.port)"],
                                            logDirectory: directory)
        }

        deinit {
            // A supervisor that is gone cannot stop its child: do it first, then stop the supervisor.
            if let pid = state?.pid, !SupervisorStatus.isAlive(pid) { killChildren() }
            supervisor.stop(grace: .seconds(15))
            killChildren()
            try? FileManager.default.removeItem(at: directory)
        }

        /// Whatever happened, no child outlives the test.
        private func killChildren() {
            for pid in children where kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }

        var state: SupervisorState? {
            FileManager.default.contents(atPath: stateFile).flatMap { try? SupervisorState.decode($0) }
        }

        /// Waits until the state file satisfies `condition`; notes every child pid it names.
        @discardableResult
        func wait(for what: String, timeout: Duration = .seconds(20), _ condition: @escaping (SupervisorState) -> Bool) async throws -> SupervisorState {
            do {
                return try await poll(what, timeout: timeout) { () -> SupervisorState? in
                    guard let state else { return nil }
                    if let child = state.childPID { children.insert(child) }
                    return condition(state) ? state : nil
                }
            } catch {
                Issue.record("\(error)\n\(supervisor.logTail())\nstate: \(state.map { String(describing: $0) } ?? "none")")
                throw error
            }
        }

        func ready() -> Bool {
            if case .success(200) = HTTPProbe.request("http://127.0.0.1:\(port)/ready", timeout: 2).map(\.status) { return true }
            return false
        }

        /// Waits for a healthy child that answers /ready, and returns its pid.
        func runningChild(otherThan previous: Int32? = nil) async throws -> Int32 {
            let state = try await wait(for: "a healthy child other than \(previous.map(String.init) ?? "none")") {
                $0.state == .running && $0.health == .ok && $0.childPID != nil && $0.childPID != previous
            }
            _ = try await poll("/ready on port \(port)", timeout: .seconds(10)) { ready() ? true : nil }
            return state.childPID!
        }

        func status(_ arguments: [String] = []) throws -> CLI.Result {
            try CLI.run(["status", "--data-dir", dataDir] + arguments, in: directory)
        }

        /// The supervisor's pid, as its state file records it (never 0: kill(0, …) would hit the test's group).
        func supervisorPID() throws -> Int32 {
            let pid = try #require(state?.pid)
            try #require(pid > 1)
            return pid
        }

        /// The supervisor's exit status once it has exited, else nil.
        var supervisorExit: Int32? {
            do { try supervisor.checkAlive(); return nil } catch let exited as ProcessHarness.Exited { return exited.status } catch { return nil }
        }
    }

    static func json(_ result: CLI.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)\(result.stderr)")
    }

    @Test func killNineBringsANewChildBackWithinTheBackoff() async throws {
        let run = try Run()
        let first = try await run.runningChild()
        // The contract the deploy relies on: the same binary, `serve`, and only the flags given.
        #expect(ProcessTable.arguments(first) == [CLI.binary, "serve", "--spec", run.directory.appendingPathComponent("emmy.yaml").path,
                                                  "--data-dir", run.dataDir, "--port", "\(run.port)"])
        let killed = ContinuousClock.now
        kill(first, SIGKILL)
        let second = try await run.runningChild(otherThan: first)
        let downtime = ContinuousClock.now - killed
        #expect(second != first)
        #expect(kill(first, 0) == -1 && errno == ESRCH, "the killed child was reaped, not left a zombie")

        let state = try #require(run.state)
        #expect(state.restarts == 1 && state.restartsInWindow == 1)
        #expect(state.lastExit?.status == .signal(SIGKILL))
        let status = try run.status(["--format", "json"])
        #expect(status.status == 0, "\(status.stdout)\(status.stderr)")
        let json = try Self.json(status)
        #expect(json["restarts"] as? Int == 1 && json["state"] as? String == "running" && json["supervisor_alive"] as? Bool == true)
        #expect((json["last_exit"] as? [String: Any])?["signal"] as? Int == 9)
        #expect(json["child_pid"] as? Int == Int(second))
        // How fast is measured by scripts/bench/supervise-restart.py, not asserted: on a busy
        // two-core machine the wall time says more about the machine than the backoff (which
        // SupervisorPolicyTests pins exactly).
        print("supervise: back on /ready \(downtime) after kill -9")
    }

    @Test func aChildThatCannotStartSpendsTheBudgetAndStatusSaysFailed() async throws {
        // A realistic start-up failure: something else already holds the port.
        let blocker = try PortBlocker()
        let run = try Run(port: blocker.port)
        let failed = try await run.wait(for: "state failed") { $0.state == .failed }
        #expect(failed.restarts == 3 && failed.restartsInWindow == 3 && failed.childPID == nil)
        #expect(failed.lastExit?.status == .code(2), "serve exits 2 (an unusable environment) when it cannot bind")
        #expect(run.supervisor.isRunning, "the supervisor stays up so its state can be read")

        let text = try run.status()
        #expect(text.status == 1)
        #expect(text.stdout.contains("supervisor: failed") && text.stdout.contains("last exit: exit code 2"), "\(text.stdout)")
        #expect(text.stdout.contains("restarts: 3 in total"))
        let json = try Self.json(try run.status(["--format", "json"]))
        #expect(json["state"] as? String == "failed")

        // SIGTERM still ends a failed supervisor cleanly.
        kill(try run.supervisorPID(), SIGTERM)
        _ = try await poll("supervisor exit", timeout: .seconds(10)) { run.supervisorExit }
        #expect(run.supervisorExit == 0)
    }

    @Test func aChildThatStopsAnsweringHealthIsRestarted() async throws {
        let run = try Run()
        let frozen = try await run.runningChild()
        kill(frozen, SIGSTOP)
        // Wait for the outcome, not the short-lived `failing` state in between, which a poll
        // on a busy machine can miss: a restart with no crash and no signal from the test can
        // only come from the failed probes.
        _ = try await run.wait(for: "a restart after failing health", timeout: .seconds(90)) { $0.restarts >= 1 && $0.childPID != frozen }
        let replacement = try await run.runningChild(otherThan: frozen)
        #expect(replacement != frozen)
        let state = try #require(run.state)
        #expect(state.restarts == 1)
        // SIGTERM + SIGCONT let the frozen child drain and exit by itself.
        #expect(state.lastExit?.status == .code(0), "\(String(describing: state.lastExit))")
        #expect(kill(frozen, 0) == -1 && errno == ESRCH)
    }

    @Test func sigtermDrainsAnInFlightRequestThenExitsZero() async throws {
        let run = try Run()
        let child = try await run.runningChild()
        // A request whose body is still arriving when SIGTERM lands. `Expect: 100-continue` makes
        // the handler say when it starts reading the body, so SIGTERM lands on a request the
        // server is already serving, not on bytes it has not read yet on a busy machine.
        let body = #"{"message":"hello","contacts":[{"phone":"+254712345678"}]}"#
        let head = "POST /messages HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nExpect: 100-continue\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
        let request = try HalfSentRequest(port: run.port, head: head, bodyStart: String(body.prefix(10)))
        kill(try run.supervisorPID(), SIGTERM)
        try await run.wait(for: "state stopping") { $0.state == .stopping || $0.state == .stopped }
        let answer = try request.finish(String(body.dropFirst(10)))
        #expect(answer.hasPrefix("HTTP/1.1 200") || answer.hasPrefix("HTTP/1.1 202"), "\(answer.prefix(300))")

        _ = try await poll("supervisor exit", timeout: .seconds(15)) { run.supervisorExit }
        #expect(run.supervisorExit == 0, "\(run.supervisor.logTail())")
        let state = try #require(run.state)
        #expect(state.state == .stopped && state.lastExit?.status == .code(0) && state.childPID == nil)
        #expect(kill(child, 0) == -1 && errno == ESRCH, "no orphan child")
        let status = try run.status()
        #expect(status.status == 1 && status.stdout.contains("supervisor: stopped"))
    }

    @Test func aKilledSupervisorLeavesAStaleFileAndItsSuccessorStopsTheOrphan() async throws {
        let run = try Run()
        let orphan = try await run.runningChild()
        kill(try run.supervisorPID(), SIGKILL)
        _ = try await poll("supervisor exit", timeout: .seconds(10)) { run.supervisorExit }
        let text = try run.status()
        #expect(text.status == 1 && text.stdout.contains("stopped (stale state"), "\(text.stdout)")
        #expect(run.ready(), "a SIGKILLed supervisor cannot stop its child: it still serves")

        // The next supervisor on the same data dir drains the orphan, which holds the port,
        // instead of crash-looping on it.
        let successor = try Run(reusing: run)
        let child = try await successor.runningChild(otherThan: orphan)
        #expect(!ProcessTable.isAlive(orphan))
        let state = try #require(successor.state)
        #expect(state.restarts == 0 && child != orphan)
        // The successor lives in the first run's directory: stop it before that is removed.
        withExtendedLifetime(run) { successor.supervisor.stop() }

        let missing = try CLI.run(["status", "--state-file", run.directory.appendingPathComponent("nope.json").path], in: run.directory)
        #expect(missing.status == 2 && missing.stderr.contains("no supervisor state"))
    }
}

/// Holds a loopback port open (bound and listening) so a server that wants it fails to start.
private final class PortBlocker {
    let port: Int
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else { close(fd); throw LoopbackPorts.Failure(description: "cannot hold a loopback port") }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

/// An HTTP request sent in two parts over a raw socket, to have one in flight at a chosen moment.
private final class HalfSentRequest {
    private let fd: Int32

    init(port: Int, head: String, bodyStart: String) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { close(fd); throw LoopbackPorts.Failure(description: "cannot connect to 127.0.0.1:\(port)") }
        try send(head)
        if head.contains("Expect: 100-continue") {
            let interim = try readHead()
            guard interim.hasPrefix("HTTP/1.1 100") else { throw LoopbackPorts.Failure(description: "expected 100 Continue, got \(interim)") }
        }
        try send(bodyStart)
    }

    /// Reads one response head, up to its blank line.
    private func readHead() throws -> String {
        var received: [UInt8] = []
        var byte: UInt8 = 0
        while !received.suffix(4).elementsEqual("\r\n\r\n".utf8) {
            guard recv(fd, &byte, 1, 0) == 1 else { throw LoopbackPorts.Failure(description: "no interim answer") }
            received.append(byte)
        }
        return String(decoding: received, as: UTF8.self)
    }

    deinit { close(fd) }

    private func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw LoopbackPorts.Failure(description: "send failed")
        }
    }

    /// Sends the rest of the body and reads the whole answer (the server closes after it).
    func finish(_ rest: String) throws -> String {
        try send(rest)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
