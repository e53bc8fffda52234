import AsyncHTTPClient
@testable import EmmyOpsKit
import Foundation
import NIOCore
import Testing

/// `emmyops incident serve` as a process: what it refuses (4xx JSON, nothing recorded as a
/// run), what it accepts (202 at once), and that it keeps serving after every refusal.
@Suite("incident serve: the webhook receiver", .serialized)
struct IncidentReceiverTests {
    static let token = "t0ken-for-tests"

    struct Receiver {
        let process: ProcessHarness
        let url: String
        let dir: URL
        let dataDir: String
        let spec: String
    }

    /// A spec whose app nobody runs (restarts fail, which is fine here) and a running receiver.
    static func start(in dir: URL, extraSpec: String = "") async throws -> Receiver {
        let ports = try LoopbackPorts.pick(2)
        let tokenFile = dir.appendingPathComponent("incident.token")
        try "\(token)\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        let spec = dir.appendingPathComponent("emmy.yaml")
        try """
        version: 1
        app: { name: emmy-receiver, port: \(ports[1]) }
        hosts: [{ name: local, address: 127.0.0.1, root: \(dir.path)/host }]
        incident:
          webhook: http://127.0.0.1:\(ports[0])/alerts
          token_file: \(tokenFile.path)
          wait_timeout: 1s
        \(extraSpec)
        """.write(to: spec, atomically: true, encoding: .utf8)
        let dataDir = dir.appendingPathComponent("incident").path
        let process = try ProcessHarness(name: "incident-serve", executable: CLI.binary,
                                         arguments: ["incident", "serve", "--spec", spec.path, "--data-dir", dataDir], logDirectory: dir)
        let url = "http://127.0.0.1:\(ports[0])"
        try await poll("incident serve to answer /health", timeout: .seconds(30)) {
            try process.checkAlive()
            return (try? HTTPProbe.request(url + "/health", timeout: 1).get().status) == 200 ? () : nil
        }
        return Receiver(process: process, url: url, dir: dir, dataDir: dataDir, spec: spec.path)
    }

    static func post(_ url: String, _ body: Data, token: String? = IncidentReceiverTests.token) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return (Int(response.status.code), text)
    }

    static func body(_ payload: AlertmanagerPayload) -> Data { try! JSONEncoder().encode(payload) }

    @Test("unauthenticated, malformed, oversized and unknown-alert bodies get 4xx and start nothing; the receiver keeps serving",
          .timeLimit(.minutes(2)))
    func refusals() async throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let receiver = try await Self.start(in: dir)
        defer { receiver.process.stop() }
        let hook = receiver.url + "/alerts"
        let good = Self.body(IncidentEngineTests.appDown(instance: "127.0.0.1:1"))

        var cases: [(String, Data, String?, Int)] = [
            ("no token", good, nil, 401),
            ("wrong token", good, "not-the-token", 401),
            ("a longer wrong token", good, Self.token + "x", 401),
            ("not JSON", Data("{\"version\": ".utf8), Self.token, 400),
            ("version 3", Data(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "\"version\":\"4\"", with: "\"version\":\"3\"").utf8), Self.token, 400),
            ("no alerts key", Data("{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"x\"}".utf8), Self.token, 400),
            ("oversized", Data(repeating: UInt8(ascii: " "), count: IncidentServer.maxBodyBytes + 1), Self.token, 413),
        ]
        let stranger = AlertmanagerPayload(status: "firing", alerts: [.init(status: "firing", labels: ["alertname": "NotOurs"],
                                                                             startsAt: "2026-12-01T04:00:00Z", fingerprint: "abc")])
        cases.append(("unknown alert", Self.body(stranger), Self.token, 422))
        for (what, body, token, expected) in cases {
            let (status, text) = try await Self.post(hook, body, token: token)
            #expect(status == expected, "\(what): \(status) \(text)")
            #expect(text.contains("\"error\""), "\(what): the refusal is a JSON error: \(text)")
            try receiver.process.checkAlive()
        }

        let started = ContinuousClock.now
        let (status, text) = try await Self.post(hook, good)
        let elapsed = started.duration(to: .now)
        #expect(status == 202, "\(text)")
        #expect(text.contains("\"started\":1"), "\(text)")
        #expect(elapsed < .seconds(2), "answered in \(elapsed); the work happens after the answer")
        let (again, againText) = try await Self.post(hook, good)
        #expect(again == 202 && againText.contains("\"duplicates\":1"), "\(againText)")

        // A resolution that overtakes its firing (one body, resolved first) starts nothing, ever.
        let late = AlertmanagerPayload(status: "resolved", alerts: [
            IncidentEngineTests.appDown("resolved", instance: "127.0.0.1:1", fingerprint: "late").alerts[0],
            IncidentEngineTests.appDown("firing", instance: "127.0.0.1:1", fingerprint: "late").alerts[0],
        ])
        let (lateStatus, lateText) = try await Self.post(hook, Self.body(late))
        #expect(lateStatus == 202 && lateText.contains("\"started\":0"), "\(lateText)")

        let metrics = try HTTPProbe.request(receiver.url + "/metrics", timeout: 2).get().body
        #expect(metrics.contains("emmy_incident_notifications_total{result=\"unauthorized\"} 3"), "\(metrics)")
        #expect(metrics.contains("emmy_incident_notifications_total{result=\"rejected\"} 5"), "\(metrics)")
        #expect(metrics.contains("emmy_incident_notifications_total{result=\"duplicate\"} 2"), "\(metrics)")

        // Only the accepted body reached the ledger, and started exactly one run.
        let history = try CLI.run(["incident", "history", "--spec", receiver.spec, "--data-dir", receiver.dataDir, "--format", "json"], in: dir)
        #expect(history.status == 0, "\(history.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [String: Any])
        #expect((document["notifications"] as? [Any])?.count == 4)
        #expect((document["runs"] as? [Any])?.count == 1)
        let audit = IncidentAuditEntry.read(dir.path + "/host/shared/audit.log")
        #expect(!audit.contains { $0.fingerprint == "late" }, "\(audit)")
        #expect(history.stdout.contains("\"fingerprint\" : \"f00d\""), "\(history.stdout.prefix(400))")
    }

    @Test("handle --dry-run prints the plan with each guard's verdict, exits 0 and touches nothing", .timeLimit(.minutes(1)))
    func dryRun() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = dir.appendingPathComponent("emmy.yaml")
        try """
        version: 1
        hosts: [{ name: local, address: 127.0.0.1, root: \(dir.path)/host }]
        deploy: { root: \(dir.path)/host }
        """.write(to: spec, atomically: true, encoding: .utf8)
        let result = try CLI.run(["incident", "handle", "high_error_rate", "--dry-run", "--spec", spec.path,
                                  "--data-dir", dir.appendingPathComponent("incident").path], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("1. diagnose: would run"), "\(result.stdout)")
        #expect(result.stdout.contains("2. rollback [destructive]: skipped: no deploy finished on local within 30m"), "\(result.stdout)")
        #expect(result.stdout.contains("3. notify"), "\(result.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("host").path), "the host's root was not touched")
    }
}
