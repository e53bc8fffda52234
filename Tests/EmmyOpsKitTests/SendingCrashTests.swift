import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `emmyops serve` sending for real: killed with SIGKILL mid-send and restarted, and through a
/// provider outage. The provider is `TwilioTestServer`, which counts every message it accepts.
@Suite(.serialized) struct SendingCrashTests {
    /// A 20,000-contact batch with a unique text per contact, so duplicates are visible.
    static func batch(_ count: Int) -> String {
        let contacts = (0..<count).map { "{\"phone\":\"+254710\(String(format: "%06d", $0))\",\"name\":\"c\($0)\"}" }
        return "{\"message\":\"Hello {name}, your order is ready.\",\"contacts\":[\(contacts.joined(separator: ","))]}"
    }

    static func spec(port: Int, provider: String, sending: String = "") -> String {
        """
        version: 1
        app:
          port: \(port)
          rate_limits: { messages: 100/second }
          provider:
        \(provider)
          sending:
            workers: 16
            backoff_base: 50ms
            backoff_max: 1s
            max_attempts: 60
        \(sending)
        """
    }

    static func twilioProvider(_ twilio: TwilioTestServer) -> String {
        """
            kind: twilio
            twilio:
              from: "+15005550006"
              base_url: "\(twilio.baseURL)"
              account_sid: "${TWILIO_ACCOUNT_SID}"
              auth_token: "${TWILIO_AUTH_TOKEN}"
        """
    }

    struct Serve {
        var dir: URL
        var port: Int
        var specPath: String
        var environment: [String: String]

        func start(_ name: String) async throws -> ProcessHarness {
            let server = try ProcessHarness(name: name, executable: CLI.binary,
                                            arguments: ["serve", "--spec", specPath, "--port", "\(port)", "--data-dir", dir.appendingPathComponent("data").path],
                                            logDirectory: dir, environment: environment)
            try await poll("EmmyApp /ready", timeout: .seconds(30)) { () -> Bool? in
                do { try server.checkAlive() } catch { throw Failure(error, server.logTail()) }
                if case .success(200) = HTTPProbe.request("http://127.0.0.1:\(port)/ready").map(\.status) { return true }
                return nil
            }
            return server
        }

        func post(_ body: String) throws -> [String: Any] {
            let answer = try HTTPProbe.request("http://127.0.0.1:\(port)/messages", method: "POST", body: body, timeout: 120).get()
            let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
            return try #require(json, "POST /messages answered \(answer.status): \(answer.body.prefix(300))")
        }

        /// Messages by status, from /health.
        func statuses() -> [String: Int]? {
            guard case .success(let answer) = HTTPProbe.request("http://127.0.0.1:\(port)/health"), answer.status == 200,
                  let json = try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any] else { return nil }
            return json["messages"] as? [String: Int]
        }

        /// The sum of every series of a metric on /metrics.
        func metric(_ name: String, matching label: String = "") -> Double {
            guard case .success(let answer) = HTTPProbe.request("http://127.0.0.1:\(port)/metrics") else { return -1 }
            return answer.body.split(separator: "\n")
                .filter { $0.hasPrefix(name + "{") && (label.isEmpty || $0.contains(label)) }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
                .reduce(0, +)
        }

        /// Waits until every one of `count` messages reached `status`.
        func waitAll(_ count: Int, _ status: String, server: ProcessHarness, timeout: Duration) async throws -> [String: Int] {
            var last: [String: Int] = [:]
            do {
                return try await poll("\(count) messages \(status)", timeout: timeout, every: .milliseconds(250)) { () -> [String: Int]? in
                    do { try server.checkAlive() } catch { throw Failure(error, server.logTail()) }
                    guard let counts = statuses() else { return nil }
                    last = counts
                    return counts[status] == count ? counts : nil
                }
            } catch let timeout as PollTimeout {
                throw Failure(timeout, "last statuses: \(last)\n\(server.logTail())")
            }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ error: any Error, _ log: String) { description = "\(error)\n\(log)" }
    }

    static func serve(_ dir: URL, spec: (Int) -> String, environment: [String: String] = [:]) throws -> Serve {
        let port = try LoopbackPorts.pick(1)[0]
        let specPath = dir.appendingPathComponent("emmy.yaml").path
        try spec(port).write(toFile: specPath, atomically: true, encoding: .utf8)
        return Serve(dir: dir, port: port, specPath: specPath,
                     environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new })
    }

    static func withTwilio(_ body: (TwilioTestServer) async throws -> Void) async throws {
        let twilio = TwilioTestServer()
        try await twilio.start()
        do {
            try await body(twilio)
        } catch {
            await twilio.stop()
            throw error
        }
        await twilio.stop()
    }

    static let total = 20_000

    @Test func killedMidSendTwilioAcceptsEachMessageOnce() async throws {
        try await Self.withTwilio { twilio in
            let dir = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let serve = try Self.serve(dir, spec: { port in
                Self.spec(port: port, provider: Self.twilioProvider(twilio), sending: "    public_url: \"http://127.0.0.1:\(port)\"")
            }, environment: ["TWILIO_ACCOUNT_SID": twilio.accountSID, "TWILIO_AUTH_TOKEN": twilio.authToken])

            let first = try await serve.start("serve-1")
            defer { first.stop() }
            let answer = try serve.post(Self.batch(Self.total))
            #expect(answer["accepted"] as? Int == Self.total, "\(answer["message"] ?? answer)")
            // Kill it while it is sending: some accepted, most not yet.
            let atKill = try await poll("the provider to accept 2,000 messages", timeout: .seconds(120), every: .milliseconds(5)) { () -> Int? in
                let count = twilio.acceptedCount
                return count >= 2000 ? count : nil
            }
            first.kill9()
            #expect(atKill < Self.total, "the batch finished before the kill; the test proves nothing")

            let second = try await serve.start("serve-2")
            defer { second.stop() }
            let counts = try await serve.waitAll(Self.total, "delivered", server: second, timeout: .seconds(240))
            let log = try String(contentsOf: second.logURL, encoding: .utf8)
            let foundByLookup = log.components(separatedBy: "found an in-doubt message at the provider").count - 1
            let duplicates = twilio.duplicates
            print("""
                crash test (twilio): killed after the provider accepted \(atKill) of \(Self.total); \
                \(foundByLookup) in-doubt messages found by lookup and not resent; \
                provider accepted \(twilio.acceptedCount) for \(twilio.distinctAccepted) distinct messages; duplicates: \(duplicates.count)
                """)
            #expect(duplicates.isEmpty, "sent twice: \(duplicates.prefix(5))")
            #expect(twilio.distinctAccepted == Self.total)
            #expect(twilio.acceptedCount == Self.total)
            #expect(counts == ["delivered": Self.total], "\(counts)")
        }
    }

    @Test func killedMidSendLogProviderEndsTerminalAndReportsResends() async throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let serve = try Self.serve(dir, spec: { port in Self.spec(port: port, provider: "    kind: log") })
        let sendLog = dir.appendingPathComponent("data/sent.jsonl")
        func lines() -> [Substring] {
            ((try? String(contentsOf: sendLog, encoding: .utf8)) ?? "").split(separator: "\n")
        }

        let first = try await serve.start("serve-1")
        defer { first.stop() }
        let answer = try serve.post(Self.batch(Self.total))
        #expect(answer["accepted"] as? Int == Self.total, "\(answer["message"] ?? answer)")
        let atKill = try await poll("2,000 lines in the send log", timeout: .seconds(120), every: .milliseconds(2)) { () -> Int? in
            let size = (try? FileManager.default.attributesOfItem(atPath: sendLog.path)[.size] as? Int) ?? 0
            return size > 2000 * 100 ? size : nil
        }
        first.kill9()
        let linesAtKill = lines().count
        #expect(linesAtKill < Self.total, "the batch finished before the kill (\(atKill) bytes); the test proves nothing")

        let second = try await serve.start("serve-2")
        defer { second.stop() }
        let counts = try await serve.waitAll(Self.total, "delivered", server: second, timeout: .seconds(240))
        let all = lines()
        var perID: [Int: Int] = [:]
        for line in all {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            perID[try #require(object["id"] as? Int), default: 0] += 1
        }
        let resent = all.count - perID.count
        print("crash test (log): killed with \(linesAtKill) of \(Self.total) in the send log; \(resent) resent after the restart; \(perID.count) distinct")
        #expect(perID.count == Self.total)
        #expect(counts == ["delivered": Self.total], "\(counts)")
        // Only claimed-but-unrecorded messages can be resent: at most one claim batch plus the recorder's buffer.
        #expect(resent <= 1000, "\(resent) resent")
    }

    @Test func sigtermDrainsInFlightSendsSoARestartResendsNothing() async throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let serve = try Self.serve(dir, spec: { port in Self.spec(port: port, provider: "    kind: log") })
        let sendLog = dir.appendingPathComponent("data/sent.jsonl")
        let first = try await serve.start("serve-1")
        defer { first.stop() }
        _ = try serve.post(Self.batch(Self.total))
        _ = try await poll("sending to start", timeout: .seconds(60), every: .milliseconds(2)) { () -> Bool? in
            ((try? FileManager.default.attributesOfItem(atPath: sendLog.path)[.size] as? Int) ?? 0) > 1000 * 100 ? true : nil
        }
        first.stop()
        let log = try String(contentsOf: first.logURL, encoding: .utf8)
        #expect(log.contains("sending stopped"), "the pool did not drain: \(first.logTail())")

        let second = try await serve.start("serve-2")
        defer { second.stop() }
        _ = try await serve.waitAll(Self.total, "delivered", server: second, timeout: .seconds(120))
        let lines = try String(contentsOf: sendLog, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == Self.total, "\(lines.count - Self.total) resent after a graceful stop")
        #expect(!(try String(contentsOf: second.logURL, encoding: .utf8)).contains("in doubt"))
    }

    @Test func providerOutageIsRetriedNothingFailsNothingDoubles() async throws {
        try await Self.withTwilio { twilio in
            let dir = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let serve = try Self.serve(dir, spec: { port in Self.spec(port: port, provider: Self.twilioProvider(twilio)) },
                                       environment: ["TWILIO_ACCOUNT_SID": twilio.accountSID, "TWILIO_AUTH_TOKEN": twilio.authToken])
            let server = try await serve.start("serve")
            defer { server.stop() }
            let count = 4000
            let answer = try serve.post(Self.batch(count))
            #expect(answer["accepted"] as? Int == count)
            _ = try await poll("the provider to accept 300 messages", timeout: .seconds(60), every: .milliseconds(5)) { () -> Bool? in
                twilio.acceptedCount >= 300 ? true : nil
            }
            // The outage itself: a fixed stretch of wall time is what is being simulated.
            twilio.fault = .serverError
            try await Task.sleep(for: .seconds(5))
            twilio.fault = .rateLimited(retryAfter: 1)
            try await Task.sleep(for: .seconds(5))
            let acceptedDuringOutage = twilio.acceptedCount
            twilio.fault = .none

            let counts = try await serve.waitAll(count, "sent", server: server, timeout: .seconds(120))
            let retries = serve.metric("emmy_send_retries_total")
            let retryable = serve.metric("emmy_send_attempts_total", matching: "outcome=\"retryable\"")
            print("outage test: \(twilio.refusedCount) requests refused with 500/429 during 10 s; \(Int(retryable)) retryable attempts, "
                + "\(Int(retries)) retries in /metrics; \(twilio.acceptedCount) accepted for \(count) messages")
            #expect(twilio.refusedCount > 0)
            let exposition = (try? HTTPProbe.request("http://127.0.0.1:\(serve.port)/metrics").get().body) ?? ""
            #expect(retries > 0 && retryable > 0, "retries must be visible in /metrics: \(exposition.split(separator: "\n").filter { $0.contains("emmy_send") })")
            #expect(counts["failed"] == nil, "\(counts)")
            #expect(twilio.duplicates.isEmpty)
            #expect(twilio.acceptedCount == count)
            #expect(acceptedDuringOutage < count, "the batch finished before the outage")
        }
    }
}
