@testable import EmmyApp
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// EmmyApp's HTTP API through its router, with a fresh store per test (`TestStore`: SQLite in
/// memory, or PostgreSQL when the suite runs with EMMY_TEST_ENGINE=postgres).
@Suite struct ServerTests {
    struct Harness {
        /// Request logs are tested in ServeTests; here they would only bury failures.
        static var quietLogger: Logger {
            var logger = Logger(label: "emmyapp-test")
            logger.logLevel = .error
            return logger
        }

        let database: any AppStore
        let app: Application<RouterResponder<AppRequestContext>>

        init(_ configure: (inout ServerConfig) -> Void = { _ in }) async throws {
            var config = ServerConfig()
            config.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("emmy-test-\(UUID())").path
            config.rateLimits.messages = .init(count: 1000, period: 1)
            config.rateLimits.upload = .init(count: 1000, period: 1)
            config.rateLimits.preview = .init(count: 1000, period: 1)
            configure(&config)
            database = try await TestStore.make()
            app = Application(router: try EmmyServer.buildRouter(config: config, database: database, metrics: AppMetrics()),
                              logger: Self.quietLogger)
        }
    }

    static func json(_ text: String) -> (HTTPFields, ByteBuffer) {
        ([.contentType: "application/json"], ByteBuffer(string: text))
    }

    static func object(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any], "\(String(buffer: response.body))")
    }

    /// The seed README's example, unchanged: all three numbers are invalid, and the answer says so per contact.
    @Test func seedReadmeExampleIsAnsweredPerContact() async throws {
        let harness = try await Harness()
        let body = """
             {
           "contacts": [
             { "phone": "25475552671", "name": "Jane", "company": "Soma Readers Platform" },
             { "phone": "+25475552671", "name": "Mukwano", "company": "Mabenga Suppliers" },
             { "phone": "+25475552673", "name": "Wafula", "company": "Jangi Millers" }
           ],
           "message": "Hello, {name} your company {company} has been approved for tranfers."
        }
        """
        try await harness.app.test(.router) { client in
            let (headers, buffer) = Self.json(body)
            try await client.execute(uri: "/messages", method: .post, headers: headers, body: buffer) { response in
                #expect(response.status == .accepted)
                let answer = try Self.object(response)
                #expect(answer["accepted"] as? Int == 0)
                #expect(answer["rejected"] as? Int == 3)
                let errors = try #require(answer["errors"] as? [[String: Any]])
                #expect(errors.map { $0["index"] as? Int } == [0, 1, 2])
                #expect(errors.allSatisfy { $0["kind"] as? String == "invalid_number" && $0["field"] as? String == "phone" })
                #expect(answer["batch_id"] is String)
            }
        }
    }

    @Test func validContactsAreQueuedWithEncodingAndDuplicatesReported() async throws {
        let harness = try await Harness()
        let body = """
        {"contacts": [
            {"phone": "0712345678", "name": "Amina"},
            {"phone": "+254 712 345 679", "name": "Baraka"},
            {"phone": "+254712345678", "name": "Again"},
            {"phone": "+254712345680"},
            {"phone": 254712345681, "name": "Ж"}
        ], "message": "Hi {name}!"}
        """
        try await harness.app.test(.router) { client in
            let (headers, buffer) = Self.json(body)
            try await client.execute(uri: "/messages", method: .post, headers: headers, body: buffer) { response in
                #expect(response.status == .accepted)
                let answer = try Self.object(response)
                #expect(answer["accepted"] as? Int == 3)
                #expect(answer["duplicates"] as? Int == 1)
                #expect(answer["rejected"] as? Int == 1)
                let errors = try #require(answer["errors"] as? [[String: Any]])
                let missing = try #require(errors.first { $0["index"] as? Int == 3 })
                #expect(missing["field"] as? String == "name" && missing["kind"] as? String == "missing_field")
                #expect(errors.first { $0["index"] as? Int == 2 }?["kind"] as? String == "duplicate")
            }
            try await client.execute(uri: "/api/messages?limit=10", method: .get) { response in
                let messages = try #require(try Self.object(response)["messages"] as? [[String: Any]])
                #expect(messages.map { $0["phone"] as? String } == ["+254712345678", "+254712345679", "+254712345681"])
                #expect(messages.map { $0["status"] as? String } == ["queued", "queued", "queued"])
                #expect(messages.map { $0["encoding"] as? String } == ["GSM-7", "GSM-7", "UCS-2"])
                #expect(messages[0]["body"] as? String == "Hi Amina!")
            }
        }
    }

    @Test func sameTextToSameNumberWithinTheWindowIsADuplicate() async throws {
        let harness = try await Harness()
        let (headers, first) = Self.json(#"{"contacts": [{"phone": "+254712345678", "name": "A"}, {"phone": "+254712345679", "name": "B"}], "message": "Hi {name}"}"#)
        let (_, second) = Self.json(#"{"contacts": [{"phone": "0712345678", "name": "A"}, {"phone": "+254712345679", "name": "Other"}], "message": "Hi {name}"}"#)
        try await harness.app.test(.router) { client in
            try await client.execute(uri: "/messages", method: .post, headers: headers, body: first) { response in
                let json = try Self.object(response)
                #expect(json["accepted"] as? Int == 2)
            }
            try await client.execute(uri: "/messages", method: .post, headers: headers, body: second) { response in
                let json = try Self.object(response)
                #expect(json["accepted"] as? Int == 1, "a different text to the same number is not a duplicate")
                #expect(json["duplicates"] as? Int == 1)
                let errors = try #require(json["errors"] as? [[String: Any]])
                #expect(errors.first?["index"] as? Int == 0)
                #expect((errors.first?["reason"] as? String)?.contains("within the last 24h") == true)
            }
        }
    }

    @Test(arguments: [
        ("not json", "invalid_body", nil as String?),
        (#"{"contacts": "x", "message": "hi"}"#, "invalid_body", "contacts"),
        (#"{"contacts": [], "message": "hi"}"#, "no_contacts", "contacts"),
        (#"{"contacts": [{"phone": "+254712345678"}]}"#, "invalid_body", "message"),
        (#"{"contacts": [{"phone": "+254712345678"}], "message": "Hi {name"}"#, "invalid_template", "message"),
        (#"{"contacts": [{"phone": "+254712345678"}], "message": "   "}"#, "no_message", "message"),
        (#"{"contacts": [{"phone": "+254712345678"}], "message": "x", "default_region": "ZZ"}"#, "invalid_region", "default_region"),
        (#"{"contacts": [null], "message": "x"}"#, "invalid_body", "contacts[0]"),
    ])
    func badRequestsGet4xxNamingTheField(_ body: String, _ code: String, _ field: String?) async throws {
        let harness = try await Harness()
        try await harness.app.test(.router) { client in
            let (headers, buffer) = Self.json(body)
            try await client.execute(uri: "/messages", method: .post, headers: headers, body: buffer) { response in
                #expect(response.status == .badRequest, "\(String(buffer: response.body))")
                let error = try #require(try Self.object(response)["error"] as? [String: Any])
                #expect(error["code"] as? String == code)
                #expect(error["field"] as? String == field)
                #expect(response.headers[.init("X-Request-Id")!] != nil)
            }
        }
    }

    @Test func templateInjectionIsPlainText() async throws {
        let harness = try await Harness()
        let body = #"{"contacts": [{"phone": "+254712345678", "name": "{name.__class__} <script>alert(1)</script>"}], "message": "Hi {name} {{literal}}"}"#
        try await harness.app.test(.router) { client in
            let (headers, buffer) = Self.json(body)
            try await client.execute(uri: "/messages", method: .post, headers: headers, body: buffer) { response in
                let json = try Self.object(response)
                #expect(json["accepted"] as? Int == 1)
            }
            try await client.execute(uri: "/api/messages", method: .get) { response in
                let messages = try #require(try Self.object(response)["messages"] as? [[String: Any]])
                #expect(messages.first?["body"] as? String == "Hi {name.__class__} <script>alert(1)</script> {literal}")
            }
        }
    }

    @Test func healthReadyAndMetrics() async throws {
        let harness = try await Harness()
        try await harness.app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                let json = try Self.object(response)
                #expect(json["status"] as? String == "healthy")
            }
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)
                let json = try Self.object(response)
                #expect(json["ready"] as? Bool == true)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                let exposed = Set(text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) })
                let catalogue = Set(MetricCatalogue.all.map(\.name))
                #expect(exposed.isSubset(of: catalogue), "not in the catalogue: \(exposed.subtracting(catalogue))")
                for name in ["emmy_messages_total", "emmy_database_up", "emmy_queue_depth", "emmy_http_requests_total",
                             "process_resident_memory_bytes", "emmy_build_info"] {
                    #expect(exposed.contains(name), "\(name) missing")
                }
                #expect(text.contains("emmy_database_up 1"))
            }
            try await client.execute(uri: "/metrics_summary", method: .get) { response in
                let json = try Self.object(response)
                #expect(json["total_messages"] as? Int == 0)
            }
        }
    }

    @Test func rateLimitsAnswer429ButNeverLimitProbes() async throws {
        let harness = try await Harness { $0.rateLimits.messages = .init(count: 1, period: 86_400) }
        try await harness.app.test(.router) { client in
            let (headers, buffer) = Self.json(#"{"contacts": [{"phone": "+254712345678"}], "message": "x"}"#)
            try await client.execute(uri: "/messages", method: .post, headers: headers, body: buffer) { response in
                #expect(response.status == .accepted)
                #expect(response.headers[.init("RateLimit-Limit")!] == "1")
            }
            try await client.execute(uri: "/messages", method: .post, headers: headers, body: buffer) { response in
                #expect(response.status == .tooManyRequests)
                #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 >= 1)
                let error = try Self.object(response)["error"] as? [String: Any]
                #expect(error?["code"] as? String == "rate_limited")
            }
            for _ in 0..<60 {
                try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .ok) }
                try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(String(buffer: response.body).contains("emmy_http_rate_limited_total{route=\"/messages\"} 1"))
            }
        }
    }

    @Test func authProtectsStateChangingEndpoints() async throws {
        let harness = try await Harness { $0.authRequired = true }
        let token = try await TokenStore(database: harness.database).create(name: "ci")
        try await harness.app.test(.router) { client in
            let (headers, buffer) = Self.json(#"{"contacts": [{"phone": "+254712345678"}], "message": "x"}"#)
            try await client.execute(uri: "/messages", method: .post, headers: headers, body: buffer) { response in
                #expect(response.status == .unauthorized)
            }
            var authorized = headers
            authorized[.authorization] = "Bearer \(token)"
            try await client.execute(uri: "/messages", method: .post, headers: authorized, body: buffer) { response in
                #expect(response.status == .accepted)
            }
            authorized[.authorization] = "Bearer emmy_wrong"
            try await client.execute(uri: "/messages", method: .post, headers: authorized, body: buffer) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
        }
        #expect(try await TokenStore(database: harness.database).revoke("ci"))
    }
}
