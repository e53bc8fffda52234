@testable import EmmyApp
import Foundation
import GRDB
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

    static func optOutCount(_ database: AppDatabase) async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM opt_out") ?? 0 }
    }

    /// Defect 1: with auth off (the default), what a web page can send cross-site without a
    /// preflight changes nothing; API clients (JSON without Origin, or any `Authorization`) do.
    @Test func browserWritesWithoutATokenAreRefusedAndAPIClientsAreNot() async throws {
        let harness = try ServerTests.Harness()
        let csv = Array("phone\n+254712345678\n".utf8)
        let (formHeaders, formBody) = UploadTests.multipart([("csvFile", "c.csv", csv), ("message", nil, Array("hi".utf8))], apiClient: false)
        // (label, uri, headers, body)
        let attacks: [(String, String, HTTPFields, ByteBuffer)] = [
            ("text/plain JSON cross-site", "/messages", [.contentType: "text/plain", .origin: Self.evil], ByteBuffer(string: Self.contacts)),
            ("text/plain JSON, no Origin", "/messages", [.contentType: "text/plain;charset=UTF-8"], ByteBuffer(string: Self.contacts)),
            ("text/plain JSON, trailing slash", "/messages/", [.contentType: "text/plain"], ByteBuffer(string: Self.contacts)),
            ("JSON from another origin", "/messages", [.contentType: "application/json", .origin: Self.evil], ByteBuffer(string: Self.contacts)),
            ("JSON, Origin null", "/messages", [.contentType: "application/json", .origin: "null"], ByteBuffer(string: Self.contacts)),
            ("JSON, same-site other origin", "/messages", [.contentType: "application/json", .secFetchSite: "same-site"], ByteBuffer(string: Self.contacts)),
            ("multipart without token", "/upload", formHeaders, formBody),
            ("multipart cross-site", "/upload", formHeaders.merging([.origin: Self.evil]), formBody),
            ("multipart preview cross-site", "/api/preview", formHeaders.merging([.secFetchSite: "cross-site"]), formBody),
            ("text/plain opt-out", "/api/optouts", [.contentType: "text/plain"], ByteBuffer(string: #"{"phones": ["+254712345679"]}"#)),
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

            // API clients: JSON without Origin, or anything with Authorization.
            try await client.execute(uri: "/messages", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: Self.contacts)) { #expect($0.status == .accepted) }
            try await client.execute(uri: "/api/batches/\(batch)/retry-failed", method: .post) { #expect($0.status == .accepted) }
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
            var tokenForm = formHeaders
            tokenForm.append(contentsOf: browser.cookieHeader)
            tokenForm[.csrfToken] = browser.csrf
            try await client.execute(uri: "/upload", method: .post, headers: tokenForm, body: formBody) { #expect($0.status == .accepted) }
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
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var merged = self
        for field in other { merged[field.name] = field.value }
        return merged
    }
}
