@testable import EmmyApp
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The web UI through the router: escaping, CSRF, headers, sign-in, and a preview that agrees
/// with what Send queues. The real-browser scenario is BrowserTests (EmmyOpsKitTests).
@Suite struct WebTests {
    static let hostileTemplate = "Hi {name} <script>alert('t')</script>\"><img src=x onerror=alert(2)>"
    static let hostileName = "\"><img src=x onerror=alert(1)><script>alert(3)</script>"

    /// A browser's cookie jar for one test: the CSRF cookie and, when signed in, the session.
    struct Browser {
        var cookies: [String: String] = [:]
        var csrf = ""

        var cookieHeader: HTTPFields {
            cookies.isEmpty ? [:] : [.cookie: cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")]
        }

        mutating func absorb(_ response: TestResponse) {
            for line in response.headers[values: .setCookie] {
                let pair = line.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if pair.count == 2 { cookies[String(pair[0])] = String(pair[1]) }
            }
            let html = String(buffer: response.body)
            if let range = html.range(of: "name=\"csrf\" value=\"") {
                csrf = String(html[range.upperBound...].prefix { $0 != "\"" })
            }
        }

        func form(_ fields: [String: String]) -> (HTTPFields, ByteBuffer) {
            var headers = cookieHeader
            headers[.contentType] = "application/x-www-form-urlencoded"
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let body = fields.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
            return (headers, ByteBuffer(string: body))
        }

        func upload(csv: String, message: String, phoneColumn: String? = nil, csrf: String? = nil) -> (HTTPFields, ByteBuffer) {
            var parts: [(name: String, filename: String?, body: [UInt8])] = [
                ("csrf", nil, Array((csrf ?? self.csrf).utf8)), ("csvFile", "contacts.csv", Array(csv.utf8)), ("message", nil, Array(message.utf8)),
            ]
            if let phoneColumn { parts.append(("phone_column", nil, Array(phoneColumn.utf8))) }
            var (headers, body) = UploadTests.multipart(parts, apiClient: false)
            headers.append(contentsOf: cookieHeader)
            return (headers, body)
        }
    }

    static func html(_ response: TestResponse) -> String { String(buffer: response.body) }

    /// The draft id in a preview page's Send form.
    static func draft(_ html: String) throws -> String {
        let range = try #require(html.range(of: "name=\"draft\" value=\""), "no draft in the page")
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    /// Hostile text shows as text: the markup it carries is escaped, never live.
    static func expectEscaped(_ html: String, _ page: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!html.contains("<img"), "\(page): an <img> from untrusted text became markup", sourceLocation: sourceLocation)
        #expect(!html.contains("<script>alert"), "\(page): a <script> from untrusted text became markup", sourceLocation: sourceLocation)
        #expect(html.contains("&lt;script&gt;alert("), "\(page): the hostile text is not shown", sourceLocation: sourceLocation)
    }

    @Test func everyPageAndErrorCarriesTheSecurityHeaders() async throws {
        let harness = try await ServerTests.Harness()
        try await harness.app.test(.router) { client in
            for uri in ["/", "/results", "/monitoring", "/login", "/static/app.css", "/static/app.js", "/api/batches", "/batches/nope", "/static/nope"] {
                try await client.execute(uri: uri, method: .get) { response in
                    let csp = response.headers[HTTPField.Name("Content-Security-Policy")!] ?? ""
                    #expect(csp.contains("default-src 'self'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "\(uri)")
                    #expect(csp.contains("frame-ancestors 'none'"), "\(uri)")
                    #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(uri)")
                    #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer", "\(uri)")
                    #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(uri)")
                }
            }
            try await client.execute(uri: "/", method: .get) { response in
                let html = Self.html(response)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                // No inline script or style, nothing from another origin.
                #expect(!html.contains("<script>") && !html.contains("style=") && !html.contains("http://") && !html.contains("https://"))
                for id in ["csvFile", "message", "default_region", "phone_column"] {
                    #expect(html.contains("<label for=\"\(id)\">") && html.contains("id=\"\(id)\""), "input \(id) has no label")
                }
                let cookie = response.headers[values: .setCookie].first { $0.hasPrefix("emmy_csrf=") } ?? ""
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "\(cookie)")
            }
        }
    }

    @Test func hostileTemplateAndCSVValuesShowAsTextOnEveryPage() async throws {
        let harness = try await ServerTests.Harness()
        try await harness.app.test(.router) { client in
            var browser = Browser()
            try await client.execute(uri: "/", method: .get) { browser.absorb($0) }
            let csv = "phone,name\n+254712345678,\"\(Self.hostileName.replacingOccurrences(of: "\"", with: "\"\""))\"\nnot-a-number,\"\(Self.hostileName.replacingOccurrences(of: "\"", with: "\"\""))\"\n"
            let (headers, body) = browser.upload(csv: csv, message: Self.hostileTemplate)
            let draft = try await client.execute(uri: "/preview", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .ok)
                let html = Self.html(response)
                Self.expectEscaped(html, "preview")
                #expect(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"))
                #expect(html.contains("<td id=\"total-messages\">") == false && html.contains("id=\"total-messages\">1<"))
                return try Self.draft(html)
            }
            let (sendHeaders, sendBody) = browser.form(["csrf": browser.csrf, "draft": draft])
            let location = try await client.execute(uri: "/send", method: .post, headers: sendHeaders, body: sendBody) { response in
                #expect(response.status == .seeOther, "\(Self.html(response))")
                return try #require(response.headers[.location])
            }
            #expect(location.hasPrefix("/batches/"))
            for uri in [location, "/results", "\(location)?status=queued"] {
                try await client.execute(uri: uri, method: .get, headers: browser.cookieHeader) { response in
                    #expect(response.status == .ok)
                    Self.expectEscaped(Self.html(response), uri)
                }
            }
        }
    }

    @Test func formsWithoutTheirCSRFTokenAreRefused() async throws {
        let harness = try await ServerTests.Harness()
        try await harness.app.test(.router) { client in
            var browser = Browser()
            try await client.execute(uri: "/", method: .get) { browser.absorb($0) }
            #expect(!browser.csrf.isEmpty && browser.cookies["emmy_csrf"] != nil)
            let csv = "phone,name\n+254712345678,Amina\n"
            // A form from another site has neither the cookie's token nor (SameSite) the cookie.
            for (label, token, cookies) in [("no token", "", browser.cookies), ("forged token", "AAAA" + browser.csrf.dropFirst(4), browser.cookies),
                                            ("no cookie", browser.csrf, [:])] {
                var other = browser
                other.cookies = cookies
                let (headers, body) = other.upload(csv: csv, message: "hi {name}", csrf: token)
                try await client.execute(uri: "/preview", method: .post, headers: headers, body: body) { response in
                    #expect(response.status == .forbidden, "\(label)")
                    #expect(Self.html(response).contains("csrf_failed"), "\(label)")
                }
                let (formHeaders, formBody) = other.form(["csrf": token, "draft": UUID().uuidString])
                for uri in ["/send", "/login", "/api/batches/x/retry-failed"] {
                    try await client.execute(uri: uri, method: .post, headers: formHeaders, body: formBody) { response in
                        #expect(response.status == .forbidden, "\(label) \(uri)")
                    }
                }
            }
            // A browser (Accept: text/html) is told on a page, which carries a fresh token.
            var (pageHeaders, pageBody) = browser.form(["csrf": "stale", "draft": UUID().uuidString])
            pageHeaders[.accept] = "text/html,application/xhtml+xml"
            try await client.execute(uri: "/send", method: .post, headers: pageHeaders, body: pageBody) { response in
                #expect(response.status == .forbidden)
                #expect(Self.html(response).contains("security token is missing or stale") && Self.html(response).contains("<!doctype html>"))
            }
            // Provider callbacks are urlencoded forms without a token: not the guard's business.
            let (hookHeaders, hookBody) = Browser().form(["MessageSid": "SM1", "MessageStatus": "delivered"])
            try await client.execute(uri: "/webhooks/twilio", method: .post, headers: hookHeaders, body: hookBody) { response in
                #expect(response.status != .forbidden)
            }
            // Nothing was queued by the refused forms; the API with JSON is unaffected.
            #expect(try await harness.database.statusCounts().isEmpty)
            let (headers, body) = ServerTests.json(#"{"contacts":[{"phone":"+254712345678"}],"message":"hi"}"#)
            try await client.execute(uri: "/messages", method: .post, headers: headers, body: body) { #expect($0.status == .accepted) }
        }
    }

    /// Retry failed shows only when something failed; a browser's click comes back to the page,
    /// an API client still gets JSON.
    @Test func retryFailedShowsOnlyWhenSomethingFailedAndBrowsersComeBack() async throws {
        let harness = try await ServerTests.Harness()
        try await harness.app.test(.router) { client in
            var browser = Browser()
            try await client.execute(uri: "/", method: .get) { browser.absorb($0) }
            let (headers, body) = ServerTests.json(#"{"contacts":[{"phone":"+254712345678"},{"phone":"+254712345679"}],"message":"hi"}"#)
            let batch = try await client.execute(uri: "/messages", method: .post, headers: headers, body: body) { response in
                try #require(try ServerTests.object(response)["batch_id"] as? String)
            }
            try await client.execute(uri: "/batches/\(batch)", method: .get) { response in
                #expect(!Self.html(response).contains("retry-failed"), "nothing failed, yet the page offers a retry")
            }
            // The first message fails at the provider.
            let first = try #require(try await harness.database.claim(limit: 1, runID: "test", now: Date()).jobs.first)
            _ = try await harness.database.record([.failed(id: first.message.id, code: "21211", reason: "invalid")], now: Date())
            try await client.execute(uri: "/batches/\(batch)", method: .get) { response in
                #expect(Self.html(response).contains("action=\"/api/batches/\(batch)/retry-failed\""))
            }
            var (formHeaders, formBody) = browser.form(["csrf": browser.csrf])
            formHeaders[.accept] = "text/html,application/xhtml+xml"
            try await client.execute(uri: "/api/batches/\(batch)/retry-failed", method: .post, headers: formHeaders, body: formBody) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/batches/\(batch)")
            }
            try await client.execute(uri: "/api/batches/\(batch)/retry-failed", method: .post, headers: [.accept: "application/json"]) { response in
                #expect(response.status == .accepted)
                let answer = try ServerTests.object(response)
                #expect(answer["batch_id"] as? String == batch)
            }
        }
    }

    /// A batch is known by the file it came from: the API, the batch page and the results list
    /// show the upload's name (its last path component), from the API and from preview + Send.
    @Test func batchesCarryTheUploadsFileName() async throws {
        let harness = try await ServerTests.Harness()
        try await harness.app.test(.router) { client in
            let (headers, body) = UploadTests.multipart([("csvFile", #"C:\Users\amina\march <customers>.csv"#, Array("phone\n+254712345678\n".utf8)),
                                                         ("message", nil, Array("hi".utf8))])
            let batch = try await client.execute(uri: "/upload", method: .post, headers: headers, body: body) { response in
                try #require(try ServerTests.object(response)["batch_id"] as? String)
            }
            try await client.execute(uri: "/api/batches/\(batch)", method: .get) { response in
                let item = try ServerTests.object(response)
                #expect(item["file_name"] as? String == "march <customers>.csv")
            }
            try await client.execute(uri: "/batches/\(batch)", method: .get) { response in
                #expect(Self.html(response).contains("<h1>Batch march &lt;customers&gt;.csv</h1>"))
            }
            try await client.execute(uri: "/results", method: .get) { response in
                #expect(Self.html(response).contains(">march &lt;customers&gt;.csv</a>"))
            }

            var browser = Browser()
            try await client.execute(uri: "/", method: .get) { browser.absorb($0) }
            let (previewHeaders, previewBody) = browser.upload(csv: "phone\n+254712345679\n", message: "hello")
            let draft = try await client.execute(uri: "/preview", method: .post, headers: previewHeaders, body: previewBody) { try Self.draft(Self.html($0)) }
            let (sendHeaders, sendBody) = browser.form(["csrf": browser.csrf, "draft": draft])
            let location = try await client.execute(uri: "/send", method: .post, headers: sendHeaders, body: sendBody) { try #require($0.headers[.location]) }
            try await client.execute(uri: location, method: .get) { response in
                #expect(Self.html(response).contains("<h1>Batch contacts.csv</h1>"))
            }
        }
    }

    /// A malformed row (more fields than the header) is shown as written, in the preview and
    /// on the batch page, so the person can see what to fix.
    @Test func aMalformedRowShowsItsOriginalText() async throws {
        let harness = try await ServerTests.Harness()
        let csv = "phone,name\n+254712345678,Amina,surplus\n+254712345679,Ben\n"
        try await harness.app.test(.router) { client in
            var browser = Browser()
            try await client.execute(uri: "/", method: .get) { browser.absorb($0) }
            let (previewHeaders, previewBody) = browser.upload(csv: csv, message: "hello {name}")
            let draft = try await client.execute(uri: "/preview", method: .post, headers: previewHeaders, body: previewBody) { response in
                let html = Self.html(response)
                #expect(html.contains("+254712345678,Amina,surplus"), "the preview shows the malformed row's text")
                return try Self.draft(html)
            }
            let (sendHeaders, sendBody) = browser.form(["csrf": browser.csrf, "draft": draft])
            let location = try await client.execute(uri: "/send", method: .post, headers: sendHeaders, body: sendBody) { try #require($0.headers[.location]) }
            try await client.execute(uri: location, method: .get) { response in
                #expect(Self.html(response).contains("+254712345678,Amina,surplus"), "the batch page shows the malformed row's text")
            }
        }
    }

    /// Every kind of row the preview must explain, and a Send that queues exactly what it promised.
    @Test func previewCountsMatchWhatSendQueues() async throws {
        let harness = try await ServerTests.Harness()
        let long = String(repeating: "a", count: 160)  // with a name: over 160 GSM-7 characters, 2 segments
        let csv = """
            phone,name
            +254712345678,Amina
            12345,Bad
            +254712345679,
            +254712345678,Again
            +254712345680,Łukasz
            +254712345681,Ben
            +254712345682,Stopped

            """
        _ = try await OptOutList(database: harness.database).add(["+254712345682"], source: "test")
        try await harness.app.test(.router) { client in
            var browser = Browser()
            try await client.execute(uri: "/", method: .get) { browser.absorb($0) }
            // The same text already went to +254712345681 within the dedupe window.
            let (jsonHeaders, jsonBody) = ServerTests.json(#"{"contacts":[{"phone":"+254712345681","name":"Ben"}],"message":"\#(long) {name}"}"#)
            try await client.execute(uri: "/messages", method: .post, headers: jsonHeaders, body: jsonBody) { #expect($0.status == .accepted) }

            var (headers, body) = browser.upload(csv: csv, message: "\(long) {name}")
            headers[.accept] = "application/json"
            let draft = try await client.execute(uri: "/api/preview", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .ok, "\(Self.html(response))")
                let answer = try ServerTests.object(response)
                let preview = try #require(answer["preview"] as? [String: Any])
                #expect(preview["rows"] as? Int == 7)
                #expect(preview["messages"] as? Int == 2)
                // Amina: GSM-7, 166 septets → 2 segments; Łukasz: UCS-2 (Ł), 167 units → 3 segments.
                #expect(preview["segments"] as? Int == 5)
                #expect(preview["ucs2_messages"] as? Int == 1)
                let rejected = try #require(preview["rejected"] as? [[String: Any]])
                #expect(rejected.map { $0["row"] as? Int } == [3, 4, 5, 7, 8])
                #expect(rejected.map { $0["kind"] as? String } == ["invalid_number", "missing_field", "duplicate", "duplicate", "opted_out"])
                let sample = try #require(preview["sample"] as? [[String: Any]])
                #expect(sample.last?["ucs2_characters"] as? String == "Ł")
                return try #require(answer["draft_id"] as? String)
            }
            // The page shows the same, with the UCS-2 character marked.
            let (pageHeaders, pageBody) = browser.form(["csrf": browser.csrf, "draft": draft])
            try await client.execute(uri: "/preview", method: .post, headers: pageHeaders, body: pageBody) { response in
                let html = Self.html(response)
                #expect(html.contains("id=\"total-segments\">5<") && html.contains("id=\"total-rejected\">5<"))
                #expect(html.contains("opted out"))
                #expect(html.contains("<mark title=\"forces UCS-2\">Ł</mark>ukasz"))
                #expect(html.contains("appears earlier in this batch") && html.contains("within the last 24h"))
            }
            let (sendHeaders, sendBody) = browser.form(["csrf": browser.csrf, "draft": draft])
            let location = try await client.execute(uri: "/send", method: .post, headers: sendHeaders, body: sendBody) { response in
                #expect(response.status == .seeOther)
                return try #require(response.headers[.location])
            }
            let batch = String(location.dropFirst("/batches/".count))
            try await client.execute(uri: "/api/batches/\(batch)", method: .get) { response in
                let item = try ServerTests.object(response)
                #expect((item["statuses"] as? [String: Int])?["queued"] == 2)
                #expect(item["rejected"] as? Int == 3 && item["duplicates"] as? Int == 2)
            }
            try await client.execute(uri: location, method: .get) { response in
                let html = Self.html(response)
                #expect(html.contains("id=\"count-queued\">2<") && html.contains("data-live=\"true\""))
                #expect(html.contains("href=\"/api/batches/\(batch)/rejected.csv\""))
            }
            // The draft is gone: a second Send (a double click) queues nothing.
            try await client.execute(uri: "/send", method: .post, headers: sendHeaders, body: sendBody) { response in
                #expect(response.status == .gone)
            }
            try await client.execute(uri: "/api/batches/\(batch)/failed.csv", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "row,phone,status,updated_at,body\r\n")
            }
            try await client.execute(uri: "/results", method: .get) { response in
                #expect(Self.html(response).contains("href=\"/batches/\(batch)\""))
            }
        }
    }

    /// A file full of bad rows: the page lists the first few hundred (staying under 100 KB), the
    /// draft's download has every one.
    @Test func manyRejectedRowsStayLightAndAllDownload() async throws {
        let harness = try await ServerTests.Harness()
        let csv = "phone,name\n" + (1...2000).map { "bad-\($0),\(String(repeating: "x", count: 40))\n" }.joined()
        try await harness.app.test(.router) { client in
            var browser = Browser()
            try await client.execute(uri: "/", method: .get) { browser.absorb($0) }
            let (headers, body) = browser.upload(csv: csv, message: "hi {name}")
            let draft = try await client.execute(uri: "/preview", method: .post, headers: headers, body: body) { response in
                let html = Self.html(response)
                #expect(html.contains("id=\"total-rejected\">2000<") && html.contains("Only the first 300 are listed"))
                #expect(response.body.readableBytes < 100_000, "\(response.body.readableBytes) bytes")
                #expect(!html.contains("action=\"/send\""), "nothing to send")
                return try Self.draft(html)
            }
            try await client.execute(uri: "/api/preview/\(draft)/rejected.csv", method: .get, headers: browser.cookieHeader) { response in
                let lines = String(buffer: response.body).split(separator: "\r\n")
                #expect(lines.count == 2001 && lines.last?.hasPrefix("2001,phone,invalid_number,") == true)
            }
            try await client.execute(uri: "/api/preview/not-a-draft/rejected.csv", method: .get) { #expect($0.status == .gone) }
        }
    }

    @Test func aMissingPhoneColumnOffersTheHeaderToChooseFrom() async throws {
        let harness = try await ServerTests.Harness()
        try await harness.app.test(.router) { client in
            var browser = Browser()
            try await client.execute(uri: "/", method: .get) { browser.absorb($0) }
            let (headers, body) = browser.upload(csv: "Mobile,name\n+254712345678,Amina\n", message: "hi {name}")
            let draft = try await client.execute(uri: "/preview", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .badRequest)
                let html = Self.html(response)
                #expect(html.contains("no `phone` column") && html.contains("<option value=\"mobile\">mobile</option>"))
                #expect(!html.contains("action=\"/send\""))
                return try Self.draft(html)
            }
            let (formHeaders, formBody) = browser.form(["csrf": browser.csrf, "draft": draft, "message": "hi {name}", "phone_column": "mobile"])
            try await client.execute(uri: "/preview", method: .post, headers: formHeaders, body: formBody) { response in
                #expect(response.status == .ok)
                #expect(Self.html(response).contains("id=\"total-messages\">1<") && Self.html(response).contains("action=\"/send\""))
            }
        }
    }

    @Test func pagesNeedASessionWhenAuthIsOn() async throws {
        let harness = try await ServerTests.Harness { $0.authRequired = true }
        let token = try await TokenStore(database: harness.database).create(name: "web")
        try await harness.app.test(.router) { client in
            try await client.execute(uri: "/results", method: .get) { response in
                #expect(response.status == .seeOther && response.headers[.location] == "/login")
            }
            var browser = Browser()
            try await client.execute(uri: "/login", method: .get) { browser.absorb($0) }
            let (badHeaders, badBody) = browser.form(["csrf": browser.csrf, "token": "emmy_wrong"])
            try await client.execute(uri: "/login", method: .post, headers: badHeaders, body: badBody) { response in
                #expect(response.status == .unauthorized && Self.html(response).contains("unknown or revoked"))
            }
            // Without a session, a form with a valid CSRF token still needs auth.
            let (sendHeaders, sendBody) = browser.form(["csrf": browser.csrf, "draft": UUID().uuidString])
            try await client.execute(uri: "/send", method: .post, headers: sendHeaders, body: sendBody) { #expect($0.status == .unauthorized) }
            var browserHeaders = sendHeaders
            browserHeaders[.accept] = "text/html"
            try await client.execute(uri: "/send", method: .post, headers: browserHeaders, body: sendBody) { response in
                #expect(response.status == .seeOther && response.headers[.location] == "/login")
            }
            let (headers, body) = browser.form(["csrf": browser.csrf, "token": token])
            try await client.execute(uri: "/login", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .seeOther)
                let cookie = response.headers[values: .setCookie].first { $0.hasPrefix("emmy_session=") } ?? ""
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && !cookie.contains("Secure"), "\(cookie)")
                browser.absorb(response)
            }
            try await client.execute(uri: "/results", method: .get, headers: browser.cookieHeader) { response in
                #expect(response.status == .ok && Self.html(response).contains("Sign out"))
            }
            let (signedHeaders, signedBody) = browser.form(["csrf": browser.csrf, "draft": UUID().uuidString])
            try await client.execute(uri: "/send", method: .post, headers: signedHeaders, body: signedBody) { #expect($0.status == .gone) }
            // The API still wants its bearer token.
            let (apiHeaders, apiBody) = ServerTests.json(#"{"contacts":[{"phone":"+254712345678"}],"message":"hi"}"#)
            var withCookies = apiHeaders
            withCookies.append(contentsOf: browser.cookieHeader)
            try await client.execute(uri: "/messages", method: .post, headers: withCookies, body: apiBody) { #expect($0.status == .unauthorized) }
        }
    }

    /// Page weight: each page with its stylesheet and script stays far under 100 KB.
    @Test func pagesWeighUnder100KB() async throws {
        let harness = try await ServerTests.Harness()
        let assets = EmbeddedWebTemplates.assets.values.reduce(0) { $0 + $1.utf8.count }
        try await harness.app.test(.router) { client in
            for uri in ["/", "/results", "/monitoring", "/login"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.body.readableBytes + assets < 100_000, "\(uri)")
                }
            }
        }
    }

    @Test func monitoringLinksOnlyWebDashboards() async throws {
        let harness = try await ServerTests.Harness {
            $0.dashboards = ["Grafana": "https://grafana.example.test/d/emmy", "Prometheus": "javascript:alert(1)"]
        }
        try await harness.app.test(.router) { client in
            try await client.execute(uri: "/monitoring", method: .get) { response in
                let html = Self.html(response)
                #expect(html.contains("<a href=\"https://grafana.example.test/d/emmy\">Grafana</a>"))
                #expect(!html.contains("javascript:"))
                #expect(html.contains("id=\"health\">healthy<") && html.contains("id=\"queue-depth\">0<"))
            }
        }
    }
}
