@testable import EmmyOpsKit
import Foundation
import Testing

/// A backup taken while EmmyApp ingests 200,000 contacts (4 POSTs of 50,000) and sends to the
/// loopback Twilio stand-in: the snapshot is consistent (integrity_check) and restores to exactly
/// the rows its manifest counts. The test stops the ingest once the backup is verified. Timing-sensitive (an in-process provider, a race with the ingest): it runs
/// in its own group in scripts/test.sh.
@Suite(.serialized) struct BackupUnderLoadTests {
    static let posts = 4
    static let perPost = 50_000

    @Test(.timeLimit(.minutes(4)))
    func backupDuringA200kIngestWithSendingRestoresConsistently() async throws {
        let world = try BackupWorld(messages: 1)
        defer { world.remove() }
        try await SendingCrashTests.withTwilio { twilio in
            let serve = try SendingCrashTests.serve(world.root, spec: { port in
                SendingCrashTests.spec(port: port, provider: SendingCrashTests.twilioProvider(twilio))
                    + "\nbackup:\n  target: file://\(world.targetDirectory)\n  recipients: [\(world.recipient)]\n"
            }, environment: ["TWILIO_ACCOUNT_SID": twilio.accountSID, "TWILIO_AUTH_TOKEN": twilio.authToken])
            let server = try await serve.start("serve-under-load")
            defer { server.stop() }

            // The ingest: 4 × 50,000 contacts, one POST after another, on its own thread.
            let ingest = Ingest()
            Thread.detachNewThread {
                for post in 0..<Self.posts where !ingest.stopped {
                    let contacts = (0..<Self.perPost).map { index in
                        "{\"phone\":\"+2547\(String(format: "%08d", post * Self.perPost + index))\",\"name\":\"c\(index)\"}"
                    }
                    let body = "{\"message\":\"Hello {name}, batch \(post).\",\"contacts\":[\(contacts.joined(separator: ","))]}"
                    let answer = HTTPProbe.request("http://127.0.0.1:\(serve.port)/messages", method: "POST", body: body, timeout: 180)
                    ingest.finished(answer.map { "\($0.status)" })
                }
            }
            // Back up once the first batch is stored and sending is under way, while the rest comes in.
            try await poll("the first batch stored and sending active", timeout: .seconds(120), every: .milliseconds(50)) { () -> Bool? in
                try server.checkAlive()
                return ingest.answers.count >= 1 && twilio.acceptedCount > 0 ? true : nil
            }
            let sentBefore = twilio.acceptedCount
            let created = try world.backup(["create", "--format", "json"], identity: false)
            let answersAfter = ingest.answers.count
            #expect(created.status == 0, "\(created.stderr)")
            let manifest = try BackupJSON.decoder().decode(BackupManifest.self, from: Data(created.stdout.utf8))

            let total = 1 + Self.posts * Self.perPost
            let counted = try #require(manifest.tables["message"])
            // Taken mid-ingest: at least the first batch, and not everything.
            #expect(counted >= 1 + Self.perPost && (counted < total || answersAfter < Self.posts),
                    "the snapshot holds \(counted) of \(total) messages")
            #expect(manifest.integrityCheck == "ok")

            // Restored to a scratch file: integrity_check passes and every table holds exactly the
            // rows the manifest counts (verify fails otherwise).
            let verified = try world.backup(["verify", manifest.id])
            #expect(verified.status == 0, "\(verified.stdout)\n\(verified.stderr)")
            // Sending goes on (its status writes queue behind the ingest's, so not necessarily
            // within the create itself).
            _ = try await poll("sending going on after the backup", timeout: .seconds(60), every: .milliseconds(100)) { () -> Bool? in
                try server.checkAlive()
                return twilio.acceptedCount > sentBefore ? true : nil
            }
            // The rest of the ingest is not needed: what was answered so far was accepted whole.
            let answers = ingest.stop()
            #expect(answers.allSatisfy { $0 == "202" }, "\(answers)")
            print("backup under load: \(counted) of \(total) messages in the snapshot, \(manifest.snapshotBytes) bytes, \(twilio.acceptedCount - sentBefore) sent meanwhile")
        }
    }

    /// The ingest thread's answers, read by the test, and its stop flag.
    final class Ingest: @unchecked Sendable {
        private let lock = NSLock()
        private var _answers: [String] = []
        private var _stopped = false
        var answers: [String] { lock.withLock { _answers } }
        var stopped: Bool { lock.withLock { _stopped } }
        func finished(_ answer: Result<String, HTTPProbe.Failure>) {
            lock.withLock { if !_stopped { _answers.append((try? answer.get()) ?? "\(answer)") } }
        }
        /// No further POSTs; the answers so far.
        func stop() -> [String] { lock.withLock { _stopped = true; return _answers } }
    }
}
