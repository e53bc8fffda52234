import EmmyApp
@testable import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The whole loop with real parts: EmmyApp under `emmyops supervise`, real Prometheus and
/// Alertmanager on the *rendered* configs (1 s scrape and evaluation), `emmyops incident serve`
/// as the receiver, and a Python listener standing in for the on-call webhook.
///
/// The fault is one the supervisor alone does not repair: the app crashes twice in a row,
/// which spends the supervisor's crash budget (1 restart), so it stays up reporting `failed`.
@Suite("Closed loop: fault → Prometheus → Alertmanager → incident serve → remedy", .serialized)
struct IncidentClosedLoopTests {
    @Test("app down is repaired by the playbook and the alert resolves", .timeLimit(.minutes(3)))
    func appDownIsRepaired() async throws {
        // scripts/bench/incident-mttr.py asks for more cycles on the same stack.
        let cycles = Int(ProcessInfo.processInfo.environment["EMMY_MTTR_RUNS"] ?? "1") ?? 1
        try await LoopStack.with(.init(attempts: cycles + 2)) { stack in
            var figures: [[Double]] = []
            for cycle in 1...cycles {
                let fault = try await stack.crashLoop()
                let firing = try await stack.waitForNotification("firing", count: cycle)
                let remedy = try await stack.waitForRestart(count: cycle)
                let resolved = try await stack.waitForNotification("resolved", count: cycle)
                let row = [firing, remedy, resolved].map { $0.timeIntervalSince(fault) }
                figures.append(row)
                print(String(format: "incident mttr: cycle %d fault->firing %.2fs fault->remedy %.2fs fault->resolved %.2fs", cycle, row[0], row[1], row[2]))
                try await stack.waitUntilHealthy()
            }
            let audit = stack.incidentAudit()
            #expect(audit.filter { $0.action == "incident.restart" && $0.result == "ok" }.count == cycles, "\(audit)")
            #expect(stack.escalations().isEmpty)
            // Resolution never restarted anything: every restart precedes its alert's resolution.
            let ledger = try stack.ledger()
            for run in try ledger.runs() {
                #expect(run.state == .done, "run \(run.id): \(run.state) \(run.note ?? "")")
            }
            #expect(figures.allSatisfy { $0[2] < 60 })
            try stack.operatorCommandsWork()
        }
    }

    @Test("without Prometheus, incident monitor runs the same playbook", .timeLimit(.minutes(2)))
    func monitorRepairsWithoutPrometheus() async throws {
        try await LoopStack.with(.init(attempts: 3, monitor: true)) { stack in
            _ = try await stack.crashLoop()
            _ = try await stack.waitForRestart(count: 1)
            try await stack.waitUntilHealthy()
            let run = try #require(try stack.ledger().runs().first)
            #expect(run.kind == "app_down" && run.host == "local" && run.summary.hasPrefix("monitor: "), "\(run)")
        }
    }

    @Test("flapping five times: exactly three restarts, one escalation, then nothing until ack", .timeLimit(.minutes(4)))
    func flappingFreezesAfterTheBudget() async throws {
        try await LoopStack.with(.init(attempts: 3)) { stack in
            for cycle in 1...3 {
                _ = try await stack.crashLoop()
                _ = try await stack.waitForRestart(count: cycle)
                _ = try await stack.waitForNotification("resolved", count: cycle)
                try await stack.waitUntilHealthy()
            }
            // Fourth time: the budget is spent, so automation escalates and freezes.
            _ = try await stack.crashLoop()
            _ = try await poll("one escalation at the listener", timeout: .seconds(60)) { stack.escalations().first }
            let ledger = try stack.ledger()
            #expect(try ledger.openFreeze(kind: .appDown, host: "local") != nil)
            // A person repairs it by hand; the alert resolves.
            try stack.sighupSupervisor()
            _ = try await stack.waitForNotification("resolved", count: 4)
            try await stack.waitUntilHealthy()
            // Fifth time: frozen, nothing happens and nobody is paged again.
            _ = try await stack.crashLoop()
            _ = try await stack.waitForNotification("firing", count: 5)
            _ = try await poll("the fifth run to be refused as frozen", timeout: .seconds(30)) {
                try ledger.runs().filter { $0.state == .frozen }.count >= 2 ? () : nil
            }
            #expect(stack.incidentAudit().filter { $0.action == "incident.restart" && $0.result == "ok" }.count == 3)
            #expect(stack.escalations().count == 1)
            #expect(try stack.supervisorState() == .failed, "nothing restarted the app while frozen")

            let ack = try CLI.run(["incident", "ack", "app_down", "--host", "local", "--spec", stack.specPath, "--data-dir", stack.dataDir], in: stack.dir)
            #expect(ack.status == 0 && ack.stdout.contains("automation resumed on 1 host(s)"), "\(ack.stdout)\(ack.stderr)")
            let plan = try CLI.run(["incident", "handle", "app_down", "--dry-run", "--spec", stack.specPath, "--data-dir", stack.dataDir], in: stack.dir)
            #expect(plan.stdout.contains("2. restart [destructive]: would run"), "\(plan.stdout)")
        }
    }
}
