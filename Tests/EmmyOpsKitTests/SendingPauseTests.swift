@testable import EmmyOpsKit
import Foundation
import Testing

/// `emmyops incident pause-sending|resume-sending` against a real `emmyops serve` sending to the
/// Twilio stand-in: the automation's rule (pause only when the provider refuses the
/// credentials), the switch itself (nothing claimed while paused, everything kept queued), the
/// gauge, and the audit lines.
@Suite(.serialized) struct SendingPauseTests {
    @Test("a provider refusing the credentials pauses sending; while paused nothing is sent; resume sends each message once",
          .timeLimit(.minutes(2)))
    func pauseHoldsTheQueueUntilResume() async throws {
        try await SendingCrashTests.withTwilio { twilio in
            let dir = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            // The spec host `local` has its root at `dir`; its app data directory (<root>/shared)
            // is the one `serve --data-dir` uses.
            try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("shared").path,
                                                       withDestinationPath: dir.appendingPathComponent("data").path)
            let serve = try SendingCrashTests.serve(dir, spec: { port in
                SendingCrashTests.spec(port: port, provider: SendingCrashTests.twilioProvider(twilio)) +
                    "hosts:\n  - { name: local, address: 127.0.0.1, roles: [app, monitoring], root: \(SSHHosts.yamlString(dir.path)) }\n"
            }, environment: ["TWILIO_ACCOUNT_SID": twilio.accountSID, "TWILIO_AUTH_TOKEN": twilio.authToken])
            let server = try await serve.start("serve")
            defer { server.stop() }
            func incident(_ arguments: [String]) throws -> CLI.Result {
                try CLI.run(["incident"] + arguments + ["--host", "local", "--spec", serve.specPath, "--data-dir", dir.appendingPathComponent("incident").path], in: dir)
            }
            func batch(_ count: Int, from first: Int) -> String {
                let contacts = (first..<first + count).map { "{\"phone\":\"+254711\(String(format: "%06d", $0))\",\"name\":\"c\($0)\"}" }
                return "{\"message\":\"Hello {name}, your code is ready.\",\"contacts\":[\(contacts.joined(separator: ","))]}"
            }

            // Nothing has failed yet: the automation's pause refuses.
            let early = try incident(["pause-sending", "--if-auth-refused"])
            #expect(early.status == 0 && early.stdout.hasPrefix("unchanged: not paused: no auth refusal"), "\(early.stdout)\(early.stderr)")

            // The account's token was rotated: every attempt answers 401 (20003) and fails.
            twilio.fault = .unauthorized
            _ = try serve.post(batch(5, from: 0))
            _ = try await serve.waitAll(5, "failed", server: server, timeout: .seconds(30))
            let paused = try incident(["pause-sending", "--if-auth-refused", "--reason", "token rotated"])
            #expect(paused.status == 0 && paused.stdout.hasPrefix("changed: paused sending on local (token rotated; the provider refused the credentials: 5 × 20003)"),
                    "\(paused.stdout)\(paused.stderr)")
            func gauge() -> Double? {
                let line = try? HTTPProbe.request("http://127.0.0.1:\(serve.port)/metrics").get().body.split(separator: "\n").first { $0.hasPrefix("emmy_sending_paused ") }
                return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
            }
            #expect(gauge() == 1)

            // Credentials fixed, but still paused: new messages are accepted and stay queued.
            twilio.fault = .none
            let requestsBefore = twilio.requestCount
            let answer = try serve.post(batch(20, from: 100))
            #expect(answer["accepted"] as? Int == 20, "\(answer)")
            // Absence can only be observed over a window: two seconds is twenty idle polls of the workers.
            let held = Date().addingTimeInterval(2)
            while Date() < held {
                #expect(twilio.requestCount == requestsBefore, "a paused app sent to the provider")
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(serve.statuses()?["queued"] == 20, "\(serve.statuses() ?? [:])")

            let resumed = try incident(["resume-sending"])
            #expect(resumed.status == 0 && resumed.stdout.hasPrefix("changed: resumed sending on local (paused since "), "\(resumed.stdout)\(resumed.stderr)")
            let counts = try await serve.waitAll(20, "sent", server: server, timeout: .seconds(30))
            #expect(counts["failed"] == 5 && counts["queued"] == nil, "\(counts)")
            #expect(twilio.duplicates.isEmpty && twilio.distinctAccepted == 20 && twilio.acceptedCount == 20)
            let again = try incident(["resume-sending"])
            #expect(again.status == 0 && again.stdout.hasPrefix("unchanged: sending on local was not paused"), "\(again.stdout)")
            #expect(gauge() == 0)

            let audit = IncidentAuditEntry.read(dir.appendingPathComponent("shared/audit.log").path).map { "\($0.action) \($0.result)" }
            #expect(audit == ["incident.pause_sending skipped", "incident.pause_sending ok", "incident.resume_sending ok", "incident.resume_sending skipped"], "\(audit)")
        }
    }
}
