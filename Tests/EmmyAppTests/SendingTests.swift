@testable import EmmyApp
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// The sending rules that need no provider: signatures, status order, backoff, throttle.
@Suite struct SendingRuleTests {
    /// Twilio's published request-validation vectors (FACTS.md).
    @Test func twilioSignatureMatchesPublishedVectors() {
        let parameters = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"), ("Digits", "1234"),
                          ("From", "+14158675309"), ("To", "+18005551212")]
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2"
        #expect(TwilioSignature.compute(url: url, parameters: parameters, authToken: "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        #expect(TwilioSignature.compute(url: "https://mycompany.com:443/myapp.php?foo=1&bar=2", parameters: parameters, authToken: "12345")
            == "kvajT1Ptam85bY51eRf/AJRuM3w=")
        // Either form of the URL validates either signature (Twilio signs the one it called).
        #expect(TwilioSignature.isValid("RSOYDt4T1cUTdK1PDd93/VVr8B8=", url: "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                                        parameters: parameters, authToken: "12345"))
        #expect(TwilioSignature.isValid("kvajT1Ptam85bY51eRf/AJRuM3w=", url: url, parameters: parameters, authToken: "12345"))
        #expect(!TwilioSignature.isValid("RSOYDt4T1cUTdK1PDd93/VVr8B9=", url: url, parameters: parameters, authToken: "12345"))
        #expect(!TwilioSignature.isValid("RSOYDt4T1cUTdK1PDd93/VVr8B8=", url: url, parameters: parameters, authToken: "54321"))
        #expect(!TwilioSignature.isValid("", url: url, parameters: parameters, authToken: "12345"))
    }

    @Test func statusesOnlyMoveForward() {
        #expect(MessageStatus.queued.canMove(to: .sending))
        #expect(MessageStatus.sending.canMove(to: .sent))
        #expect(MessageStatus.sent.canMove(to: .delivered))
        #expect(MessageStatus.sending.canMove(to: .failed))
        #expect(!MessageStatus.delivered.canMove(to: .sent))
        #expect(!MessageStatus.sent.canMove(to: .queued))
        #expect(!MessageStatus.delivered.canMove(to: .undelivered), "a final status is final")
        #expect(!MessageStatus.failed.canMove(to: .delivered))
        #expect(Set(MessageStatus.delivered.predecessors) == [.queued, .sending, .sent])
        #expect(MessageStatus.queued.predecessors.isEmpty)
        #expect(MessageStatus(twilio: "accepted") == .queued)
        #expect(MessageStatus(twilio: "receiving") == nil)
    }

    @Test func backoffIsFullJitterCappedAndHonoursRetryAfter() {
        let policy = RetryPolicy(maxAttempts: 5, maxAgeSeconds: 100, baseSeconds: 1, maxSeconds: 8)
        // The ceiling doubles per attempt up to the cap; the jitter draws anywhere under it.
        #expect(policy.delay(afterAttempts: 1, ageSeconds: 0, retryAfter: nil, random: { $0.upperBound }) == 1)
        #expect(policy.delay(afterAttempts: 3, ageSeconds: 0, retryAfter: nil, random: { $0.upperBound }) == 4)
        #expect(policy.delay(afterAttempts: 4, ageSeconds: 0, retryAfter: nil, random: { $0.upperBound }) == 8)
        #expect(policy.delay(afterAttempts: 2, ageSeconds: 0, retryAfter: nil, random: { $0.lowerBound }) == 0)
        for _ in 0..<100 {
            let wait = try! #require(policy.delay(afterAttempts: 3, ageSeconds: 0, retryAfter: nil))
            #expect((0...4).contains(wait))
        }
        #expect(policy.delay(afterAttempts: 1, ageSeconds: 0, retryAfter: 30, random: { $0.upperBound }) == 30)
        #expect(policy.delay(afterAttempts: 5, ageSeconds: 0, retryAfter: nil) == nil, "attempts used up")
        #expect(policy.delay(afterAttempts: 1, ageSeconds: 99.5, retryAfter: 2) == nil, "too old by the time it would run")
    }

    @Test func throttleSpacesSegmentsPerSenderAcrossCallers() async {
        let throttle = SendThrottle(segmentsPerSecond: 10)
        let now = ContinuousClock.now
        var waits: [Duration] = []
        for _ in 0..<10 { waits.append(await throttle.reserve(sender: "+15005550006", segments: 1, now: now)) }
        #expect(waits.first == .zero)
        #expect(waits.last == .milliseconds(900))
        // A two-segment message costs two slots; another sender has its own schedule.
        #expect(await throttle.reserve(sender: "+15005550006", segments: 2, now: now) == .seconds(1))
        #expect(await throttle.reserve(sender: "+15005550006", segments: 1, now: now) == .milliseconds(1200))
        #expect(await throttle.reserve(sender: "other", segments: 1, now: now) == .zero)
        #expect(await SendThrottle(segmentsPerSecond: 0).reserve(sender: "x", segments: 5) == .zero)
    }

    @Test func webhookSignatureIsHMACSHA256OverTimestampDotBody() {
        // Independently computed: printf '1700000000.{"id":1}' | openssl dgst -sha256 -hmac secret
        let signature = WebhookProvider.signature(timestamp: "1700000000", body: Data(#"{"id":1}"#.utf8), secret: Data("secret".utf8))
        #expect(signature == "3dd1b9aef568d75f6790a84bd2e5dfa1f44409eef3cbdbd3f10b837376100c11")
    }
}

/// Callbacks, opt-outs and retries through the router, on a fresh store (`TestStore`).
@Suite struct SendingRouterTests {
    static let token = "callback-token"
    static let publicURL = "https://emmy.example.com"

    struct Harness {
        let database: any AppStore
        let app: Application<RouterResponder<AppRequestContext>>

        init() async throws {
            var config = ServerConfig()
            config.rateLimits.messages = .init(count: 1000, period: 1)
            config.sending.publicURL = SendingRouterTests.publicURL
            config.environment = ["TWILIO_AUTH_TOKEN": SendingRouterTests.token]
            database = try await TestStore.make()
            var logger = Logger(label: "emmyapp-test")
            logger.logLevel = .critical
            app = Application(router: try EmmyServer.buildRouter(config: config, database: database, metrics: AppMetrics()), logger: logger)
        }

        func status(_ id: Int64) async throws -> String? {
            try await TestStore.message(id, in: database)?.status
        }
    }

    /// Queues messages through the API, then claims and records them as the worker pool would.
    static func queue(_ client: some TestClientProtocol, phones: [String]) async throws -> String {
        let contacts = phones.map { "{\"phone\":\"\($0)\"}" }.joined(separator: ",")
        return try await client.execute(uri: "/messages", method: .post, headers: [.contentType: "application/json"],
                                        body: ByteBuffer(string: "{\"message\":\"Hi\",\"contacts\":[\(contacts)]}")) { response in
            #expect(response.status == .accepted)
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
            return try #require(answer["batch_id"] as? String)
        }
    }

    static func signedForm(_ path: String, _ parameters: [(String, String)], token: String = token) -> (HTTPFields, ByteBuffer) {
        let signature = TwilioSignature.compute(url: publicURL + path, parameters: parameters, authToken: token)
        return ([.contentType: "application/x-www-form-urlencoded", HTTPField.Name("X-Twilio-Signature")!: signature],
                ByteBuffer(string: FormEncoding.encode(parameters)))
    }

    static func callback(_ client: some TestClientProtocol, sid: String, status: String, token: String = token) async throws -> HTTPResponse.Status {
        let (headers, body) = signedForm(SendingConfig.statusCallbackPath, [("MessageSid", sid), ("MessageStatus", status)], token: token)
        return try await client.execute(uri: SendingConfig.statusCallbackPath, method: .post, headers: headers, body: body) { $0.status }
    }

    @Test func outOfOrderCallbacksNeverMoveBackwardsAndBadSignaturesChangeNothing() async throws {
        let harness = try await Harness()
        try await harness.app.test(.router) { client in
            _ = try await Self.queue(client, phones: ["+254712345678", "+254712345679"])
            let queue = SendQueue(database: harness.database)
            let claimed = try await queue.claim(limit: 10)
            #expect(claimed.jobs.count == 2 && claimed.fresh == 2)
            let (first, second) = (claimed.jobs[0].message.id, claimed.jobs[1].message.id)
            #expect(try await harness.status(first) == "sending")

            // A callback that beats the record of the send is kept and applied when the send is recorded.
            #expect(try await Self.callback(client, sid: "SM2", status: "delivered") == .noContent)
            _ = try await queue.record([.accepted(id: first, providerID: "SM1", status: .sent, attempted: true),
                                        .accepted(id: second, providerID: "SM2", status: .sent, attempted: true)])
            #expect(try await harness.status(second) == "delivered")
            #expect(try await harness.status(first) == "sent")

            #expect(try await Self.callback(client, sid: "SM1", status: "delivered") == .noContent)
            #expect(try await harness.status(first) == "delivered")
            for late in ["sent", "sending", "queued", "undelivered", "failed"] {
                #expect(try await Self.callback(client, sid: "SM1", status: late) == .noContent)
                #expect(try await harness.status(first) == "delivered", "a late `\(late)` moved it")
            }
            // A retried callback is deduplicated.
            let effect = try await queue.applyCallback(providerID: "SM1", status: .delivered, errorCode: nil)
            #expect(effect == .duplicate)

            // Bad signature, wrong key, no signature: 403, nothing stored.
            _ = try await Self.queue(client, phones: ["+254712345670"])
            let third = try #require(try await queue.claim(limit: 10).jobs.first?.message.id)
            _ = try await queue.record([.accepted(id: third, providerID: "SM3", status: .sent, attempted: true)])
            #expect(try await Self.callback(client, sid: "SM3", status: "failed", token: "wrong") == .forbidden)
            let unsigned = try await client.execute(uri: SendingConfig.statusCallbackPath, method: .post,
                                                    headers: [.contentType: "application/x-www-form-urlencoded"],
                                                    body: ByteBuffer(string: "MessageSid=SM3&MessageStatus=failed")) { $0.status }
            #expect(unsigned == .forbidden)
            // A valid signature over different parameters.
            var (headers, _) = Self.signedForm(SendingConfig.statusCallbackPath, [("MessageSid", "SM3"), ("MessageStatus", "delivered")])
            headers[.contentLength] = nil
            let tampered = try await client.execute(uri: SendingConfig.statusCallbackPath, method: .post, headers: headers,
                                                    body: ByteBuffer(string: "MessageSid=SM3&MessageStatus=failed")) { $0.status }
            #expect(tampered == .forbidden)
            #expect(try await harness.status(third) == "sent")
            // Nothing was remembered: the genuine callback is news.
            #expect(try await queue.applyCallback(providerID: "SM3", status: .delivered, errorCode: nil) == .moved(.delivered))
        }
    }

    @Test func optOutsAreSuppressedAtIngestAndReportedAsSuch() async throws {
        let harness = try await Harness()
        try await harness.app.test(.router) { client in
            // Queued before the opt-out: canceled by it.
            _ = try await Self.queue(client, phones: ["+254712345678"])
            let added = try await client.execute(uri: "/api/optouts", method: .post, headers: [.contentType: "application/json"],
                                                 body: ByteBuffer(string: #"{"phones": ["0712345678"]}"#)) { response in
                #expect(response.status == .created)
                return try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Int])
            }
            #expect(added == ["added": 1, "canceled": 1])
            let bad = try await client.execute(uri: "/api/optouts", method: .post, headers: [.contentType: "application/json"],
                                               body: ByteBuffer(string: #"{"phones": ["+2547"]}"#)) { $0 }
            #expect(bad.status == .badRequest)
            #expect(String(buffer: bad.body).contains("phones[0]"))

            // STOP by reply, signed; a bad signature is refused.
            let stop = [("From", "+254712345679"), ("To", "+15005550006"), ("Body", " stop "), ("MessageSid", "SM9")]
            let (headers, body) = Self.signedForm("/webhooks/twilio/inbound", stop)
            #expect(try await client.execute(uri: "/webhooks/twilio/inbound", method: .post, headers: headers, body: body) { $0.status } == .ok)
            let (forged, forgedBody) = Self.signedForm("/webhooks/twilio/inbound", [("From", "+254712345670"), ("Body", "STOP")], token: "x")
            #expect(try await client.execute(uri: "/webhooks/twilio/inbound", method: .post, headers: forged, body: forgedBody) { $0.status } == .forbidden)

            try await client.execute(uri: "/messages", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: """
                {"message": "Hi again", "contacts": [{"phone": "+254712345678"}, {"phone": "+254712345679"}, {"phone": "+254712345670"}]}
                """)) { response in
                let answer = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(answer["accepted"] as? Int == 1)
                #expect(answer["rejected"] as? Int == 2)
                let kinds = (answer["errors"] as? [[String: Any]])?.compactMap { $0["kind"] as? String }
                #expect(kinds == ["opted_out", "opted_out"])
            }
        }
    }

    @Test func retryEndpointsRequeueOnlyWhatFailed() async throws {
        let harness = try await Harness()
        try await harness.app.test(.router) { client in
            let batch = try await Self.queue(client, phones: ["+254712345678", "+254712345679", "+254712345670"])
            let queue = SendQueue(database: harness.database)
            let jobs = try await queue.claim(limit: 10).jobs.map(\.message.id)
            _ = try await queue.record([.failed(id: jobs[0], code: "21211", reason: "invalid"),
                                        .failed(id: jobs[1], code: "21614", reason: "landline"),
                                        .accepted(id: jobs[2], providerID: "SM1", status: .sent, attempted: true)])
            #expect(try await TestStore.message(jobs[0], in: harness.database)?.errorCode == "21211")

            #expect(try await client.execute(uri: "/api/messages/\(jobs[0])/retry", method: .post) { $0.status } == .accepted)
            #expect(try await harness.status(jobs[0]) == "queued")
            #expect(try await client.execute(uri: "/api/messages/\(jobs[2])/retry", method: .post) { $0.status } == .conflict, "sent twice")
            #expect(try await client.execute(uri: "/api/messages/999999/retry", method: .post) { $0.status } == .notFound)
            let requeued = try await client.execute(uri: "/api/batches/\(batch)/retry-failed", method: .post) { response in
                #expect(response.status == .accepted)
                return (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])?["requeued"] as? Int
            }
            #expect(requeued == 1)
            #expect(try await harness.status(jobs[1]) == "queued")
            #expect(try await client.execute(uri: "/api/batches/nope/retry-failed", method: .post) { $0.status } == .notFound)
        }
    }
}

/// The worker pool against a scripted provider: what is retried, what is not, and restarts.
@Suite struct SendWorkerPoolTests {
    /// Answers by number: `+…0` permanent 21211, `+…1` two 500s then accepted, others accepted.
    actor ScriptedProvider: SMSProvider {
        nonisolated let name = "scripted"
        var calls: [String: Int] = [:]
        func send(_ message: OutgoingMessage) async -> SendResult {
            calls[message.to, default: 0] += 1
            if message.to.hasSuffix("0") { return .permanent(code: "21211", reason: "invalid To") }
            if message.to.hasSuffix("1"), calls[message.to]! <= 2 { return .retryable(code: "20500", reason: "HTTP 500", retryAfter: nil, ambiguous: false) }
            return .accepted(providerID: "SM-\(message.id)", status: .sent)
        }
    }

    @Test func permanentErrorsAreNeverRetriedTransientOnesAre() async throws {
        let database = try await TestStore.make()
        try await TestStore.queue(["+254712345670", "+254712345671", "+254712345672"], in: database)
        var config = SendingConfig()
        config.workers = 2
        config.backoffBaseSeconds = 0.01
        config.backoffMaxSeconds = 0.05
        let provider = ScriptedProvider()
        var logger = Logger(label: "pool-test")
        logger.logLevel = .critical
        let metrics = AppMetrics()
        let pool = SendWorkerPool(database: database, provider: provider, config: config, metrics: metrics, logger: logger,
                                  idleWait: .milliseconds(10))
        let running = Task { try await pool.run() }
        // A deadline, not a duration: the full suite starves the cooperative pool for minutes.
        let deadline = ContinuousClock.now + .seconds(240)
        struct State: Sendable, Equatable { var status: String; var attempts: Int; var errorCode: String? }
        var rows: [State] = []
        while ContinuousClock.now < deadline {
            rows = try await database.messages(MessageQuery()).sorted { $0.phone < $1.phone }.map {
                State(status: $0.status, attempts: $0.attempts, errorCode: $0.errorCode)
            }
            if rows.allSatisfy({ ["sent", "failed"].contains($0.status) }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        running.cancel()
        _ = try? await running.value
        #expect(rows.map(\.status) == ["failed", "sent", "sent"])
        #expect(rows[0].errorCode == "21211")
        #expect(rows[0].attempts == 1, "a permanent error is never retried")
        #expect(rows[1].attempts == 3, "two 500s, then accepted")
        #expect(await provider.calls == ["+254712345670": 1, "+254712345671": 3, "+254712345672": 1])
        let exposition = metrics.exposition()
        #expect(exposition.contains(#"emmy_send_retries_total{provider="scripted"} 2"#), "\(exposition)")
        #expect(exposition.contains(#"emmy_messages_total{status="failed"} 1"#))
    }

    @Test func aRestartLooksUpMessagesADeadRunLeftSending() async throws {
        let database = try await TestStore.make()
        try await TestStore.queue(["+254712345678"], in: database)
        let dead = SendQueue(database: database, runID: "dead")
        #expect(try await dead.claim(limit: 5).jobs.count == 1)
        let alive = SendQueue(database: database, runID: "alive")
        #expect(try await alive.claim(limit: 5).jobs.isEmpty, "another run's claim is not taken while it may be live")
        #expect(try await alive.recoverInDoubt() == 1)
        let job = try #require(try await alive.claim(limit: 5).jobs.first)
        #expect(job.inDoubt, "a message a crash left sending is looked up before it is resent")
    }
}
