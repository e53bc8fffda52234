@testable import EmmyApp
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import Testing

/// Issue 18's request-security defects, each through the router as an attacker would send it:
/// CSRF with auth off, reads with auth on, rate limits by route, bounded drafts, replayed
/// webhooks, unexpected errors, spreadsheet formulas and the proxy defaults.
@Suite struct RequestSecurityTests {
    static let contacts = #"{"contacts": [{"phone": "+254712345678"}], "message": "hi"}"#
    static let evil = "http://evil.example"

    static func code(_ response: TestResponse) -> String? {
        ((try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any]).flatMap { $0["error"] as? [String: Any] }?["code"] as? String
    }

    /// How many of the numbers the forged requests name are opted out.
    static func optOutCount(_ database: any AppStore) async throws -> Int {
        try await database.optedOut(["+254712345678", "+254712345679"]).count
    }

    /// Defect 1: with auth off (the default), what a web page can send cross-site without a
    /// preflight changes nothing; API clients (JSON without Origin, or any `Authorization`) do.
    @Test func browserWritesWithoutATokenAreRefusedAndAPIClientsAreNot() async throws {
        let harness = try await ServerTests.Harness()
        let csv = Array("phone\n+254712345678\n".utf8)
        let (scriptForm, formBody) = UploadTests.multipart([("csvFile", "c.csv", csv), ("message", nil, Array("hi".utf8))], apiClient: false)
        // What a browser adds to every request it sends on a page's behalf, even one too old to
        // send `Origin`: the site's cookies.
        let formHeaders = scriptForm.merging([.cookie: "emmy_csrf=stale"])
        // (label, uri, headers, body)
        let attacks: [(String, String, HTTPFields, ByteBuffer)] = [
            ("text/plain JSON cross-site", "/messages", [.contentType: "text/plain", .origin: Self.evil], ByteBuffer(string: Self.contacts)),
            ("text/plain JSON, cookie but no Origin", "/messages", [.contentType: "text/plain;charset=UTF-8", .cookie: "a=b"], ByteBuffer(string: Self.contacts)),
            ("text/plain JSON, trailing slash", "/messages/", [.contentType: "text/plain", .origin: "null"], ByteBuffer(string: Self.contacts)),
            ("JSON from another origin", "/messages", [.contentType: "application/json", .origin: Self.evil], ByteBuffer(string: Self.contacts)),
            ("JSON, Origin null", "/messages", [.contentType: "application/json", .origin: "null"], ByteBuffer(string: Self.contacts)),
            ("JSON, same-site other origin", "/messages", [.contentType: "application/json", .secFetchSite: "same-site"], ByteBuffer(string: Self.contacts)),
            ("multipart without token", "/upload", formHeaders, formBody),
            ("multipart cross-site", "/upload", formHeaders.merging([.origin: Self.evil]), formBody),
            ("multipart preview cross-site", "/api/preview", formHeaders.merging([.secFetchSite: "cross-site"]), formBody),
            ("text/plain opt-out", "/api/optouts", [.contentType: "text/plain", .referer: "http://evil.example/"], ByteBuffer(string: #"{"phones": ["+254712345679"]}"#)),
            ("urlencoded opt-out", "/api/optouts", [.contentType: "application/x-www-form-urlencoded"], ByteBuffer(string: "phones=1")),
            ("bodiless retry cross-site", "/api/batches/B/retry-failed", [.secFetchSite: "cross-site"], ByteBuffer()),
            ("bodiless retry, other Origin", "/api/batches/B/retry-failed", [.origin: Self.evil], ByteBuffer()),
            ("forged X-CSRF-Token", "/api/optouts", [.contentType: "text/plain", .csrfToken: "AAAA"], ByteBuffer(string: "{}")),
        ]
        try await harness.app.test(.router) { client in
            let batch = try await client.execute(uri: "/messages", method: .post, headers: [.contentType: "application/json", .authorization: "Bearer x"],
                                                 body: ByteBuffer(string: Self.contacts)) { response in
                #expect(response.status == .accepted)
                return try #require(try ServerTests.object(response)["batch_id"] as? String)
            }
            let before = try await harness.database.statusCounts()
            for (label, uri, headers, body) in attacks {
                let uri = uri.replacingOccurrences(of: "/B/", with: "/\(batch)/")
                try await client.execute(uri: uri, method: .post, headers: headers, body: body) { response in
                    #expect(response.status == .forbidden, "\(label): \(response.status) \(String(buffer: response.body).prefix(200))")
                    #expect(Self.code(response) == "csrf_failed", "\(label)")
                    #expect(String(buffer: response.body).contains("refused"), "\(label): the answer names the reason")
                }
            }
            #expect(try await harness.database.statusCounts() == before, "a refused request changed the queue")
            #expect(try await Self.optOutCount(harness.database) == 0)

            // API clients: JSON without Origin, a script's form (the seed's `curl -F`: no header a
            // browser adds), or anything with Authorization.
            try await client.execute(uri: "/messages", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: Self.contacts)) { #expect($0.status == .accepted) }
            try await client.execute(uri: "/api/batches/\(batch)/retry-failed", method: .post) { #expect($0.status == .accepted) }
            try await client.execute(uri: "/upload", method: .post, headers: scriptForm, body: formBody) { #expect($0.status == .accepted) }
            var apiForm = formHeaders
            apiForm[.authorization] = "Bearer anything"
            try await client.execute(uri: "/upload", method: .post, headers: apiForm, body: formBody) { #expect($0.status == .accepted) }
            // /messages reads JSON only: the same body as text/plain is refused even from an API client.
            try await client.execute(uri: "/messages", method: .post, headers: [.contentType: "text/plain", .authorization: "Bearer x"],
                                     body: ByteBuffer(string: Self.contacts)) { response in
                #expect(response.status == .unsupportedMediaType)
                #expect(Self.code(response) == "not_json")
            }
            // A page of ours may send its token as a header.
            var browser = WebTests.Browser()
            try await client.execute(uri: "/", method: .get) { browser.absorb($0) }
            var tokenForm = scriptForm
            tokenForm.append(contentsOf: browser.cookieHeader)
            tokenForm[.csrfToken] = browser.csrf
            try await client.execute(uri: "/upload", method: .post, headers: tokenForm, body: formBody) { #expect($0.status == .accepted) }
            // Our own preview form, as Chromium posts it: its page's `Referrer-Policy: no-referrer`
            // makes the Origin `null`, and the token in the form is what vouches for it.
            var (previewHeaders, previewBody) = browser.upload(csv: "phone\n+254712345670\n", message: "hi")
            previewHeaders[.origin] = "null"
            previewHeaders[.secFetchSite] = "same-origin"
            try await client.execute(uri: "/preview", method: .post, headers: previewHeaders, body: previewBody) { #expect($0.status == .ok) }
            var forged = previewHeaders
            forged[.secFetchSite] = nil
            let (_, tokenless) = browser.upload(csv: "phone\n+254712345670\n", message: "hi", csrf: "")
            try await client.execute(uri: "/preview", method: .post, headers: forged, body: tokenless) { #expect($0.status == .forbidden) }
        }
    }

    @Test func originsAreComparedByHostAndPort() {
        #expect(WebGuardMiddleware.isSameOrigin("http://127.0.0.1:5000", authority: "127.0.0.1:5000"))
        #expect(WebGuardMiddleware.isSameOrigin("https://sms.example.com", authority: "sms.example.com"))
        #expect(WebGuardMiddleware.isSameOrigin("https://sms.example.com", authority: "sms.example.com:443"))
        #expect(WebGuardMiddleware.isSameOrigin("http://sms.example.com:80", authority: "sms.example.com"))
        #expect(!WebGuardMiddleware.isSameOrigin("http://127.0.0.1:5001", authority: "127.0.0.1:5000"))
        #expect(!WebGuardMiddleware.isSameOrigin("http://127.0.0.2:5000", authority: "127.0.0.1:5000"))
        #expect(!WebGuardMiddleware.isSameOrigin("null", authority: "127.0.0.1:5000"))
        #expect(!WebGuardMiddleware.isSameOrigin("http://evil.example", authority: nil))
    }

    /// Defect 2: with auth on, reads need a token or a session like writes do; pages redirect,
    /// and the probes that supervisors, deploy gates and Prometheus call stay open.
    @Test func withAuthOnReadsNeedATokenOrASession() async throws {
        let harness = try await ServerTests.Harness { $0.authRequired = true }
        let token = try await TokenStore(database: harness.database).create(name: "reader")
        let bearer: HTTPFields = [.authorization: "Bearer \(token)"]
        try await harness.app.test(.router) { client in
            var headers = bearer
            headers[.contentType] = "application/json"
            let batch = try await client.execute(uri: "/messages", method: .post, headers: headers, body: ByteBuffer(string: Self.contacts)) { response in
                try #require(try ServerTests.object(response)["batch_id"] as? String)
            }
            let reads = ["/api/messages", "/api/batches", "/api/batches/\(batch)", "/api/batches/\(batch)/rejected.csv",
                         "/api/batches/\(batch)/failed.csv", "/api/preview/\(UUID().uuidString)/rejected.csv", "/metrics_summary"]
            for uri in reads {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .unauthorized, "\(uri) answered \(response.status) without credentials")
                    #expect(!String(buffer: response.body).contains("+254712345678"), "\(uri) leaked a number")
                }
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer emmy_wrong"]) { #expect($0.status == .unauthorized, "\(uri)") }
                try await client.execute(uri: uri, method: .get, headers: bearer) { response in
                    #expect(response.status == .ok || response.status == .gone, "\(uri) with a token: \(response.status)")
                }
            }
            try await client.execute(uri: "/api/messages", method: .get, headers: bearer) { response in
                #expect(String(buffer: response.body).contains("+254712345678"))
            }
            for page in ["/", "/results", "/batches/\(batch)", "/monitoring"] {
                try await client.execute(uri: page, method: .get) { response in
                    #expect(response.status == .seeOther && response.headers[.location] == "/login", "\(page)")
                }
            }
            for open in ["/health", "/ready", "/metrics", "/login", "/static/app.css"] {
                try await client.execute(uri: open, method: .get) { #expect($0.status == .ok, "\(open) must stay open") }
            }
            // A signed-in browser reads what its pages link to (the CSV downloads).
            var browser = WebTests.Browser()
            try await client.execute(uri: "/login", method: .get) { browser.absorb($0) }
            let (loginHeaders, loginBody) = browser.form(["csrf": browser.csrf, "token": token])
            try await client.execute(uri: "/login", method: .post, headers: loginHeaders, body: loginBody) { browser.absorb($0) }
            try await client.execute(uri: "/api/batches/\(batch)/rejected.csv", method: .get, headers: browser.cookieHeader) { #expect($0.status == .ok) }
            // ... but a session alone is not enough for a write without the form's token.
            var sessionWrite = browser.cookieHeader
            sessionWrite[.contentType] = "application/json"
            try await client.execute(uri: "/api/optouts", method: .post, headers: sessionWrite,
                                     body: ByteBuffer(string: #"{"phones": ["+254712345679"]}"#)) { #expect($0.status == .unauthorized) }
            sessionWrite[.csrfToken] = browser.csrf
            try await client.execute(uri: "/api/optouts", method: .post, headers: sessionWrite,
                                     body: ByteBuffer(string: #"{"phones": ["+254712345679"]}"#)) { #expect($0.status == .created, "session + token") }
        }
    }

    /// Defect 3: the limit belongs to the route the router matched, whatever the path looked like.
    @Test func rateLimitsFollowTheMatchedRouteAndCoverPreview() async throws {
        let harness = try await ServerTests.Harness {
            // One a day: no token comes back while a loaded machine runs the test.
            $0.rateLimits.messages = .init(count: 1, period: 86_400)
            $0.rateLimits.upload = .init(count: 1, period: 86_400)
            $0.rateLimits.preview = .init(count: 1, period: 86_400)
        }
        let json: HTTPFields = [.contentType: "application/json"]
        let form = UploadTests.multipart([("csvFile", "c.csv", Array("phone\n+254712345679\n".utf8)), ("message", nil, Array("hi".utf8))])
        try await harness.app.test(.router) { client in
            try await client.execute(uri: "/messages", method: .post, headers: json, body: ByteBuffer(string: Self.contacts)) { #expect($0.status == .accepted) }
            for variant in ["/messages/", "//messages", "/messages//"] {
                try await client.execute(uri: variant, method: .post, headers: json, body: ByteBuffer(string: Self.contacts)) { response in
                    #expect(response.status == .tooManyRequests, "\(variant): \(response.status)")
                }
            }
            try await client.execute(uri: "/upload", method: .post, headers: form.0, body: form.1) { #expect($0.status == .accepted) }
            try await client.execute(uri: "/upload/", method: .post, headers: form.0, body: form.1) { #expect($0.status == .tooManyRequests) }
            try await client.execute(uri: "/api/preview", method: .post, headers: form.0, body: form.1) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/preview/", method: .post, headers: form.0, body: form.1) { #expect($0.status == .tooManyRequests) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains("emmy_http_rate_limited_total{route=\"/messages\"} 3"), "\(text.split(separator: "\n").filter { $0.contains("rate_limited") })")
            }
        }
        #expect(try await harness.database.statusCounts().values.reduce(0, +) == 2, "one JSON and one CSV message, no more")
    }

    /// Defect 3: drafts are bounded in number and bytes, so previews cannot fill the disk.
    @Test(arguments: [(2, Int64(1 << 30)), (50, Int64(100))])
    func previewDraftsAreBounded(_ count: Int, _ bytes: Int64) async throws {
        let harness = try await ServerTests.Harness {
            $0.limits.drafts = count
            $0.limits.draftBytes = bytes
        }
        let csv = Array(("phone\n" + String(repeating: "+254712345678\n", count: 5)).utf8)  // 76 bytes
        let form = UploadTests.multipart([("csvFile", "c.csv", csv), ("message", nil, Array("hi".utf8))])
        try await harness.app.test(.router) { client in
            var answers: [HTTPResponse.Status] = []
            for _ in 0..<4 {
                try await client.execute(uri: "/api/preview", method: .post, headers: form.0, body: form.1) { response in
                    answers.append(response.status)
                    if response.status == .tooManyRequests {
                        #expect(Self.code(response) == "drafts_full")
                        #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 > 0)
                    }
                }
            }
            let kept = count == 2 ? 2 : 1
            #expect(answers == Array(repeating: .ok, count: kept) + Array(repeating: .tooManyRequests, count: 4 - kept), "\(answers)")
        }
    }

    /// Defect 9: a replayed, correctly signed START must not undo the STOP that came after it.
    @Test func aReplayedStartCannotResubscribeANumberThatSentStop() async throws {
        let harness = try await SendingRouterTests.Harness()
        let phone = "+254712345679"
        let list = OptOutList(database: harness.database)
        try await harness.app.test(.router) { client throws in
            let post = { (parameters: [(String, String)]) async throws -> HTTPResponse.Status in
                let (headers, body) = SendingRouterTests.signedForm("/webhooks/twilio/inbound", parameters)
                return try await client.execute(uri: "/webhooks/twilio/inbound", method: .post, headers: headers, body: body) { $0.status }
            }
            let stop = [("From", phone), ("To", "+15005550006"), ("Body", "STOP"), ("MessageSid", "SM0001")]
            let start = [("From", phone), ("To", "+15005550006"), ("Body", "START"), ("MessageSid", "SM0002")]
            let stopAgain = [("From", phone), ("To", "+15005550006"), ("Body", "stop"), ("MessageSid", "SM0003")]
            #expect(try await post(stop) == .ok)
            #expect(try await list.contains(phone))
            #expect(try await post(start) == .ok)
            #expect(try await !list.contains(phone), "a fresh START opts back in")
            #expect(try await post(stopAgain) == .ok)
            #expect(try await list.contains(phone))
            // The attacker replays the START they captured, byte for byte: signed, and ignored.
            #expect(try await post(start) == .ok)
            #expect(try await list.contains(phone), "a replayed START re-subscribed a number that sent STOP")
            #expect(try await post([("From", phone), ("Body", "START")]) == .badRequest, "no MessageSid, nothing to deduplicate by")
            #expect(try await list.contains(phone))
        }
    }

    /// Defect 10: an error that is not an HTTP error (here: the data directory cannot be
    /// created) is logged with its cause and answered as JSON, not as an empty 500.
    @Test func unexpectedErrorsAreLoggedAndAnsweredAsJSON() async throws {
        let blocker = FileManager.default.temporaryDirectory.appendingPathComponent("emmy-blocker-\(UUID())")
        try Data("a file where a directory should be".utf8).write(to: blocker)
        defer { try? FileManager.default.removeItem(at: blocker) }
        var config = ServerConfig()
        config.dataDirectory = blocker.appendingPathComponent("data").path
        let records = LogRecorder()
        let logger = Logger(label: "emmyapp-test") { _ in records.handler }
        let app = Application(router: try EmmyServer.buildRouter(config: config, database: try await TestStore.make(), metrics: AppMetrics()),
                              logger: logger)
        let form = UploadTests.multipart([("csvFile", "c.csv", Array("phone\n+254712345678\n".utf8)), ("message", nil, Array("hi".utf8))])
        try await app.test(.router) { client in
            for uri in ["/upload", "/api/preview"] {
                try await client.execute(uri: uri, method: .post, headers: form.0, body: form.1) { response in
                    #expect(response.status == .internalServerError, "\(uri)")
                    #expect(response.headers[.contentType] == "application/json; charset=utf-8", "\(uri)")
                    #expect(Self.code(response) == "internal_error", "\(uri): \(String(buffer: response.body))")
                    let id = try #require(response.headers[.requestID])
                    #expect(String(buffer: response.body).contains(id), "the answer names the request id to look up")
                    #expect(!String(buffer: response.body).contains(blocker.path), "internals stay in the log")
                    let failure = records.lines.first { $0.message == "request failed" && $0.metadata["request_id"] == id }
                    #expect(failure?.level == .error, "\(uri): no error line for request \(id)")
                    #expect(failure?.metadata["error"]?.isEmpty == false, "\(uri): the cause is not logged")
                }
            }
        }
    }

    /// Defect 10: cells that start a formula in some spreadsheet are kept as text.
    @Test(arguments: ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", "\u{FF1D}1+1", "\u{FF0B}1", "\u{FF0D}1", "\u{FF20}SUM(A1)"])
    func formulaCellsAreNeutralised(_ cell: String) {
        let written = CSVWriter.quote(cell)
        #expect(written.hasPrefix("'") || written.hasPrefix("\"'"), "\(cell.debugDescription) → \(written.debugDescription)")
    }

    @Test func plainCellsAndNumbersStayAsTheyAre() {
        #expect(CSVWriter.quote("+254712345678") == "+254712345678")
        #expect(CSVWriter.quote("Amina") == "Amina")
        #expect(CSVWriter.quote("a,b") == "\"a,b\"")
    }

    /// Suspicion: behind the managed nginx every client shared one bucket. Confirmed: the
    /// default spec trusted no proxy, so nginx's X-Forwarded-For (it connects from loopback)
    /// was ignored. Now the default trusts loopback only.
    @Test func theDefaultSpecBelievesTheLoopbackProxyOnly() {
        // The spec's `app:` model (EmmyOpsKit's AppConfig) takes its defaults from ServerConfig.
        let config = ServerConfig()
        for proxy in ["127.0.0.1", "::1"] {
            #expect(ClientAddress.resolve(peer: proxy, forwardedFor: "203.0.113.7", trusted: config.trustedProxies) == "203.0.113.7")
        }
        // A client appending its own X-Forwarded-For gets the address nginx saw, not the forged one.
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: "10.9.9.9, 203.0.113.7", trusted: config.trustedProxies) == "203.0.113.7")
        #expect(ClientAddress.resolve(peer: "198.51.100.4", forwardedFor: "203.0.113.7", trusted: config.trustedProxies) == "198.51.100.4")
    }
}

/// Keeps every log record (with the logger's metadata), for tests that assert what was logged.
final class LogRecorder: Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let box = NIOLockedValueBox<[Line]>([])
    var lines: [Line] { box.withLockedValue { $0 } }
    func append(_ line: Line) { box.withLockedValue { $0.append(line) } }

    var handler: Handler { Handler(recorder: self) }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            let values = self.metadata.merging(metadata ?? [:]) { $1 }.mapValues { "\($0)" }
            recorder.append(Line(level: level, message: "\(message)", metadata: values))
        }
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var merged = self
        for field in other { merged[field.name] = field.value }
        return merged
    }
}
