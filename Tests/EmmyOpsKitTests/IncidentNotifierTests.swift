@testable import EmmyOpsKit
import Foundation
import Testing

/// Notices to Slack, PagerDuty and a generic webhook, posted to a real listener on 127.0.0.1
/// that records each request and checks the webhook signature itself (Python's hmac).
@Suite("Incident notices: Slack, PagerDuty Events v2, signed webhook", .serialized)
struct IncidentNotifierTests {
    /// Records `{path, headers, body, signature_valid}` per POST, one JSON line each.
    static let recorder = """
    import hashlib, hmac, json, sys, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    port, out, key = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            stamp = self.headers.get("X-Emmyops-Timestamp")
            given = self.headers.get("X-Emmyops-Signature")
            valid = None
            if stamp is not None:
                expected = "sha256=" + hmac.new(key, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
                valid = given is not None and hmac.compare_digest(expected, given)
            record = {"path": self.path, "body": json.loads(body), "signature_valid": valid,
                      "content_type": self.headers.get("Content-Type")}
            with lock, open(out, "a") as f:
                f.write(json.dumps(record) + "\\n")
            status = 202 if self.path.startswith("/v2/") else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
    """

    @Test("each channel's body has its documented shape; the webhook is signed; PagerDuty resolves with the same dedup_key",
          .timeLimit(.minutes(1)))
    func bodiesReachTheListener() async throws {
        try #require(LoopTools.python != nil, "python3 is not on PATH")
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try LoopbackPorts.pick(1)[0]
        let keyFile = dir.appendingPathComponent("signing.key")
        try "s3cret-signing-key\n".write(to: keyFile, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("posts.jsonl")
        let listener = try FixtureServers.start("notice-listener", script: Self.recorder, arguments: ["\(port)", out.path, "s3cret-signing-key"], in: dir)
        defer { listener.stop() }
        try await poll("the listener", timeout: .seconds(20)) {
            try listener.checkAlive()
            return (try? HTTPProbe.request("http://127.0.0.1:\(port)/", timeout: 1).get().status) == 200 ? () : nil
        }

        let spec = try #require(SpecLoader.load(text: """
        version: 1
        app: { name: emmy-notices }
        hosts: [{ name: one, address: 127.0.0.1 }]
        incident:
          signing_key_file: \(keyFile.path)
          pagerduty_url: http://127.0.0.1:\(port)/v2/enqueue
        notify:
          receivers:
            chat: { slack: { webhook_url: "http://127.0.0.1:\(port)/slack", channel: "#ops" } }
            pager: { pagerduty: { routing_key: "${PD_ROUTING_KEY}" } }
            hook: { webhook: { url: "http://127.0.0.1:\(port)/hook" } }
          routes:
            critical: [pager, chat, hook]
        """, file: "emmy.yaml").spec)
        let notifier = IncidentNotifier(spec: spec, environment: ["PD_ROUTING_KEY": "R0UTINGKEY"])
        let notice = IncidentNotice(event: .escalation, alert: "EmmyAppDown", kind: .appDown, host: "one", severity: "critical",
                                    summary: "budget spent", details: ["run": "7"])
        let deliveries = await notifier.send(notice)
        #expect(deliveries == [.sent(receiver: "pager", channel: "pagerduty"), .sent(receiver: "chat", channel: "slack"),
                               .sent(receiver: "hook", channel: "webhook")])
        var resolved = notice
        resolved.event = .resolved
        _ = await notifier.send(resolved)

        let posts = try await poll("six posts", timeout: .seconds(10)) { () -> [[String: Any]]? in
            let lines = ((try? String(contentsOf: out, encoding: .utf8)) ?? "").split(separator: "\n")
            let records = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            return records.count >= 6 ? records : nil
        }
        func bodies(_ path: String) -> [[String: Any]] { posts.filter { $0["path"] as? String == path }.compactMap { $0["body"] as? [String: Any] } }

        let slack = try #require(bodies("/slack").first)
        #expect((slack["text"] as? String)?.contains("EmmyAppDown on one: budget spent") == true)
        #expect(slack["channel"] as? String == "#ops")

        let pagerduty = bodies("/v2/enqueue")
        #expect(pagerduty.map { $0["event_action"] as? String } == ["trigger", "resolve"])
        #expect(Set(pagerduty.compactMap { $0["dedup_key"] as? String }) == ["emmyops-incident/app_down/one"], "resolve closes what trigger opened")
        let trigger = try #require(pagerduty.first)
        #expect(trigger["routing_key"] as? String == "R0UTINGKEY")
        let payload = try #require(trigger["payload"] as? [String: Any])
        #expect(payload["severity"] as? String == "critical")
        #expect(payload["source"] as? String == "one")
        #expect(payload["component"] as? String == "emmy-notices")
        #expect((payload["summary"] as? String).map { !$0.isEmpty && $0.count <= 1024 } == true)
        #expect(payload["timestamp"] as? String != nil && payload["custom_details"] as? [String: Any] != nil)

        let hooks = posts.filter { $0["path"] as? String == "/hook" }
        #expect(hooks.count == 2)
        #expect(hooks.allSatisfy { $0["signature_valid"] as? Bool == true }, "\(hooks)")
        #expect((hooks.first?["body"] as? [String: Any])?["dedup_key"] as? String == "emmyops-incident/app_down/one")
        #expect(posts.allSatisfy { ($0["content_type"] as? String)?.hasPrefix("application/json") == true })
    }

    @Test func aMissingSecretFailsThatChannelWithoutLeakingAnything() async throws {
        let spec = try #require(SpecLoader.load(text: """
        version: 1
        monitoring: { alertmanager: { secrets_dir: /nonexistent } }
        notify:
          receivers:
            pager: { pagerduty: { routing_key: "${PD_ROUTING_KEY}" } }
          routes:
            warning: [pager]
        """, file: "emmy.yaml").spec)
        let deliveries = await IncidentNotifier(spec: spec, environment: [:]).send(
            IncidentNotice(event: .action, alert: "EmmyHighErrorRate", kind: .highErrorRate, host: nil, severity: "warning", summary: "x"))
        guard case .failed(_, let channel, let reason)? = deliveries.first else { Issue.record("\(deliveries)"); return }
        #expect(channel == "pagerduty")
        #expect(reason.contains("PD_ROUTING_KEY"))
    }

    @Test func theSignatureCoversTimestampAndBody() {
        let body = Data("{\"a\":1}".utf8)
        let one = NoticeBodies.signature(key: "k", timestamp: "100", body: body)
        #expect(one.hasPrefix("sha256=") && one.count == 7 + 64)
        #expect(one != NoticeBodies.signature(key: "k", timestamp: "101", body: body))
        #expect(one != NoticeBodies.signature(key: "k", timestamp: "100", body: Data("{\"a\":2}".utf8)))
    }
}
