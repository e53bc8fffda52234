@testable import EmmyApp
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import Testing

/// The live batch page: where unfinished messages wait (the throttle is not "sending"),
/// throughput and time left, from a real worker pool against a provider the test holds.
@Suite struct BatchLiveTests {
    /// Keeps every message "at the provider" until opened.
    final class GateProvider: SMSProvider {
        let name = "gate"
        let open = NIOLockedValueBox(false)
        func send(_ message: OutgoingMessage) async -> SendResult {
            while !open.withLockedValue({ $0 }) { try? await Task.sleep(for: .milliseconds(10)) }
            return .accepted(providerID: "SM-\(message.id)", status: .sent)
        }
    }

    static func value(_ html: String, _ id: String) -> String? {
        guard let start = html.range(of: "id=\"\(id)\">") else { return nil }
        return String(html[start.upperBound...].prefix { $0 != "<" })
    }

    @Test func throttledMessagesAreNotSendingAndThroughputAndTimeLeftShow() async throws {
        let database = try await TestStore.make()
        let now = Date()
        try await TestStore.queue((0..<6).map { "+25471234567\($0)" }, batch: "b", at: now, batchCreatedAt: now.addingTimeInterval(-30), in: database)
        // Two workers, one segment every 4 s: the first message goes straight to the provider,
        // the second waits for its slot in the throttle.
        var sending = SendingConfig()
        sending.workers = 2
        sending.segmentsPerSecond = 0.25
        let metrics = AppMetrics()
        let provider = GateProvider()
        var logger = Logger(label: "batch-live-test")
        logger.logLevel = .critical
        let pool = SendWorkerPool(database: database, provider: provider, config: sending, metrics: metrics, logger: logger, idleWait: .milliseconds(10))
        let running = Task { try await pool.run() }
        defer { running.cancel() }
        var config = ServerConfig()
        config.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("emmy-test-\(UUID())").path
        let app = Application(router: try EmmyServer.buildRouter(config: config, database: database, metrics: metrics), logger: ServerTests.Harness.quietLogger)
        try await app.test(.router) { client in
            func live() async throws -> String {
                try await client.execute(uri: "/batches/b/live", method: .get) { response in
                    #expect(response.status == .ok)
                    return String(buffer: response.body)
                }
            }
            let deadline = ContinuousClock.now + .seconds(60)
            var html = try await live()
            while !(Self.value(html, "phase-sending") == "1" && Self.value(html, "phase-throttled") == "1"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                html = try await live()
            }
            #expect(Self.value(html, "phase-sending") == "1" && Self.value(html, "phase-throttled") == "1", "\(html)")
            #expect(html.hasPrefix("<div id=\"batch-live\"") && html.contains("data-live=\"true\""))
            #expect(Self.value(html, "eta") == "unknown until a message finishes")
            // The page shows the same part, and the counts still say what the database says.
            try await client.execute(uri: "/batches/b", method: .get) { response in
                let page = String(buffer: response.body)
                #expect(page.contains("<div id=\"batch-live\"") && page.contains("id=\"phase-throttled\""))
            }

            provider.open.withLockedValue { $0 = true }
            while Self.value(html, "eta") != "done", ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                html = try await live()
                if let throughput = Self.value(html, "throughput"), throughput != "0 messages/min", Self.value(html, "eta") != "done" {
                    #expect(Self.value(html, "eta")?.hasPrefix("about ") == true, "\(html)")
                }
            }
            #expect(Self.value(html, "eta") == "done" && !html.contains("data-live=\"true\""), "\(html)")
            // Six finished within the batch's first half minute: 6 per 30 s is 12 a minute.
            let throughput = try #require(Self.value(html, "throughput").flatMap { Int($0.prefix { $0.isNumber }) })
            #expect(throughput >= 6 && throughput <= 12, "\(html)")
            #expect(Self.value(html, "phase-sending") == "0" && Self.value(html, "phase-throttled") == "0")
        }
    }

    @Test(arguments: [(0, 0.0, true, "done"), (10, 0, true, "unknown until a message finishes"), (120, 60, true, "about 2 min 0 s"),
                      (0, 0, false, "waiting for the upload to finish")])
    func timeLeft(remaining: Int, perMinute: Double, complete: Bool, text: String) {
        #expect(WebController.timeLeft(remaining: remaining, perMinute: perMinute, complete: complete) == text)
    }
}
