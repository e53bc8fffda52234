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
                let run = try #require(try stack.ledger().runs().first { $0.kind == "high_failure_rate" })
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
