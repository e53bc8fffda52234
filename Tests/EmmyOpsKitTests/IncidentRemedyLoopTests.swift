import EmmyApp
@testable import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The two other faults of the closed loop, with the same real parts as `IncidentClosedLoopTests`
/// (`LoopStack`): the SMS provider failing, and a bad release deployed over real sshd.
@Suite("Closed loop: provider outage and bad deploy", .serialized)
struct IncidentRemedyLoopTests {
    /// The outage: the Twilio stand-in answers 500, messages use up their attempts and fail,
    /// `EmmyHighMessageFailureRate` fires. Automation diagnoses, leaves sending running (a 5xx
    /// is not a credentials problem, so `pause_sending` declines) and tells people. The provider
    /// recovers, the operator retries the batch's failures as the runbook says, new traffic
    /// flows, the alert resolves. Every message reaches the provider exactly once.
    @Test("provider outage: high failure rate → diagnose + notify → provider recovers → resolved; nothing lost or sent twice",
          .timeLimit(.minutes(3)))
    func providerOutage() async throws {
        try await SendingCrashTests.withTwilio { twilio in
            var setup = LoopStack.Setup()
            setup.app = """
              rate_limits: { messages: 100/second }
              provider:
            \(SendingCrashTests.twilioProvider(twilio))
              sending:
                workers: 4
                max_attempts: 2
                backoff_base: 50ms
                backoff_max: 100ms
            """
            // 50%: the failures stay in the rule's 15 m window, so it resolves once more is
            // sent than failed, which the retried and the new messages do.
            setup.alerts = "  app_down: { for: 1s }\n  high_failure_rate: { for: 1s, threshold: 50%, severity: warning }"
            setup.environment = ["TWILIO_ACCOUNT_SID": twilio.accountSID, "TWILIO_AUTH_TOKEN": twilio.authToken]
            try await LoopStack.with(setup) { stack in
                let app = Client(url: stack.appURL)
                twilio.fault = .serverError
                let fault = Date()
                let outage = try app.post(20, from: 0)
                _ = try await app.wait(["failed": 20])
                let firing = try await stack.waitForNotification("firing", count: 1, alertname: "EmmyHighMessageFailureRate")
                let notified = try await poll("the playbook's notice at the on-call webhook", timeout: .seconds(60), every: .milliseconds(50)) {
                    stack.incidentNotices("action").first { $0["kind"] as? String == "high_failure_rate" }.map { _ in Date() }
                }
                // The notice reaches the webhook before the notify step records its outcome (and
                // before Slack's post, the step's second receiver): wait for the step to finish.
                let run = try await poll("the run's notify step to finish", timeout: .seconds(30), every: .milliseconds(50)) {
                    try stack.ledger().runs().first { $0.kind == "high_failure_rate" && $0.steps.allSatisfy { ![.pending, .running].contains($0.state) } }
                }
                #expect(run.host == "local" && run.steps.map(\.name) == [.diagnose, .pauseSending, .notify], "\(run)")
                #expect(run.steps.map(\.state) == [.ok, .skipped, .ok], "\(run.steps.map { "\($0.name): \($0.state) \($0.detail ?? "")" })")
                #expect(!SendingPause(dataDirectory: stack.root + "/shared").isPaused, "a 5xx outage must not pause sending")

                // What people were told: the generic webhook's and Slack's documented shapes.
                let notice = try #require(stack.incidentNotices("action").first { $0["kind"] as? String == "high_failure_rate" })
                #expect(notice["alert"] as? String == "EmmyHighMessageFailureRate" && notice["host"] as? String == "local")
                #expect(notice["severity"] as? String == "warning" && notice["dedup_key"] as? String == "emmyops-incident/high_failure_rate/local")
                let summary = notice["summary"] as? String ?? ""
                #expect(summary.contains("diagnose: ") && summary.contains("pause_sending: not paused: no auth refusal"), "\(summary)")
                let slack = LoopStack.bodies(stack.slackLog).compactMap { $0["text"] as? String }
                    .filter { $0.hasPrefix("[action] EmmyHighMessageFailureRate on local: ") }
                #expect(slack.count == 1 && slack[0].contains("pause_sending: not paused"), "\(slack)")
                #expect(LoopStack.bodies(stack.slackLog).contains { $0["channel"] as? String == "#ops" })

                // The provider is back: the failures are retried, and traffic resumes.
                twilio.fault = .none
                let recovered = Date()
                _ = try app.retryFailed(batch: outage)
                _ = try app.post(20, from: 1000)
                _ = try await app.wait(["sent": 40])
                let resolved = try await stack.waitForNotification("resolved", count: 1, alertname: "EmmyHighMessageFailureRate", timeout: .seconds(90))
                print(String(format: "incident provider outage: fault->firing %.2fs fault->notified %.2fs recovery->resolved %.2fs",
                             firing.timeIntervalSince(fault), notified.timeIntervalSince(fault), resolved.timeIntervalSince(recovered)))
                #expect(twilio.duplicates.isEmpty, "sent twice: \(twilio.duplicates)")
                #expect(twilio.distinctAccepted == 40 && twilio.acceptedCount == 40, "lost or doubled: \(twilio.acceptedCount) for \(twilio.distinctAccepted)")
                #expect(stack.incidentAudit().allSatisfy { !["incident.restart", "incident.rollback"].contains($0.action) })
            }
        }
    }
}

extension IncidentRemedyLoopTests {
    /// A release whose schema change broke inserts: it starts, passes /health and /ready (so the
    /// deploy's gate lets it through), and answers every POST /messages with a 500. It is the
    /// real binary behind a wrapper (as deploy tests make their releases) that runs it on a copy
    /// of the data with a trigger refusing inserts, kept in the release's own folder, so the
    /// break leaves with the release when it is rolled back.
    static let brokenInsertsRelease = """
    #!/bin/sh
    real=@EMMYOPS@
    [ "$1" = supervise ] || exec "$real" "$@"
    private="$(dirname "$0")/data"
    mkdir -p "$private"
    swap=0
    for arg in "$@"; do
      shift
      if [ "$swap" = 1 ]; then shared="$arg"; arg="$private"; swap=0; fi
      if [ "$arg" = --data-dir ]; then swap=1; fi
      set -- "$@" "$arg"
    done
    python3 - "$shared/emmy.sqlite" "$private/emmy.sqlite" <<'PY'
    import sqlite3, sys
    source, copy = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
    source.backup(copy)
    copy.execute("CREATE TRIGGER IF NOT EXISTS broken_insert BEFORE INSERT ON message BEGIN SELECT RAISE(ABORT, 'broken by this release'); END")
    copy.commit()
    PY
    exec "$real" "$@"
    """

    @Test("bad deploy over real sshd: high error rate → rollback to the previous release over SSH → resolved",
          .enabled(if: SSHHosts.missing.isEmpty || SSHHosts.required, "\(SSHHosts.skipReason)"), .timeLimit(.minutes(3)))
    func badDeployIsRolledBack() async throws {
        try await SSHHosts.with(1) { fleet in
            let host = fleet.hosts[0]
            let release = fleet.dir.appendingPathComponent("broken-inserts").path
            try Self.brokenInsertsRelease.replacingOccurrences(of: "@EMMYOPS@", with: ShellQuote.quote(CLI.binary))
                .write(toFile: release, atomically: true, encoding: .utf8)
            chmod(release, 0o755)
            var setup = LoopStack.Setup()
            setup.deployed = fleet
            setup.app = "  rate_limits: { messages: 1000/second }\n  provider: { kind: log }"
            // 50%: the 500s stay in the rule's 5 m window, so it resolves once the good release
            // has answered as many requests as the bad one failed.
            setup.alerts = "  app_down: { for: 1s }\n  high_error_rate: { for: 1s, threshold: 50% }"
            setup.prepare = { stack in
                let v1 = try fleet.emmyops(["deploy", "--host", host.name, "--version", "v1"], spec: stack.specPath)
                try #require(v1.status == 0, "\(v1.stdout)\n\(v1.stderr)")
            }
            try await LoopStack.with(setup) { stack in
                let v2 = try fleet.emmyops(["deploy", "--host", host.name, "--version", "v2", "--artifact", release], spec: stack.specPath)
                try #require(v2.status == 0, "\(v2.stdout)\n\(v2.stderr)")
                let layout = ReleaseLayout(root: host.root)

                // The dry run plans the rollback (a deploy just finished) and touches nothing.
                let auditBefore = FileManager.default.contents(atPath: layout.audit)
                let servingBefore = ReleaseState.read(layout.state("v2"))?.pid
                let plan = try CLI.run(["incident", "handle", "high_error_rate", "--host", host.name, "--dry-run",
                                        "--spec", stack.specPath, "--data-dir", stack.dataDir], in: stack.dir)
                #expect(plan.status == 0 && plan.stdout.contains("2. rollback [destructive]: would run"), "\(plan.stdout)\(plan.stderr)")
                #expect(FileManager.default.contents(atPath: layout.audit) == auditBefore, "the dry run wrote to the host's audit log")
                #expect(fleet.current(host) == "v2" && ReleaseState.read(layout.state("v2"))?.pid == servingBefore)
                #expect(try stack.ledger().runs().isEmpty, "the dry run started a run")

                // The fault: traffic reaches the bad release.
                let load = Load(url: stack.appURL + "/messages")
                let fault = Date()
                defer { load.stop() }
                let firing = try await stack.waitForNotification("firing", count: 1, alertname: "EmmyHighErrorRate")
                let remedy = try await stack.waitForStep(.rollback, count: 1)
                let resolved = try await stack.waitForNotification("resolved", count: 1, alertname: "EmmyHighErrorRate", timeout: .seconds(90))
                load.stop()
                print(String(format: "incident bad deploy: fault->firing %.2fs fault->remedy %.2fs fault->resolved %.2fs",
                             firing.timeIntervalSince(fault), remedy.timeIntervalSince(fault), resolved.timeIntervalSince(fault)))

                #expect(fleet.current(host) == "v1" && HostActivation.readActive(layout)?.version == "v1")
                let rollback = AuditLog.read(layout.audit).last
                #expect(rollback?.action == "rollback" && rollback?.from == "v2" && rollback?.to == "v1" && rollback?.who == "emmyops-incident", "\(String(describing: rollback))")
                let run = try #require(try stack.ledger().runs().first { $0.kind == "high_error_rate" })
                #expect(run.host == host.name && run.steps.map(\.state) == [.ok, .ok, .ok], "\(run.steps.map { "\($0.name): \($0.state) \($0.detail ?? "")" })")
                #expect(stack.incidentAudit().map(\.action) == ["incident.diagnose", "incident.rollback"], "\(stack.incidentAudit())")
                // Done over SSH by the host's own binary: the bundle was written on the host, under its data directory.
                #expect(run.steps.first?.detail?.contains("(bundle \(host.name):\(host.root)/shared/incident/bundles/") == true, "\(run.steps.first?.detail ?? "")")

                // Sending paused and resumed by hand over SSH: the switch flips on the host, and
                // each flip is a line in the host's audit log.
                func flip(_ verb: String) throws -> CLI.Result {
                    try CLI.run(["incident", verb, "--host", host.name, "--spec", stack.specPath, "--data-dir", stack.dataDir], in: stack.dir)
                }
                let pause = try flip("pause-sending")
                #expect(pause.status == 0 && pause.stdout.hasPrefix("changed: paused sending on \(host.name)"), "\(pause.stdout)\(pause.stderr)")
                #expect(SendingPause(dataDirectory: layout.shared).isPaused)
                let resume = try flip("resume-sending")
                #expect(resume.status == 0 && resume.stdout.hasPrefix("changed: resumed sending on \(host.name)"), "\(resume.stdout)\(resume.stderr)")
                #expect(!SendingPause(dataDirectory: layout.shared).isPaused)
                #expect(stack.incidentAudit().suffix(2).map { "\($0.action) \($0.alert) \($0.result)" } ==
                        ["incident.pause_sending manual ok", "incident.resume_sending manual ok"], "\(stack.incidentAudit())")
                let outcomes = load.outcomes()
                #expect(outcomes.contains { $0 >= 500 } && outcomes.suffix(5).allSatisfy { (200..<300).contains($0) }, "\(outcomes.suffix(20))")
            }
        }
    }
}

/// Posts one contact at a time to `url` from a background thread until stopped, at a steady
/// `perSecond` as users would (a failing release answers faster; the traffic does not follow),
/// keeping each status.
final class Load: @unchecked Sendable {
    private let lock = NSLock()
    private var statuses: [Int] = []
    private var running = true

    init(url: String, perSecond: Double = 20) {
        Thread.detachNewThread { [self] in
            let start = Date()
            var index = 0
            while lock.withLock({ running }) {
                index += 1
                // Pacing, not synchronisation: the next request leaves at its slot, or at once when late.
                Thread.sleep(until: start.addingTimeInterval(Double(index) / perSecond))
                let body = "{\"message\":\"Load {name}\",\"contacts\":[{\"phone\":\"+2547\(String(format: "%08d", 20_000_000 + index))\",\"name\":\"n\(index)\"}]}"
                let status = (try? HTTPProbe.request(url, method: "POST", body: body, timeout: 5).get().status) ?? 0
                lock.withLock { statuses.append(status) }
            }
        }
    }

    func stop() { lock.withLock { running = false } }
    func outcomes() -> [Int] { lock.withLock { statuses } }
}

/// The app's API as a client uses it: batches, their statuses, retries.
struct Client {
    let url: String

    /// Posts `count` contacts (each text unique) and returns the batch id.
    func post(_ count: Int, from first: Int) throws -> String {
        let contacts = (first..<first + count).map { "{\"phone\":\"+254712\(String(format: "%06d", $0))\",\"name\":\"c\($0)\"}" }
        let body = "{\"message\":\"Hello {name}, your parcel is here.\",\"contacts\":[\(contacts.joined(separator: ","))]}"
        let answer = try HTTPProbe.request(url + "/messages", method: "POST", body: body, timeout: 30).get()
        let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
        let id = json?["batch_id"] as? String ?? json?["id"] as? String
        return try #require(id, "POST /messages answered \(answer.status): \(answer.body.prefix(300))")
    }

    func retryFailed(batch: String) throws -> Int {
        let answer = try HTTPProbe.request(url + "/api/batches/\(batch)/retry-failed", method: "POST", body: "{}", timeout: 30).get()
        let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
        return try #require(json?["requeued"] as? Int, "retry-failed answered \(answer.status): \(answer.body.prefix(300))")
    }

    /// Messages by status, from /health.
    func statuses() -> [String: Int]? {
        guard case .success(let answer) = HTTPProbe.request(url + "/health"), answer.status == 200,
              let json = try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any] else { return nil }
        return json["messages"] as? [String: Int]
    }

    /// Until every status of `expected` has at least its count.
    func wait(_ expected: [String: Int], timeout: Duration = .seconds(60)) async throws -> [String: Int] {
        try await poll("messages \(expected)", timeout: timeout, every: .milliseconds(100)) {
            guard let counts = statuses() else { return nil }
            return expected.allSatisfy { (counts[$0.key] ?? 0) >= $0.value } ? counts : nil
        }
    }
}
