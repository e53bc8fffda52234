@testable import EmmyOpsKit
import Foundation
import Testing

/// The engine's guards against a real ledger (SQLite in memory) and a host whose health the
/// test sets: what runs, what is refused, and what the ledger says afterwards.
@Suite("Incident engine: dedupe, resolution, budget, freeze, crash recovery")
struct IncidentEngineTests {
    static let yaml = """
    version: 1
    app: { name: emmy-test, port: 5999 }
    hosts:
      - { name: one, address: 127.0.0.1, roles: [app, monitoring] }
      - { name: two, address: 10.0.0.2, roles: [app] }
    incident:
      webhook: http://127.0.0.1:9095/alerts
      token_file: /dev/null
      budget: { attempts: 3, window: 30m, backoff_initial: 1ms, backoff_max: 1ms }
    notify:
      receivers:
        team: { webhook: { url: "http://127.0.0.1:9/hook" } }
      routes:
        critical: [team]
    """

    static func spec(_ text: String = yaml) throws -> Spec {
        let loaded = SpecLoader.load(text: text, file: "emmy.yaml")
        return try #require(loaded.spec, "\(loaded.diagnostics)")
    }

    struct Harness {
        let engine: IncidentEngine
        let ledger: IncidentLedger
        let host: FakeHost
        let notices: NoticeLog
    }

    static func harness(_ spec: Spec? = nil, ledger: IncidentLedger? = nil) throws -> Harness {
        let ledger = try ledger ?? IncidentLedger.inMemory()
        let host = FakeHost()
        let notices = NoticeLog()
        let engine = IncidentEngine(spec: try spec ?? Self.spec(), ledger: ledger, actions: host, bundles: NSTemporaryDirectory()) { notice in
            notices.append(notice)
            return "team/webhook ok"
        }
        return Harness(engine: engine, ledger: ledger, host: host, notices: notices)
    }

    static func appDown(_ status: String = "firing", startsAt: String = "2026-12-01T04:00:00.123456789Z", instance: String = "127.0.0.1:5999",
                        fingerprint: String = "f00d") -> AlertmanagerPayload {
        AlertmanagerPayload(status: status, alerts: [.init(status: status, labels: ["alertname": "EmmyAppDown", "severity": "critical", "instance": instance, "job": "emmy-test"],
                                                           annotations: ["summary": "EmmyApp is not answering Prometheus scrapes."],
                                                           startsAt: startsAt, fingerprint: fingerprint)])
    }

    /// Runs every runnable run, as the worker would.
    static func drain(_ engine: IncidentEngine) async {
        while await engine.runNext() {}
    }

    @Test func theSameNotificationTwiceStartsOnePlaybook() async throws {
        let h = try Self.harness()
        h.host.healthy = false
        h.host.healsOnRestart = true
        let first = try await h.engine.receive(Self.appDown())
        let second = try await h.engine.receive(Self.appDown())
        #expect(first.started == 1 && second.started == 0 && second.duplicates == 1)
        await Self.drain(h.engine)
        #expect(h.host.restarts == 1)
        let notifications = try h.ledger.notifications()
        #expect(notifications.count == 2, "both are recorded")
        #expect(notifications.map(\.duplicate) == [false, true])
        #expect(try h.ledger.runs().count == 1)
        #expect(try h.ledger.runs().first?.state == .done)
    }

    @Test func aResolvedAlertCancelsPendingStepsAndNeverRestarts() async throws {
        let h = try Self.harness()
        h.host.healthy = false
        _ = try await h.engine.receive(Self.appDown())
        let receipt = try await h.engine.receive(Self.appDown("resolved"))
        #expect(receipt.resolved == 1)
        await Self.drain(h.engine)
        #expect(h.host.restarts == 0)
        let run = try #require(try h.ledger.runs().first)
        #expect(run.state == .canceled)
        #expect(run.steps.allSatisfy { $0.state == .canceled })
        // A resolution on its own (its firing lost) starts nothing either.
        _ = try await h.engine.receive(Self.appDown("resolved", fingerprint: "beef"))
        _ = try await h.engine.receive(Self.appDown("firing", fingerprint: "beef"))
        await Self.drain(h.engine)
        #expect(h.host.restarts == 0)
        #expect(h.host.audited.allSatisfy { $0.action != "incident.restart" })
    }

    @Test func flappingFiveTimesRestartsThreeTimesEscalatesOnceThenWaitsForAck() async throws {
        let h = try Self.harness()
        h.host.healsOnRestart = true
        for occurrence in 1...5 {
            h.host.healthy = false
            _ = try await h.engine.receive(Self.appDown(startsAt: "2026-12-01T04:0\(occurrence):00Z"))
            await Self.drain(h.engine)
            // Between occurrences a person restarts it, so each occurrence finds it down again.
            h.host.healthy = true
        }
        #expect(h.host.restarts == 3)
        let escalations = h.notices.all.filter { $0.event == .escalation }
        #expect(escalations.count == 1)
        #expect(escalations.first?.summary.contains("budget spent") == true)
        #expect(escalations.first?.summary.contains("Diagnostics:") == true, "the escalation carries the diagnostics summary")
        #expect(try h.ledger.openFreeze(kind: .appDown, host: "one") != nil)
        #expect(try h.ledger.runs().map(\.state) == [.done, .done, .done, .frozen, .frozen])
        #expect(h.host.audited.filter { $0.result == "escalated" }.count == 1)

        #expect(try h.ledger.acknowledge(kind: .appDown, host: "one", by: "test") == 1)
        h.host.healthy = false
        _ = try await h.engine.receive(Self.appDown(startsAt: "2026-12-01T04:09:00Z"))
        await Self.drain(h.engine)
        #expect(h.host.restarts == 4, "ack gives automation a fresh budget")
    }

    @Test func theResolutionOfAnEscalatedAlertIsAnnouncedWithTheSameKey() async throws {
        let h = try Self.harness()
        h.host.healthy = false
        _ = try await h.engine.receive(Self.appDown(instance: "192.0.2.99:5999"))
        await Self.drain(h.engine)
        _ = try await h.engine.receive(Self.appDown("resolved", instance: "192.0.2.99:5999"))
        let resolved = try await poll("the resolved notice", timeout: .seconds(10)) { h.notices.all.first { $0.event == .resolved } }
        let escalation = try #require(h.notices.all.first { $0.event == .escalation })
        #expect(resolved.dedupKey == escalation.dedupKey)
        // An alert automation handled quietly resolves quietly.
        h.host.healsOnRestart = true
        _ = try await h.engine.receive(Self.appDown(fingerprint: "quiet"))
        await Self.drain(h.engine)
        _ = try await h.engine.receive(Self.appDown("resolved", fingerprint: "quiet"))
        try await Task.sleep(for: .milliseconds(200))
        #expect(h.notices.all.filter { $0.event == .resolved }.count == 1)
    }

    @Test func backoffDelaysTheNextAttempt() async throws {
        var spec = try Self.spec()
        spec.incident.budget.backoffInitial = .seconds(60)
        spec.incident.budget.backoffMax = .seconds(60)
        let h = try Self.harness(spec)
        h.host.healsOnRestart = true
        h.host.healthy = false
        _ = try await h.engine.receive(Self.appDown(startsAt: "2026-12-01T04:01:00Z"))
        await Self.drain(h.engine)
        h.host.healthy = false
        _ = try await h.engine.receive(Self.appDown(startsAt: "2026-12-01T04:02:00Z"))
        await Self.drain(h.engine)
        #expect(h.host.restarts == 1)
        let waiting = try #require(try h.ledger.runs().last)
        #expect(waiting.state == .pending)
        #expect(waiting.notBefore.timeIntervalSinceNow > 50)
        // Once the backoff has passed the run goes on.
        #expect(await h.engine.runNext(at: Date().addingTimeInterval(61)))
        #expect(h.host.restarts == 2)
    }

    @Test func anAlertForNoSingleHostEscalatesInsteadOfRestarting() async throws {
        let h = try Self.harness()
        h.host.healthy = false
        _ = try await h.engine.receive(Self.appDown(instance: "192.0.2.99:5999"))
        await Self.drain(h.engine)
        #expect(h.host.restarts == 0)
        let run = try #require(try h.ledger.runs().first)
        #expect(run.host == nil)
        #expect(run.state == .escalated)
        #expect(h.notices.all.map(\.event) == [.escalation])
        #expect(try h.ledger.freezes(open: true).isEmpty, "no host, nothing to freeze")
    }

    @Test func anInterruptedRestartIsUnknownAndTheAppIsLookedAtBeforeAnythingIsRedone() async throws {
        let ledger = try IncidentLedger.inMemory()
        let intake = IncidentLedger.Intake(alert: Self.appDown().alerts[0], kind: .appDown, host: "one",
                                           steps: [.check, .restart, .check, .notify], summary: "down")
        guard case .started(let runID) = try ledger.record(intake) else { Issue.record("no run"); return }
        let run = try #require(try ledger.run(runID))
        // The previous process checked, started the restart, and died.
        try ledger.markStep(run.steps[0].id, .failed, detail: "unhealthy")
        try ledger.markStep(run.steps[1].id, .running)
        try ledger.setRunState(runID, .running)

        let h = try Self.harness(ledger: ledger)
        h.host.healthy = true  // the restart did happen
        #expect(try ledger.recoverInterrupted() == 1)
        #expect(try ledger.run(runID)?.steps[1].state == .unknown)
        await Self.drain(h.engine)
        #expect(h.host.restarts == 0)
        #expect(try ledger.run(runID)?.state == .done)
        // The unknown restart counts against the budget: it may have happened.
        #expect(try ledger.remedyAttempts(kind: .appDown, host: "one", since: .distantPast).count == 1)
    }

    @Test func rollbackOnlyReturnsToThePreviousReleaseAfterARecentDeploy() async throws {
        let text = Self.yaml + "\ndeploy: { root: /srv/emmy }\n"
        let h = try Self.harness(try Self.spec(text))
        let errorRate = AlertmanagerPayload.Alert(status: "firing", labels: ["alertname": "EmmyHighErrorRate", "severity": "warning", "host": "one"],
                                                  startsAt: "2026-12-01T04:00:00Z", fingerprint: "e1")
        // A deploy two hours ago is not what broke it: no rollback.
        h.host.deploy = AuditEntry(who: "ci", when: Date().addingTimeInterval(-7200), host: "one", from: "v1", to: "v2", action: "deploy", result: "ok", durationS: 3)
        _ = try await h.engine.receive(AlertmanagerPayload(status: "firing", alerts: [errorRate]))
        await Self.drain(h.engine)
        #expect(!h.host.calls.contains { $0.hasPrefix("rollback") })
        #expect(try h.ledger.runs().last?.steps[1].detail?.contains("no deploy finished on one within 30m") == true)
        // Five minutes ago: back to the release it replaced.
        h.host.deploy = AuditEntry(who: "ci", when: Date().addingTimeInterval(-300), host: "one", from: "v1", to: "v2", action: "deploy", result: "ok", durationS: 3)
        var again = errorRate
        again.startsAt = "2026-12-01T04:30:00Z"
        _ = try await h.engine.receive(AlertmanagerPayload(status: "firing", alerts: [again]))
        await Self.drain(h.engine)
        #expect(h.host.calls.contains("rollback v1"))
        #expect(h.host.audited.contains { $0.action == "incident.rollback" && $0.result == "ok" })
    }

    @Test func theDryRunPlanShowsEachGuardAndChangesNothing() async throws {
        let h = try Self.harness()
        let plan = await h.engine.plan(kind: .highErrorRate, host: "one")
        #expect(plan.map(\.step) == ["diagnose", "rollback", "notify"])
        #expect(plan[1].destructive)
        #expect(plan[1].verdict.contains("no deploy: section"), "\(plan[1].verdict)")
        let noHost = await h.engine.plan(kind: .appDown, host: nil)
        #expect(noHost[1].verdict.hasPrefix("would escalate"), "\(noHost[1].verdict)")
        #expect(try h.ledger.runs().isEmpty)
        #expect(h.host.calls.isEmpty)
    }

    @Test("high failure rate: diagnose, pause sending only when the provider refuses the credentials, notify", arguments: [false, true])
    func highFailureRatePausesSendingOnlyOnAuthRefusals(authRefused: Bool) async throws {
        let h = try Self.harness()
        h.host.authRefused = authRefused
        let alert = AlertmanagerPayload(status: "firing", alerts: [.init(
            status: "firing", labels: ["alertname": "EmmyHighMessageFailureRate", "severity": "warning", "instance": "127.0.0.1:5999", "job": "emmy-test"],
            annotations: ["summary": "Too many messages fail to send or to be delivered."], startsAt: "2026-12-01T04:00:00Z", fingerprint: "fa11")])
        _ = try await h.engine.receive(alert)
        await Self.drain(h.engine)
        #expect(h.host.calls == ["diagnose", "pause_sending"])
        let run = try #require(try h.ledger.runs().first)
        #expect(run.state == .done, "\(run)")
        #expect(run.steps.map(\.name) == [.diagnose, .pauseSending, .notify])
        #expect(run.steps.map(\.state) == [.ok, authRefused ? .ok : .skipped, .ok])
        #expect(h.host.audited.first { $0.action == "incident.pause_sending" }?.result == (authRefused ? "ok" : "skipped"))
        let notice = try #require(h.notices.all.first)
        #expect(notice.summary.contains(authRefused ? "pause_sending: paused" : "pause_sending: not paused"), "\(notice.summary)")
        let plan = await h.engine.plan(kind: .highFailureRate, host: "one")
        #expect(plan.map(\.step) == ["diagnose", "pause_sending", "notify"])
        #expect(plan[1].verdict.contains("only if") && plan[1].verdict.contains("401/403"), "\(plan[1].verdict)")
    }

    @Test func unknownAlertsAreRefusedButRecordedAlongsideKnownOnes() async throws {
        let h = try Self.harness()
        let stranger = AlertmanagerPayload.Alert(status: "firing", labels: ["alertname": "SomethingElse"], startsAt: "2026-12-01T04:00:00Z", fingerprint: "aa")
        await #expect(throws: IncidentEngine.IntakeRefusal.self) {
            try await h.engine.receive(AlertmanagerPayload(status: "firing", alerts: [stranger]))
        }
        #expect(try h.ledger.notifications().isEmpty)
    }
}

// MARK: - A host whose health the test decides

/// Records what the engine asked of the host; `healthy` is what a check sees.
final class FakeHost: HostActions, @unchecked Sendable {
    private let lock = NSLock()
    private var _healthy = true
    private var _restarts = 0
    private var _calls: [String] = []
    private var _audited: [IncidentAuditEntry] = []
    var healsOnRestart = false

    var healthy: Bool {
        get { lock.withLock { _healthy } }
        set { lock.withLock { _healthy = newValue } }
    }
    var restarts: Int { lock.withLock { _restarts } }
    var calls: [String] { lock.withLock { _calls } }
    var audited: [IncidentAuditEntry] { lock.withLock { _audited } }

    private func note(_ call: String) { lock.withLock { _calls.append(call) } }

    func check(_ target: IncidentTarget, until seconds: Double) async -> HealthReport {
        note("check")
        let ok = healthy
        return HealthReport(host: target.host.name, health: ok ? 200 : nil, ready: ok ? 200 : nil, supervisor: ok ? "running" : "failed")
    }

    func restart(_ target: IncidentTarget) async throws -> String {
        note("restart")
        lock.withLock {
            _restarts += 1
            if healsOnRestart { _healthy = true }
        }
        return "restarted"
    }

    func diagnose(_ target: IncidentTarget, into directory: String) async throws -> (path: String, summary: String) {
        note("diagnose")
        return ("/tmp/bundle.tar.gz", "health no answer, supervisor failed")
    }

    func rollback(_ target: IncidentTarget, to version: String) async throws -> String {
        note("rollback \(version)")
        return "rolled back"
    }

    func cleanup(_ target: IncidentTarget) async throws -> String {
        note("cleanup")
        return "cleaned"
    }

    /// Whether the host's recent failures show the provider refusing the credentials.
    var authRefused = false

    func pauseSending(_ target: IncidentTarget, reason: String, onlyIfAuthRefused: Bool) async throws -> SendingSwitch.Outcome {
        note("pause_sending")
        let pause = !onlyIfAuthRefused || lock.withLock { authRefused }
        return SendingSwitch.Outcome(changed: pause, detail: pause ? "paused" : "not paused: no auth refusal")
    }

    func resumeSending(_ target: IncidentTarget) async throws -> SendingSwitch.Outcome {
        note("resume_sending")
        return SendingSwitch.Outcome(changed: true, detail: "resumed")
    }

    var deploy: AuditEntry? {
        get { lock.withLock { _deploy } }
        set { lock.withLock { _deploy = newValue } }
    }
    private var _deploy: AuditEntry?

    func lastDeploy(_ target: IncidentTarget) -> AuditEntry? { deploy }

    func audit(_ target: IncidentTarget, _ entry: IncidentAuditEntry) {
        lock.withLock { _audited.append(entry) }
    }
}

final class NoticeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var notices: [IncidentNotice] = []
    func append(_ notice: IncidentNotice) { lock.withLock { notices.append(notice) } }
    var all: [IncidentNotice] { lock.withLock { notices } }
}
