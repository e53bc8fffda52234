import EmmyOpsKit
import Foundation
import Testing

/// The web UI in a real browser: the built `emmyops serve` on loopback, driven through headless
/// Debian Chromium by chromedriver, clicking through pages as a user does. Screenshots of every
/// page go to `${EMMY_TEST_ARTIFACTS:-.build/test-artifacts}/ui/`.
@Suite(.serialized) struct BrowserTests {
    static var chromium: String? { ProcessRunner.which("chromium") }
    static var chromedriver: String? { ProcessRunner.which("chromedriver") }
    static var available: Bool { (chromium != nil && chromedriver != nil) || CLI.toolsRequired }

    static let hostileTemplate = #"Hello {name} <script>alert('t')</script> "><img src=x onerror=alert(1)> from Emmy"#
    static let hostileName = #""><img src=x onerror=alert(2)><script>alert(3)</script>"#

    static var artifacts: URL {
        let root = ProcessInfo.processInfo.environment["EMMY_TEST_ARTIFACTS"].flatMap { $0.isEmpty ? nil : $0 } ?? ".build/test-artifacts"
        return URL(fileURLWithPath: root).appendingPathComponent("ui")
    }

    /// One `emmyops serve` and one chromedriver for the test; `stop()` ends both.
    final class Stack {
        let dir: URL
        let port: Int
        let server: ProcessHarness
        let driverProcess: ProcessHarness
        let driver: WebDriver

        /// `spec`: the text of an emmy.yaml for `serve`, else the embedded default.
        init(chromedriver: String, spec: String? = nil) async throws {
            dir = try CLI.temporaryDirectory()
            let ports = try LoopbackPorts.pick(2)
            port = ports[0]
            var arguments = ["serve", "--port", "\(port)", "--data-dir", dir.appendingPathComponent("data").path]
            if let spec {
                let file = dir.appendingPathComponent("emmy.yaml")
                try spec.write(to: file, atomically: true, encoding: .utf8)
                arguments += ["--spec", file.path]
            }
            server = try ProcessHarness(name: "serve", executable: CLI.binary, arguments: arguments, logDirectory: dir)
            driverProcess = try ProcessHarness(name: "chromedriver", executable: chromedriver,
                                               arguments: ["--port=\(ports[1])", "--allowed-ips=127.0.0.1"], logDirectory: dir)
            driver = WebDriver(port: ports[1])
            do {
                try await waitUntilReady()
            } catch {
                driverProcess.stop()
                server.stop()
                throw Failure(description: "\(error)\n\(server.logTail())\n\(driverProcess.logTail())")
            }
        }

        struct Failure: Error, CustomStringConvertible { var description: String }

        private func waitUntilReady() async throws {
            let (server, driverProcess, driver, port) = (server, driverProcess, driver, port)
            try await poll("EmmyApp /ready", timeout: .seconds(20)) { () -> Bool? in
                try server.checkAlive()
                if case .success(200) = HTTPProbe.request("http://127.0.0.1:\(port)/ready").map(\.status) { return true }
                return nil
            }
            let deadline = ContinuousClock.now + .seconds(20)
            while await !driver.ready() {
                try driverProcess.checkAlive()
                guard ContinuousClock.now < deadline else { throw PollTimeout(what: "chromedriver /status", timeout: .seconds(20)) }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        var base: String { "http://127.0.0.1:\(port)" }

        func stop() async {
            await driver.quit()
            driverProcess.stop()
            server.stop()
        }
    }

    /// Waits until the browser is on a page whose path starts with `prefix` (after a click).
    static func waitForPage(_ driver: WebDriver, _ prefix: String, base: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            let url = try await driver.currentURL()
            if url.hasPrefix(base + prefix), !(try await driver.findAll("main h1")).isEmpty { return url }
            guard ContinuousClock.now < deadline else { throw PollTimeout(what: "page \(prefix) (at \(url))", timeout: .seconds(20)) }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The text of an element in a part app.js replaces every few seconds (the live batch
    /// part): a read that lands on the replaced element is retried on the new one.
    static func liveText(_ driver: WebDriver, _ css: String) async throws -> String {
        for _ in 0..<20 {
            if let text = try? await driver.text(css) { return text }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await driver.text(css)
    }

    /// Untrusted text is on the page as text, and nothing it carried became an element.
    static func expectShownAsText(_ driver: WebDriver, _ css: String, page: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws {
        #expect(try await driver.findAll("img").isEmpty, "\(page): an <img> was created from untrusted text", sourceLocation: sourceLocation)
        let scripts = try await driver.findAll("script")
        #expect(scripts.count == 1, "\(page): only app.js may be a script element", sourceLocation: sourceLocation)
        let text = try await driver.texts(css).joined(separator: "\n")
        #expect(text.contains("<script>alert("), "\(page): the hostile text is not visible in \(css)", sourceLocation: sourceLocation)
    }

    /// GSM-7 (ASCII here, no escape characters) and UCS-2 segment counts, computed independently.
    static func segments(_ body: String) -> Int {
        if body.unicodeScalars.allSatisfy(\.isASCII) {
            let count = body.unicodeScalars.count
            return count <= 160 ? 1 : (count + 152) / 153
        }
        let units = body.utf16.count
        return units <= 70 ? 1 : (units + 66) / 67
    }

    static func csvField(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    @Test(.enabled(if: available, "chromium or chromedriver is not on PATH (apt-get install chromium chromium-driver)"))
    func uploadPreviewSendAndResultsInARealBrowser() async throws {
        let chromium = try #require(Self.chromium, "EMMY_REQUIRE_TOOLS=1 but chromium is not on PATH")
        let chromedriver = try #require(Self.chromedriver, "EMMY_REQUIRE_TOOLS=1 but chromedriver is not on PATH")
        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
        let stack = try await Stack(chromedriver: chromedriver)
        do {
            try await scenario(stack, chromium: chromium)
            try await withoutJavaScript(stack, chromium: chromium)
        } catch {
            Issue.record("\(error)\n\(stack.server.logTail())\n\(stack.driverProcess.logTail())")
        }
        await stack.stop()
        try? FileManager.default.removeItem(at: stack.dir)
    }

    /// 100 rows, 3 bad → the preview lists exactly those 3 → Send → the batch → its downloads.
    func scenario(_ stack: Stack, chromium: String) async throws {
        let driver = stack.driver
        try await driver.startSession(chromium: chromium, javascript: true)
        // Rows are numbered as in a spreadsheet: the header is row 1, so contact i is row i + 1.
        var lines = ["phone,name"]
        var expectedSegments = 0
        for i in 1...100 {
            var phone = "+2547123\(String(format: "%05d", i))"
            var name = i % 10 == 0 ? String(repeating: "Long", count: 25) + "\(i)" : "Name\(i)"
            if i == 1 { name = Self.hostileName }
            if i == 2 { name = "Łukasz" }
            if i == 10 { phone = "12345" }                  // row 11: invalid number
            if i == 20 { name = "" }                         // row 21: the template's {name} is missing
            if i == 30 { phone = "+254712300001" }           // row 31: same number as row 2
            lines.append("\(phone),\(Self.csvField(name))")
            if ![10, 20, 30].contains(i) { expectedSegments += Self.segments(Self.hostileTemplate.replacingOccurrences(of: "{name}", with: name)) }
        }
        let csv = stack.dir.appendingPathComponent("contacts.csv")
        try (lines.joined(separator: "\n") + "\n").write(to: csv, atomically: true, encoding: .utf8)

        try await driver.go(stack.base + "/")
        _ = try await Self.waitForPage(driver, "/", base: stack.base)
        #expect(try await driver.attribute("html", "class") == "js", "app.js did not run with JavaScript on")
        #expect(try await driver.text("label[for=csvFile]").contains("Contacts file"))
        try await driver.screenshot(to: Self.artifacts.appendingPathComponent("upload.png"))
        try await driver.typeFile("#csvFile", csv.path)
        try await driver.type("#message", Self.hostileTemplate)
        try await driver.click("form[action='/preview'] button[type=submit]")

        _ = try await Self.waitForPage(driver, "/preview", base: stack.base)
        try await driver.screenshot(to: Self.artifacts.appendingPathComponent("preview.png"))
        #expect(try await driver.text("#total-rows") == "100")
        #expect(try await driver.text("#total-messages") == "97")
        #expect(try await driver.text("#total-rejected") == "3")
        #expect(try await driver.text("#total-segments") == "\(expectedSegments)")
        let rejected = try await driver.texts("#rejected tbody tr")
        #expect(rejected.count == 3, "\(rejected)")
        #expect(rejected.first?.hasPrefix("11 phone invalid_number") == true, "\(rejected)")
        #expect(rejected.dropFirst().first?.hasPrefix("21 name missing_field") == true, "\(rejected)")
        #expect(rejected.last?.hasPrefix("31 phone duplicate") == true && rejected.last?.contains("appears earlier in this batch") == true, "\(rejected)")
        #expect(try await driver.texts("#sample mark") == ["Ł"], "the UCS-2 character is highlighted")
        try await Self.expectShownAsText(driver, "#sample tbody tr:first-child", page: "preview")
        #expect(try await driver.text("#sample tbody tr:first-child").contains(Self.hostileName))

        try await driver.click("#send")
        let batchURL = try await Self.waitForPage(driver, "/batches/", base: stack.base)
        let batch = String(batchURL.dropFirst((stack.base + "/batches/").count))
        try await driver.screenshot(to: Self.artifacts.appendingPathComponent("batch.png"))
        #expect(try await Self.liveText(driver, "#accepted") == "97")
        #expect(try await Self.liveText(driver, "#total") == "97")
        // The sandbox (log) sender delivers every message; the page's script refreshes the counts
        // in place, so poll the live page (no reload) until they settle.
        var delivered = try await Self.liveText(driver, "#count-delivered")
        let sent = ContinuousClock.now + .seconds(30)
        while delivered != "97", ContinuousClock.now < sent {
            try await Task.sleep(for: .milliseconds(250))
            delivered = try await Self.liveText(driver, "#count-delivered")
        }
        #expect(delivered == "97")
        #expect(try await Self.liveText(driver, "#count-queued") == "0")
        #expect(try await Self.liveText(driver, "#count-failed") == "0")
        #expect(try await Self.liveText(driver, "#done") == "97")
        #expect(try await driver.texts("#messages tbody tr").count == 50, "the first page of messages")
        try await Self.expectShownAsText(driver, "#template", page: "batch")
        #expect(try await driver.texts("#rejections li").count == 3)

        let href = try #require(try await driver.attribute("#rejected-download", "href"))
        #expect(href.hasSuffix("/api/batches/\(batch)/rejected.csv"))
        let download = try HTTPProbe.request(href.hasPrefix("http") ? href : stack.base + href).get()
        let rows = download.body.split(separator: "\r\n")
        #expect(rows.count == 4, "\(download.body)")
        #expect(rows.dropFirst().map { $0.prefix { $0 != "," } } == ["11", "21", "31"])
        #expect(rows.dropFirst().map { $0.split(separator: ",")[2] } == ["invalid_number", "missing_field", "duplicate"])

        // The filter is a plain GET form.
        try await driver.go(batchURL + "?status=failed")
        _ = try await Self.waitForPage(driver, "/batches/", base: stack.base)
        #expect(try await driver.text("main").contains("No messages match."))

        try await driver.go(stack.base + "/results")
        _ = try await Self.waitForPage(driver, "/results", base: stack.base)
        try await driver.screenshot(to: Self.artifacts.appendingPathComponent("results.png"))
        #expect(try await driver.texts("#batches tbody tr").count == 1)
        #expect(try await driver.attribute("#batches tbody a", "href")?.hasSuffix("/batches/\(batch)") == true)
        try await Self.expectShownAsText(driver, "#batches tbody td.body", page: "results")

        try await driver.go(stack.base + "/monitoring")
        _ = try await Self.waitForPage(driver, "/monitoring", base: stack.base)
        try await driver.screenshot(to: Self.artifacts.appendingPathComponent("monitoring.png"))
        #expect(try await driver.text("#health") == "healthy")
        #expect(try await driver.text("#readiness") == "ready")
        // The sandbox (log) sender drains the queue: reload until the page shows it empty.
        var depth = try await driver.text("#queue-depth")
        let deadline = ContinuousClock.now + .seconds(30)
        while depth != "0", ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            try await driver.go(stack.base + "/monitoring")
            _ = try await Self.waitForPage(driver, "/monitoring", base: stack.base)
            depth = try await driver.text("#queue-depth")
        }
        #expect(depth == "0")
        await driver.quit()
    }

    /// With scripts off, the same upload → preview → send → results path works on plain forms.
    func withoutJavaScript(_ stack: Stack, chromium: String) async throws {
        let driver = stack.driver
        try await driver.startSession(chromium: chromium, javascript: false)
        let csv = stack.dir.appendingPathComponent("nojs.csv")
        try "phone,name\n+254733000001,Ann\n+254733000002,Ben\nnope,Cy\n".write(to: csv, atomically: true, encoding: .utf8)
        try await driver.go(stack.base + "/")
        _ = try await Self.waitForPage(driver, "/", base: stack.base)
        #expect(try await driver.attribute("html", "class") != "js", "JavaScript ran although it was turned off")
        try await driver.typeFile("#csvFile", csv.path)
        try await driver.type("#message", "Hi {name}, no script needed")
        try await driver.click("form[action='/preview'] button[type=submit]")
        _ = try await Self.waitForPage(driver, "/preview", base: stack.base)
        try await driver.screenshot(to: Self.artifacts.appendingPathComponent("preview-nojs.png"))
        #expect(try await driver.text("#total-messages") == "2")
        #expect(try await driver.texts("#rejected tbody tr").count == 1)
        try await driver.click("#send")
        let batchURL = try await Self.waitForPage(driver, "/batches/", base: stack.base)
        try await driver.screenshot(to: Self.artifacts.appendingPathComponent("batch-nojs.png"))
        // No script refreshes the page: reload it until the sandbox sender has delivered both.
        var delivered = try await driver.text("#count-delivered")
        let sent = ContinuousClock.now + .seconds(30)
        while delivered != "2", ContinuousClock.now < sent {
            try await Task.sleep(for: .milliseconds(250))
            try await driver.go(batchURL)
            _ = try await Self.waitForPage(driver, "/batches/", base: stack.base)
            delivered = try await driver.text("#count-delivered")
        }
        #expect(delivered == "2")
        try await driver.go(stack.base + "/results")
        _ = try await Self.waitForPage(driver, "/results", base: stack.base)
        try await driver.screenshot(to: Self.artifacts.appendingPathComponent("results-nojs.png"))
        let links = try await driver.findAll("#batches tbody a")
        #expect(links.count == 2)
        #expect(try await driver.attribute("#batches tbody a", "href")?.hasSuffix(String(batchURL.dropFirst(stack.base.count))) == true,
                "newest first")
        await driver.quit()
    }

    /// Screenshots for people (not committed): `.build/screenshots/`.
    static var screenshots: URL { URL(fileURLWithPath: ".build/screenshots") }

    /// The numbers a chart's series plots (its `data-values`), and its polyline's points.
    static func plotted(_ driver: WebDriver, chart: String, series: String) async throws -> (values: [Double?], points: [(x: Double, y: Double)]) {
        let css = "#\(chart) polyline[data-series='\(series)']"
        let values = try #require(try await driver.attribute(css, "data-values"), "no series \(series) in \(chart)")
            .split(separator: ",", omittingEmptySubsequences: false).map { Double($0) }
        let points = try #require(try await driver.attribute(css, "points")).split(separator: " ").compactMap { pair -> (x: Double, y: Double)? in
            let xy = pair.split(separator: ",").compactMap { Double($0) }
            return xy.count == 2 ? (xy[0], xy[1]) : nil
        }
        return (values, points)
    }

    /// A few thousand messages through a throttled sandbox sender: the live batch page while it
    /// sends (throughput, time left, messages waiting for the throttle), then the monitoring
    /// page's charts of that run, read back point by point.
    @Test(.enabled(if: available, "chromium or chromedriver is not on PATH (apt-get install chromium chromium-driver)"))
    func liveBatchAndMonitoringChartsOfARealRun() async throws {
        let chromium = try #require(Self.chromium, "EMMY_REQUIRE_TOOLS=1 but chromium is not on PATH")
        let chromedriver = try #require(Self.chromedriver, "EMMY_REQUIRE_TOOLS=1 but chromedriver is not on PATH")
        try FileManager.default.createDirectory(at: Self.screenshots, withIntermediateDirectories: true)
        let count = 3000
        // 300 segments a second: about 10 s of sending, long enough to see the batch live.
        let stack = try await Stack(chromedriver: chromedriver, spec: """
            version: 1
            project: screenshots
            app: { name: emmy-screenshots, sending: { segments_per_second: 300 } }
            """)
        do {
            let driver = stack.driver
            try await driver.startSession(chromium: chromium, javascript: true)
            let csv = stack.dir.appendingPathComponent("run.csv")
            try (["phone,name"] + (0..<count).map { "+2547\(String(format: "%08d", 10_000_000 + $0)),Name\($0)" }).joined(separator: "\n")
                .write(to: csv, atomically: true, encoding: .utf8)
            try await driver.go(stack.base + "/")
            _ = try await Self.waitForPage(driver, "/", base: stack.base)
            try await driver.typeFile("#csvFile", csv.path)
            try await driver.type("#message", "Hi {name}, your order is on its way.")
            try await driver.click("form[action='/preview'] button[type=submit]")
            _ = try await Self.waitForPage(driver, "/preview", base: stack.base)
            #expect(try await driver.text("#total-messages") == "\(count)")
            try await driver.click("#send")
            _ = try await Self.waitForPage(driver, "/batches/", base: stack.base)

            // Live: app.js refreshes the part in place; wait for a measured throughput and time left.
            var live: (throughput: String, eta: String, throttled: Int, sending: Int) = ("", "", 0, 0)
            var sawThrottled = false
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                live = (try await Self.liveText(driver, "#throughput"), try await Self.liveText(driver, "#eta"),
                        Int(try await Self.liveText(driver, "#phase-throttled")) ?? -1, Int(try await Self.liveText(driver, "#phase-sending")) ?? -1)
                sawThrottled = sawThrottled || live.throttled > 0
                if live.eta.hasPrefix("about "), live.throttled > 0 { break }
                if live.eta == "done" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            try await driver.screenshot(to: Self.screenshots.appendingPathComponent("batch-live.png"))
            #expect(live.eta.hasPrefix("about ") && live.throughput.hasSuffix(" messages/min") && live.throughput != "0 messages/min", "\(live)")
            #expect(sawThrottled, "with a 300/s throttle and 8 workers, messages wait for the throttle")
            #expect(live.sending >= 0 && live.sending <= 8, "at most one message per worker is at the provider: \(live)")

            var done = try await Self.liveText(driver, "#done")
            while done != "\(count)", ContinuousClock.now < deadline + .seconds(120) {
                try await Task.sleep(for: .milliseconds(250))
                done = try await Self.liveText(driver, "#done")
            }
            let eta = try await Self.liveText(driver, "#eta")
            #expect(done == "\(count)" && eta == "done", "\(done) \(eta)")

            try await driver.go(stack.base + "/monitoring")
            _ = try await Self.waitForPage(driver, "/monitoring", base: stack.base)
            try await driver.screenshot(to: Self.screenshots.appendingPathComponent("monitoring.png"))
            // The sandbox delivers every message: the delivered line adds up to the run, minute by minute.
            let delivered = try await Self.plotted(driver, chart: "chart-messages", series: "delivered")
            #expect(delivered.values.count == 60 && delivered.values.compactMap { $0 }.reduce(0, +) == Double(count), "\(delivered.values)")
            #expect(delivered.points.count == 60)
            // Each point sits where its value belongs: the highest minute at the top of the axis
            // scale, an empty minute on the baseline.
            let yMaxText = try await driver.attribute("#chart-messages", "data-y-max") ?? ""
            let yMax = try #require(Double(yMaxText), "data-y-max: \(yMaxText)")
            let peak = try #require(delivered.values.compactMap { $0 }.max())
            let peakIndex = try #require(delivered.values.firstIndex(of: peak))
            let plotTop = 8.0, plotBottom = 160.0 - 18.0
            #expect(abs(delivered.points[peakIndex].y - (plotTop + (plotBottom - plotTop) * (1 - peak / yMax))) < 0.11, "\(delivered.points[peakIndex])")
            if let empty = delivered.values.firstIndex(of: 0) { #expect(abs(delivered.points[empty].y - plotBottom) < 0.11) }
            let errors = try await Self.plotted(driver, chart: "chart-errors", series: "error ratio")
            #expect(errors.values.compactMap { $0 }.allSatisfy { $0 == 0 } && !errors.values.compactMap { $0 }.isEmpty, "attempts were made and none failed")
            #expect(try await driver.text("#chart-source").contains("own history"))
            await driver.quit()
        } catch {
            Issue.record("\(error)\n\(stack.server.logTail())\n\(stack.driverProcess.logTail())")
        }
        await stack.stop()
        try? FileManager.default.removeItem(at: stack.dir)
    }
}
