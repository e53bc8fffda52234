@testable import EmmyOpsKit
import Foundation
import Testing

/// The supervision policy, driven by events at chosen times: no processes, no sleeping.
@Suite struct SupervisorPolicyTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func settings(_ edit: (inout SuperviseSettings) -> Void = { _ in }) -> SuperviseSettings {
        var s = SuperviseSettings()
        s.backoffInitial = PromDuration(milliseconds: 500)
        s.backoffMax = .seconds(30)
        s.crashRestarts = 3
        s.crashWindow = .seconds(60)
        s.healthFailures = 2
        s.drainTimeout = .seconds(10)
        edit(&s)
        return s
    }

    /// A reference wrapper, so `#expect` (which cannot call mutating methods) can drive the machine.
    final class Machine {
        private var supervisor: Supervisor
        init(_ supervisor: Supervisor) { self.supervisor = supervisor }
        var state: SupervisorState { supervisor.state }
        func on(_ event: Supervisor.Event, at now: Date) -> [Supervisor.Action] { supervisor.handle(event, at: now) }
        func copy() -> Machine { Machine(supervisor) }
    }

    static func running(_ settings: SuperviseSettings = settings(), pid: Int32 = 100) -> Machine {
        let machine = Machine(Supervisor(settings: settings, pid: 1, version: "test", startedAt: t0))
        #expect(machine.on(.start, at: t0) == [.spawn])
        #expect(machine.on(.spawned(pid: pid), at: t0).isEmpty)
        return machine
    }

    @Test func backoffDoublesUpToTheCapAndResets() {
        var backoff = Backoff(initial: PromDuration(milliseconds: 500), maximum: .seconds(30))
        let delays = (0..<10).map { _ in backoff.next().milliseconds }
        #expect(delays == [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000])
        backoff.reset()
        let afterReset = backoff.next()
        #expect(afterReset == PromDuration(milliseconds: 500))
        var long = Backoff(initial: .seconds(1), maximum: .days(365))
        for _ in 0..<200 { _ = long.next() }
        let capped = long.next()
        #expect(capped == .days(365), "a long crash loop stays at the cap without overflowing")
    }

    @Test func crashBudgetSlidesWithItsWindow() {
        var budget = CrashBudget(limit: 2, window: .seconds(10))
        let t = Self.t0
        let spent = [budget.spend(at: t), budget.spend(at: t + 5), budget.spend(at: t + 9)]
        #expect(spent == [true, true, false], "a third restart within 10s is refused")
        #expect(budget.count(at: t + 9) == 2)
        let later = budget.spend(at: t + 10)
        #expect(later, "the first restart has left the window")
        #expect(budget.count(at: t + 10) == 2)
        #expect(budget.count(at: t + 100) == 0)
    }

    @Test func aCrashRestartsAfterTheBackoffAndRecordsTheExit() {
        let machine = Self.running()
        let actions = machine.on(.exited(pid: 100, .signal(SIGKILL)), at: Self.t0 + 1)
        #expect(actions == [.scheduleRestart(after: PromDuration(milliseconds: 500))])
        #expect(machine.state.state == .backoff && machine.state.restarts == 1 && machine.state.childPID == nil)
        #expect(machine.state.lastExit == .init(.signal(SIGKILL), at: Self.t0 + 1))
        #expect(machine.on(.restartDue, at: Self.t0 + 1.5) == [.spawn])
        _ = machine.on(.spawned(pid: 101), at: Self.t0 + 1.5)
        #expect(machine.on(.exited(pid: 101, .code(1)), at: Self.t0 + 2) == [.scheduleRestart(after: .seconds(1))])
    }

    @Test func aSpentBudgetFailsAndStaysUp() {
        let machine = Self.running()
        var pid: Int32 = 100
        for attempt in 1...3 {
            #expect(machine.on(.exited(pid: pid, .code(2)), at: Self.t0 + Double(attempt)).count == 1)
            pid += 1
            _ = machine.on(.restartDue, at: Self.t0 + Double(attempt))
            _ = machine.on(.spawned(pid: pid), at: Self.t0 + Double(attempt))
        }
        #expect(machine.on(.exited(pid: pid, .code(2)), at: Self.t0 + 4).isEmpty, "no restart, and no exit: status stays readable")
        #expect(machine.state.state == .failed && machine.state.restarts == 3 && machine.state.restartsInWindow == 3)
        #expect(machine.on(.restartDue, at: Self.t0 + 5).isEmpty)
        let terminated = machine.copy()
        #expect(terminated.on(.terminate, at: Self.t0 + 5) == [.exit(0)], "SIGTERM ends a failed supervisor at once")
        // SIGHUP retries a failed child with a fresh budget.
        #expect(machine.on(.hangup, at: Self.t0 + 6) == [.spawn])
        #expect(machine.state.restartsInWindow == 0 && machine.state.state == .starting)
    }

    @Test func healthFailuresInARowRestartTheChild() {
        let machine = Self.running()
        #expect(machine.on(.health(pid: 100, ok: true), at: Self.t0 + 1).isEmpty)
        #expect(machine.state.state == .running && machine.state.health == .ok)
        #expect(machine.on(.health(pid: 100, ok: false), at: Self.t0 + 2).isEmpty)
        #expect(machine.on(.health(pid: 100, ok: true), at: Self.t0 + 3).isEmpty, "a success resets the count")
        #expect(machine.on(.health(pid: 100, ok: false), at: Self.t0 + 4).isEmpty)
        #expect(machine.state.health == .failing && machine.state.consecutiveHealthFailures == 1)
        let stop = machine.on(.health(pid: 100, ok: false), at: Self.t0 + 5)
        #expect(stop == [.signal(pid: 100, signal: SIGTERM), .signal(pid: 100, signal: SIGCONT), .scheduleKill(pid: 100, after: .seconds(10))])
        #expect(machine.on(.killDue(pid: 100), at: Self.t0 + 15) == [.signal(pid: 100, signal: SIGKILL)])
        #expect(machine.on(.exited(pid: 100, .signal(SIGKILL)), at: Self.t0 + 15) == [.scheduleRestart(after: PromDuration(milliseconds: 500))])
        #expect(machine.state.restarts == 1)
        #expect(machine.on(.killDue(pid: 100), at: Self.t0 + 16).isEmpty, "a late timer for a gone child does nothing")
    }

    @Test func stayingHealthyForAWindowResetsTheBackoff() {
        let machine = Self.running(Self.settings { $0.crashRestarts = 100 })
        var pid: Int32 = 100
        for _ in 0..<3 {
            _ = machine.on(.exited(pid: pid, .code(1)), at: Self.t0)
            pid += 1
            _ = machine.on(.restartDue, at: Self.t0)
            _ = machine.on(.spawned(pid: pid), at: Self.t0)
        }
        _ = machine.on(.health(pid: pid, ok: true), at: Self.t0 + 1)
        _ = machine.on(.health(pid: pid, ok: true), at: Self.t0 + 61)
        #expect(machine.on(.exited(pid: pid, .code(1)), at: Self.t0 + 62) == [.scheduleRestart(after: PromDuration(milliseconds: 500))])
    }

    @Test func terminateDrainsThenExitsZero() {
        let machine = Self.running()
        #expect(machine.on(.terminate, at: Self.t0 + 1) ==
                [.signal(pid: 100, signal: SIGTERM), .signal(pid: 100, signal: SIGCONT), .scheduleKill(pid: 100, after: .seconds(10))])
        #expect(machine.state.state == .stopping)
        #expect(machine.on(.health(pid: 100, ok: false), at: Self.t0 + 2).isEmpty, "probes do not count while draining")
        #expect(machine.on(.hangup, at: Self.t0 + 2).isEmpty)
        #expect(machine.on(.terminate, at: Self.t0 + 2) == [.signal(pid: 100, signal: SIGKILL)], "a second SIGTERM means now")
        #expect(machine.on(.exited(pid: 100, .code(0)), at: Self.t0 + 3) == [.exit(0)])
        #expect(machine.state.state == .stopped && machine.state.restarts == 0)

        let backingOff = Self.running()
        _ = backingOff.on(.exited(pid: 100, .code(1)), at: Self.t0)
        #expect(backingOff.on(.terminate, at: Self.t0) == [.exit(0)])
        #expect(backingOff.on(.restartDue, at: Self.t0 + 1).isEmpty, "no restart after stopping")
    }

    @Test func hangupRestartsGracefullyWithoutSpendingTheBudget() {
        let machine = Self.running()
        #expect(machine.on(.hangup, at: Self.t0 + 1).first == .signal(pid: 100, signal: SIGTERM))
        #expect(machine.on(.exited(pid: 100, .code(0)), at: Self.t0 + 2) == [.spawn])
        #expect(machine.state.restarts == 0 && machine.state.restartsInWindow == 0)
    }

    @Test func theStateFileRoundTripsWithNullsAndExitKinds() throws {
        var state = SupervisorState(pid: 42, startedAt: Self.t0, version: "0.1.0")
        let empty = String(decoding: try state.json(), as: UTF8.self)
        #expect(empty.contains(#""child_pid" : null"#) && empty.contains(#""last_exit" : null"#) && empty.contains(#""state" : "starting""#))
        state.lastExit = .init(.signal(9), at: Self.t0)
        state.childPID = 43
        let text = String(decoding: try state.json(), as: UTF8.self)
        #expect(text.contains(#""signal" : 9"#) && !text.contains(#""code""#))
        #expect(try SupervisorState.decode(Data(text.utf8)) == state)

        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("supervise.json").path
        try state.write(to: path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["supervise.json"], "no temporary file left")
        #expect(ChildExit(waitStatus: 0x0100) == .code(1) && ChildExit(waitStatus: 9) == .signal(9))
    }

    @Test func specKeysReachTheModel() throws {
        let text = """
        version: 1
        supervise:
          backoff_initial: 250ms
          backoff_max: 10s
          crash_budget: {restarts: 7, window: 2m}
          health_interval: 1s
          health_failures: 4
          drain_timeout: 20s
        """
        let spec = try #require(SpecLoader.load(text: text, file: "emmy.yaml").spec)
        #expect(spec.supervise.backoffInitial == PromDuration(milliseconds: 250) && spec.supervise.backoffMax == .seconds(10))
        #expect(spec.supervise.crashRestarts == 7 && spec.supervise.crashWindow == .minutes(2))
        #expect(spec.supervise.healthInterval == .seconds(1) && spec.supervise.healthFailures == 4 && spec.supervise.drainTimeout == .seconds(20))
        #expect(try #require(SpecLoader.load(text: "version: 1", file: "emmy.yaml").spec).supervise == SuperviseSettings())
    }
}
