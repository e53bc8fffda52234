import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a `Supervisor` for real: spawns and reaps the child, turns signals, timers and health
/// probes into events on one serial queue, performs the actions, and writes the state file
/// after every event.
public final class SupervisorRunner: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Absolute path of the program to run, and its arguments (without argv[0]).
        public var executable: String
        public var arguments: [String]
        public var healthURL: String
        public var settings: SuperviseSettings
        public var stateFile: String
        public var version: String
        /// Runs before every start of the child, while none runs (a pending restore's swap);
        /// returns a line for the log, or nil.
        public var beforeStart: (@Sendable () -> String?)?

        public init(executable: String, arguments: [String], healthURL: String, settings: SuperviseSettings,
                    stateFile: String, version: String, beforeStart: (@Sendable () -> String?)? = nil) {
            self.executable = executable
            self.arguments = arguments
            self.healthURL = healthURL
            self.settings = settings
            self.stateFile = stateFile
            self.version = version
            self.beforeStart = beforeStart
        }
    }

    private let configuration: Configuration
    private let log: @Sendable (String) -> Void
    // Everything below is touched only on `queue`.
    private let queue = DispatchQueue(label: "emmyops.supervise")
    private var machine: Supervisor
    private var signalSources: [any DispatchSourceSignal] = []
    private var healthTimer: (any DispatchSourceTimer)?
    private var restartTimer: DispatchWorkItem?
    private var probeInFlight = false
    private var exitCode: Int32 = 0
    private var lastPersisted: SupervisorState?
    private let finished = DispatchSemaphore(value: 0)

    /// `log` receives one line per notable event (for the journal); libraries do not print.
    public init(_ configuration: Configuration, log: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.log = log
        machine = Supervisor(settings: configuration.settings, pid: getpid(), version: configuration.version, startedAt: Date())
    }

    /// Supervises until SIGTERM or SIGINT has stopped the child; returns the exit code.
    /// Throws at once when the state file cannot be written.
    public func run() throws -> Int32 {
        stopOrphan()
        try machine.state.write(to: configuration.stateFile)
        queue.sync {
            // libdispatch on Linux installs its own handlers; a signal arriving before this is
            // set up keeps its default action, which for SIGTERM is the exit it asked for.
            for (signal, event) in [(SIGTERM, Supervisor.Event.terminate), (SIGINT, .terminate), (SIGHUP, .hangup)] {
                let source = DispatchSource.makeSignalSource(signal: signal, queue: queue)
                source.setEventHandler { [self] in
                    log("received signal \(signal)")
                    handle(event)
                }
                source.resume()
                signalSources.append(source)
            }
            let timer = DispatchSource.makeTimerSource(queue: queue)
            let interval = DispatchTimeInterval.milliseconds(Int(configuration.settings.healthInterval.milliseconds))
            timer.schedule(deadline: .now() + interval, repeating: interval)
            timer.setEventHandler { [self] in probe() }
            timer.resume()
            healthTimer = timer
            handle(.start)
        }
        finished.wait()
        queue.sync {
            healthTimer?.cancel()
            restartTimer?.cancel()
            signalSources.forEach { $0.cancel() }
        }
        return exitCode
    }

    /// A supervisor killed with SIGKILL leaves its child running and holding the port, so the
    /// next supervisor with the same state file would crash-loop on it: stop that child first,
    /// as a graceful stop would have.
    private func stopOrphan() {
        guard let data = FileManager.default.contents(atPath: configuration.stateFile),
              let previous = try? SupervisorState.decode(data), previous.pid != getpid(),
              !ProcessTable.isEmmyOps(previous.pid, "supervise"),
              let orphan = previous.childPID, ProcessTable.isEmmyOps(orphan, "serve") else { return }
        log("stopping child \(orphan) left by supervisor \(previous.pid), which is gone")
        kill(orphan, SIGTERM)
        kill(orphan, SIGCONT)
        // Not our child, so no waitpid: watch it go, then SIGKILL after the drain timeout.
        let deadline = Date().addingTimeInterval(configuration.settings.drainTimeout.seconds)
        while ProcessTable.isAlive(orphan), Date() < deadline { usleep(20_000) }
        if ProcessTable.isAlive(orphan) {
            log("child \(orphan) still running after \(configuration.settings.drainTimeout); sending SIGKILL")
            kill(orphan, SIGKILL)
        }
    }

    private func handle(_ event: Supervisor.Event) {
        dispatchPrecondition(condition: .onQueue(queue))
        let actions = machine.handle(event, at: Date())
        persist()
        for action in actions { perform(action) }
    }

    private func perform(_ action: Supervisor.Action) {
        switch action {
        case .spawn:
            restartTimer?.cancel()
            restartTimer = nil
            if let line = configuration.beforeStart?() { log(line) }
            do {
                // Every signal at its default and none blocked: this process's threads handle them.
                let pid = try ProcessSpawn.spawn([configuration.executable] + configuration.arguments)
                log("started child \(pid)")
                handle(.spawned(pid: pid))
                reap(pid)
            } catch {
                log("cannot start \(configuration.executable): \(error)")
                handle(.spawnFailed)
            }
        case .signal(let pid, let signal):
            kill(pid, signal)
        case .scheduleRestart(let delay):
            log("restarting in \(delay) (\(machine.state.restartsInWindow) of \(configuration.settings.crashRestarts) restarts in \(configuration.settings.crashWindow))")
            let work = DispatchWorkItem { [self] in handle(.restartDue) }
            restartTimer = work
            queue.asyncAfter(deadline: .now() + .milliseconds(Int(delay.milliseconds)), execute: work)
        case .scheduleKill(let pid, let delay):
            queue.asyncAfter(deadline: .now() + .milliseconds(Int(delay.milliseconds))) { [self] in
                if machine.state.childPID == pid { log("child \(pid) still running after \(delay); sending SIGKILL") }
                handle(.killDue(pid: pid))
            }
        case .exit(let code):
            exitCode = code
            finished.signal()
        }
    }

    /// One thread per child blocks in waitpid(2), so every child is reaped (no zombies) and its
    /// exit reaches the machine as an event.
    private func reap(_ pid: Int32) {
        Thread.detachNewThread { [self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            let exit = ChildExit(waitStatus: status)
            queue.async { [self] in
                log("child \(pid) exited: \(exit)")
                handle(.exited(pid: pid, exit))
            }
        }
    }

    private func probe() {
        guard let pid = machine.state.childPID, !probeInFlight else { return }
        probeInFlight = true
        let url = configuration.healthURL
        let timeout = min(configuration.settings.healthInterval.seconds, 5)
        DispatchQueue.global().async { [self] in
            let ok = switch HTTPProbe.request(url, timeout: timeout) {
            case .success(let response): (200..<300).contains(response.status)
            case .failure: false
            }
            queue.async { [self] in
                probeInFlight = false
                let before = machine.state.health
                handle(.health(pid: pid, ok: ok))
                if machine.state.health != before { log("child \(pid) health: \(machine.state.health.rawValue)") }
            }
        }
    }

    private func persist() {
        guard machine.state != lastPersisted else { return }
        do {
            try machine.state.write(to: configuration.stateFile)
            lastPersisted = machine.state
        } catch {
            log("cannot write \(configuration.stateFile): \(error)")
        }
    }
}
