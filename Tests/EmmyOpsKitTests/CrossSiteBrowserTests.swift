import EmmyOpsKit
import Foundation
import Testing

/// Issue 18's Done-when: with the default spec (auth off), a page from another loopback origin
/// that an operator visits tries every state-changing request a browser lets it send without a
/// preflight (forms in urlencoded, text/plain and multipart, `fetch` in no-cors mode), against
/// the real `emmyops serve` in headless Chromium; none may change anything.
@Suite(.serialized) struct CrossSiteBrowserTests {
    /// The attacking page: forms posted into hidden frames, then `fetch`es; `#status` says done.
    static func attackPage(app: String, batch: String, phone: String) -> String {
        let json = #"{"contacts":[{"phone":"\#(phone)"}],"message":"pwned"}"#
        let optOut = #"{"phones":["\#(phone)"]}"#
        return """
        <!doctype html><html><head><title>cute cats</title></head><body><p id="status">running</p>
        <script>
        const app = \(quoteJS(app));
        const json = \(quoteJS(json));
        const optOut = \(quoteJS(optOut));
        // A text/plain form sends `name=value`: the name carries the JSON, the value closes it.
        function form(path, enctype, fields, file) {
          const frame = document.createElement("iframe");
          frame.name = "f" + Math.random().toString(36).slice(2);
          frame.style.display = "none";
          document.body.appendChild(frame);
          const f = document.createElement("form");
          f.method = "POST"; f.action = app + path; f.enctype = enctype; f.target = frame.name;
          for (const [name, value] of fields) {
            const input = document.createElement("input");
            input.type = "hidden"; input.name = name; input.value = value; f.appendChild(input);
          }
          if (file) {
            const input = document.createElement("input");
            input.type = "file"; input.name = "csvFile";
            const transfer = new DataTransfer();
            transfer.items.add(new File([file], "c.csv", { type: "text/csv" }));
            input.files = transfer.files;
            f.appendChild(input);
          }
          document.body.appendChild(f);
          f.submit();
        }
        const csv = "phone\\n\(phone)\\n";
        form("/messages", "text/plain", [[json.slice(0, -1) + ',"x":"', '"}']]);
        form("/messages", "application/x-www-form-urlencoded", [["contacts", json]]);
        form("/upload", "multipart/form-data", [["message", "pwned"]], csv);
        form("/api/optouts", "text/plain", [[optOut.slice(0, -1) + ',"x":"', '"}']]);
        form("/api/batches/\(batch)/retry-failed", "application/x-www-form-urlencoded", [["x", "1"]]);
        const upload = new FormData();
        upload.append("csvFile", new Blob([csv], { type: "text/csv" }), "c.csv");
        upload.append("message", "pwned");
        const options = { method: "POST", mode: "no-cors", credentials: "include" };
        Promise.allSettled([
          fetch(app + "/messages", { ...options, headers: { "Content-Type": "text/plain" }, body: json }),
          fetch(app + "/messages", { ...options, body: new Blob([json]) }),
          fetch(app + "/upload", { ...options, body: upload }),
          fetch(app + "/api/optouts", { ...options, headers: { "Content-Type": "text/plain" }, body: optOut }),
          fetch(app + "/api/optouts", { ...options, body: new URLSearchParams({ phones: \(quoteJS(phone)) }) }),
          fetch(app + "/api/batches/\(batch)/retry-failed", options),
        ]).then(() => { document.getElementById("status").textContent = "done"; });
        </script></body></html>
        """
    }

    /// Forms and fetches the page sends: every one must reach the server and be refused.
    static let attackCount = 11

    static func quoteJS(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text])
        return String(decoding: data, as: UTF8.self).dropFirst().dropLast().description
    }

    /// The server's request log lines (JSON) after byte `offset`.
    static func requests(in log: URL, after offset: Int) -> [[String: String]] {
        guard let data = try? Data(contentsOf: log), data.count > offset else { return [] }
        return String(decoding: data[offset...], as: UTF8.self).split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["message"] as? String == "request" else { return nil }
            return object.compactMapValues { $0 as? String }
        }
    }

    /// A static file server for `folder` on `address:port`, answering once it returns.
    static func serve(_ folder: URL, address: String, port: Int, python: String, logDirectory: URL) async throws -> ProcessHarness {
        let server = try ProcessHarness(name: "attacker-\(address)", executable: python,
                                        arguments: ["-m", "http.server", "\(port)", "--bind", address, "--directory", folder.path],
                                        logDirectory: logDirectory)
        do {
            try await poll("the attacking page on \(address):\(port)", timeout: .seconds(20)) { () -> Bool? in
                try server.checkAlive()
                if case .success(200) = HTTPProbe.request("http://\(address):\(port)/").map(\.status) { return true }
                return nil
            }
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    static func post(_ url: String, _ body: String) throws -> [String: Any] {
        let answer = try HTTPProbe.request(url, method: "POST", body: body, timeout: 30).get()
        return try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any], "\(answer.status) \(answer.body)")
    }

    @Test(.enabled(if: BrowserTests.available, "chromium or chromedriver is not on PATH (apt-get install chromium chromium-driver)"))
    func pagesFromAnotherOriginCannotQueueOptOutOrRetry() async throws {
        let chromium = try #require(BrowserTests.chromium, "EMMY_REQUIRE_TOOLS=1 but chromium is not on PATH")
        let chromedriver = try #require(BrowserTests.chromedriver, "EMMY_REQUIRE_TOOLS=1 but chromedriver is not on PATH")
        let python = try #require(ProcessRunner.which("python3"), "python3 serves the attacking page")
        let stack = try await BrowserTests.Stack(chromedriver: chromedriver)
        let site = stack.dir.appendingPathComponent("evil")
        var attacker: ProcessHarness?
        do {
            // The operator's own batch, and the number the page tries to opt out and message.
            let victim = "+254712345671"
            let setup = try Self.post(stack.base + "/messages", #"{"contacts":[{"phone":"+254712345678"}],"message":"hello"}"#)
            let batch = try #require(setup["batch_id"] as? String)
            try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
            try Self.attackPage(app: stack.base, batch: batch, phone: victim)
                .write(to: site.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
            // 127.0.0.2 is another site; 127.0.0.1 on another port is the same site (so
            // SameSite=Strict cookies go along) but another origin: both are tried.
            let port = try LoopbackPorts.pick(1)[0]
            attacker = try await Self.serve(site, address: "127.0.0.1", port: port, python: python, logDirectory: stack.dir)
            try await stack.driver.startSession(chromium: chromium, javascript: true)
            // The operator has EmmyApp open (its CSRF cookie is set), then visits the page.
            try await stack.driver.go(stack.base + "/")
            for origin in ["http://127.0.0.1:\(port)", "http://127.0.0.2:\(port)"] {
                if origin.contains("127.0.0.2") {
                    // The same folder, served on the other loopback address.
                    attacker?.stop()
                    attacker = try await Self.serve(site, address: "127.0.0.2", port: port, python: python, logDirectory: stack.dir)
                }
                let offset = (try? Data(contentsOf: stack.server.logURL).count) ?? 0
                try await stack.driver.go(origin + "/")
                let posts = try await poll("\(Self.attackCount) attacking requests from \(origin)", timeout: .seconds(30)) { () -> [[String: String]]? in
                    try stack.server.checkAlive()
                    let posts = Self.requests(in: stack.server.logURL, after: offset).filter { $0["method"] == "POST" }
                    return posts.count >= Self.attackCount ? posts : nil
                }
                #expect(try await stack.driver.text("#status") == "done", "\(origin): the page's fetches did not finish")
                for post in posts {
                    #expect(post["status"] == "403", "\(origin): POST \(post["path"] ?? "?") answered \(post["status"] ?? "?")")
                }
                #expect(Set(posts.compactMap { $0["path"] }) == ["/messages", "/upload", "/api/optouts", "/api/batches/\(batch)/retry-failed"])
            }
            // Nothing was queued or retried: the operator's one message is all there is ...
            let messages = try HTTPProbe.request(stack.base + "/api/messages?limit=100").get()
            let listed = try #require(try JSONSerialization.jsonObject(with: Data(messages.body.utf8)) as? [String: Any], "\(messages.body)")
            let rows = try #require(listed["messages"] as? [[String: Any]], "\(listed)")
            #expect(rows.count == 1, "\(rows)")
            #expect(rows.allSatisfy { ($0["attempts"] as? Int ?? 0) <= 1 }, "\(rows)")
            let batches = try HTTPProbe.request(stack.base + "/api/batches").get()
            let page = try #require(try JSONSerialization.jsonObject(with: Data(batches.body.utf8)) as? [String: Any], "\(batches.body)")
            #expect((page["batches"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [batch], "\(batches.body)")
            // ... and the number was not opted out: the operator can still message it.
            let later = try Self.post(stack.base + "/messages", #"{"contacts":[{"phone":"\#(victim)"}],"message":"still here?"}"#)
            #expect(later["accepted"] as? Int == 1, "\(later)")
        } catch {
            Issue.record("\(error)\n\(stack.server.logTail())\n\(stack.driverProcess.logTail())")
        }
        attacker?.stop()
        await stack.stop()
        try? FileManager.default.removeItem(at: stack.dir)
    }
}
