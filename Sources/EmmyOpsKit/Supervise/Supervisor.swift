import Foundation

/// The supervision policy as a pure state machine: it takes what happened (an event, at a time)
/// and answers with what to do (actions). No processes, signals or clocks inside, so every
/// policy decision is unit-tested without sleeping; `SupervisorRunner` does the plumbing.
public struct Supervisor: Sendable {
    public enum Event: Sendable, Equatable {
        case start
        case spawned(pid: Int32)
        /// The executable could not be started at all; counted as a crash.
        case spawnFailed
        case exited(pid: Int32, ChildExit)
        /// The backoff delay asked for by `.scheduleRestart` has passed.
        case restartDue
        /// The drain timeout asked for by `.scheduleKill` has passed.
        case killDue(pid: Int32)
        case health(pid: Int32, ok: Bool)
        /// SIGTERM or SIGINT: drain the child, then exit.
        case terminate
        /// SIGHUP: stop the child gracefully and start it again at once.
        case hangup
    }

    public enum Action: Sendable, Equatable {
        case spawn
        case signal(pid: Int32, signal: Int32)
        case scheduleRestart(after: PromDuration)
        case scheduleKill(pid: Int32, after: PromDuration)
        case exit(Int32)
    }

    /// Why the supervisor is stopping the current child.
    private enum Intent: Sendable { case none, restart, healthRestart, shutdown }

    public private(set) var state: SupervisorState
    private let settings: SuperviseSettings
    private var backoff: Backoff
    private var budget: CrashBudget
    private var intent = Intent.none
    private var healthySince: Date?

    public init(settings: SuperviseSettings, pid: Int32, version: String, startedAt: Date) {
        self.settings = settings
        state = SupervisorState(pid: pid, startedAt: startedAt, version: version)
        backoff = Backoff(initial: settings.backoffInitial, maximum: settings.backoffMax)
        budget = CrashBudget(limit: settings.crashRestarts, window: settings.crashWindow)
    }

    public mutating func handle(_ event: Event, at now: Date) -> [Action] {
        defer { state.restartsInWindow = budget.count(at: now) }
        switch event {
        case .start:
            state.state = .starting
            return [.spawn]

        case .spawned(let pid):
            state.childPID = pid
            state.state = .starting
            resetHealth(to: .unknown)
            return []

        case .spawnFailed:
            state.lastExit = .init(.code(127), at: now)
            return crashed(at: now)

        case .exited(let pid, let status):
            guard pid == state.childPID else { return [] }
            state.childPID = nil
            state.lastExit = .init(status, at: now)
            resetHealth(to: .unknown)
            let why = intent
            intent = .none
            switch why {
            case .shutdown:
                intent = .shutdown
                state.state = .stopped
                return [.exit(0)]
            case .restart:
                state.state = .starting
                return [.spawn]
            case .healthRestart, .none:
                return crashed(at: now)
            }

        case .restartDue:
            guard state.state == .backoff else { return [] }
            state.state = .starting
            return [.spawn]

        case .killDue(let pid):
            guard pid == state.childPID else { return [] }
            return [.signal(pid: pid, signal: SIGKILL)]

        case .health(let pid, let ok):
            guard pid == state.childPID, intent == .none, [.starting, .running].contains(state.state) else { return [] }
            if ok {
                resetHealth(to: .ok)
                state.state = .running
                let since = healthySince ?? now
                healthySince = since
                if now.timeIntervalSince(since) >= settings.crashWindow.seconds { backoff.reset() }
                return []
            }
            state.consecutiveHealthFailures += 1
            state.health = .failing
            guard state.consecutiveHealthFailures >= settings.healthFailures else { return [] }
            intent = .healthRestart
            state.state = .stopping
            return stop(pid)

        case .terminate:
            guard let pid = state.childPID else {
                intent = .shutdown
                state.state = .stopped
                return [.exit(0)]
            }
            // A second SIGTERM/SIGINT while draining means "now".
            if intent == .shutdown { return [.signal(pid: pid, signal: SIGKILL)] }
            intent = .shutdown
            state.state = .stopping
            return stop(pid)

        case .hangup:
            guard intent == .none else { return [] }
            guard let pid = state.childPID else {
                // Backing off or failed: the operator asks for a fresh start.
                budget.reset()
                backoff.reset()
                state.state = .starting
                return [.spawn]
            }
            intent = .restart
            state.state = .stopping
            return stop(pid)
        }
    }

    /// A child ended without being asked to: restart it after the backoff, unless the crash
    /// budget is spent, in which case stay up as `failed` so the state can be read.
    private mutating func crashed(at now: Date) -> [Action] {
        if let since = healthySince, now.timeIntervalSince(since) >= settings.crashWindow.seconds { backoff.reset() }
        healthySince = nil
        guard budget.spend(at: now) else {
            state.state = .failed
            return []
        }
        state.restarts += 1
        state.state = .backoff
        return [.scheduleRestart(after: backoff.next())]
    }

    /// SIGTERM, then SIGCONT so a stopped (SIGSTOP) child receives it, then SIGKILL after the drain timeout.
    private func stop(_ pid: Int32) -> [Action] {
        [.signal(pid: pid, signal: SIGTERM), .signal(pid: pid, signal: SIGCONT),
         .scheduleKill(pid: pid, after: settings.drainTimeout)]
    }

    private mutating func resetHealth(to health: SupervisorState.Health) {
        state.health = health
        state.consecutiveHealthFailures = 0
    }
}
