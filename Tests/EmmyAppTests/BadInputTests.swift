@testable import EmmyApp
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A corpus of hostile and broken input: every case gets a 4xx or per-row errors, never a
/// 5xx, and a good contact sent alongside the bad ones is always queued.
@Suite struct BadInputTests {
    static let good = #"{"phone": "+254712345678", "name": "Good"}"#

    static let jsonBodies: [String] = [
        "",
        "{",
        "[]",
        "null",
        "\"just a string\"",
        #"{"contacts": {}, "message": "x"}"#,
        #"{"contacts": [1, 2, 3], "message": "x"}"#,
        #"{"contacts": [\#(good)], "message": 42}"#,
        #"{"contacts": [\#(good)], "message": null}"#,
        #"{"contacts": null, "message": "x"}"#,
        #"{"contacts": [\#(good)], "message": "{name:>5000000}"}"#,
        #"{"contacts": [\#(good)], "message": "{name.__class__.__mro__}"}"#,
        #"{"contacts": [\#(good)], "message": "\#(String(repeating: "x", count: 2000))"}"#,
        #"{"contacts": [\#(good)], "message": "{"}"#,
        #"{"contacts": [\#(good)], "message": "hi", "default_region": 7}"#,
        "\u{FEFF}{\"contacts\": [\(good)], \"message\": \"x\"}",
        #"{"contacts": [{"phone": "+254712345678", "x": \#(String(repeating: "[", count: 100_000))"#,
    ]

    @Test(arguments: jsonBodies.indices)
    func malformedJSONGets4xx(_ index: Int) async throws {
        let harness = try await ServerTests.Harness()
        try await harness.app.test(.router) { client in
            try await client.execute(uri: "/messages", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: Self.jsonBodies[index])) { response in
                #expect((400..<500).contains(response.status.code) || response.status == .accepted,
                        "case \(index): \(response.status) \(String(buffer: response.body).prefix(200))")
                #expect(response.status.code < 500)
                if response.status != .accepted {
                    let json = try ServerTests.object(response)
                    #expect(json["error"] is [String: Any], "case \(index) has no error body")
                }
            }
        }
    }

    /// Bad contacts next to a good one: the good one is queued, each bad one is a row error.
    static let badContacts: [String] = [
        #"{"phone": null, "name": "A"}"#,
        #"{"phone": "", "name": "A"}"#,
        #"{"phone": ["+254712345678"], "name": "A"}"#,
        #"{"phone": {"nested": 1}, "name": "A"}"#,
        #"{"phone": true, "name": "A"}"#,
        #"{"phone": "+254712345679", "name": null}"#,
        #"{"phone": "+254712345679", "name": "\#(String(repeating: "y", count: 1 << 20))"}"#,
        #"{"phone": "+254712345679", "name": "\#(String(repeating: "z", count: 1700))"}"#,
        #"{"phone": "\#(String(repeating: "9", count: 5000))", "name": "A"}"#,
        #"{"phone": "+254 7l2 345 678", "name": "A"}"#,
        #"{"phone": "DROP TABLE message;--", "name": "A"}"#,
        #"{"phone": "+999712345679", "name": "A"}"#,
        #"{}"#,
    ]

    @Test(arguments: badContacts.indices)
    func badContactsAreRowErrorsAndTheGoodOneProceeds(_ index: Int) async throws {
        let harness = try await ServerTests.Harness()
        let body = #"{"contacts": [\#(Self.badContacts[index]), \#(Self.good)], "message": "Hi {name}"}"#
        try await harness.app.test(.router) { client in
            try await client.execute(uri: "/messages", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: body)) { response in
                #expect(response.status == .accepted, "case \(index): \(String(buffer: response.body).prefix(300))")
                let json = try ServerTests.object(response)
                #expect(json["accepted"] as? Int == 1, "case \(index)")
                #expect(json["rejected"] as? Int == 1, "case \(index)")
                let errors = json["errors"] as? [[String: Any]] ?? []
                #expect(errors.first?["index"] as? Int == 0)
            }
        }
    }

    static let csvFiles: [[UInt8]] = [
        Array("\u{FEFF}phone,name\r\n+254712345678,Good\r\n+254712345679\r\n".utf8),                 // ragged
        Array("phone,name\n+254712345678,Good\n\"+254712345679,\"Unclosed\n".utf8),                   // quote runs to EOF
        Array("phone,name\n+254712345678,Good\n".utf8) + [0x00, 0xFF, 0xFE, 0x0A],                      // binary junk row
        Array("phone,name\n+254712345678,Good\n+254712345679,Ren".utf8) + [0xE9, 0x0A],               // Latin-1
        Array("phone,name\n+254712345678,Good\n,Nobody\n".utf8),                                        // no phone
        Array("phone,name\n+254712345678,Good\n+254712345679,\(String(repeating: "n", count: 10_000))\n".utf8), // huge field
        Array("phone,name\n+254712345678,Good\n=HYPERLINK(\"x\"),Evil\n".utf8),                        // formula
    ]

    @Test(arguments: csvFiles.indices)
    func brokenCSVRowsFailAlone(_ index: Int) async throws {
        let harness = try await ServerTests.Harness()
        let (headers, body) = UploadTests.multipart([("csvFile", "c.csv", Self.csvFiles[index]), ("message", nil, Array("Hi {name}".utf8))])
        try await harness.app.test(.router) { client in
            try await client.execute(uri: "/upload", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .accepted, "case \(index): \(String(buffer: response.body).prefix(300))")
                let json = try ServerTests.object(response)
                #expect(json["accepted"] as? Int == 1, "case \(index): \(json)")
                #expect((json["rejected"] as? Int ?? 0) >= 1, "case \(index): \(json)")
            }
        }
    }

    @Test func oversizedBodiesAre413() async throws {
        let harness = try await ServerTests.Harness {
            $0.limits.jsonBodyBytes = 10_000
            $0.limits.contactsPerRequest = 2
        }
        try await harness.app.test(.router) { client in
            let big = #"{"contacts": [\#(Self.good)], "message": "\#(String(repeating: "x", count: 20_000))"}"#
            try await client.execute(uri: "/messages", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: big)) { response in
                #expect(response.status == .contentTooLarge)
            }
            let many = #"{"contacts": [\#(Self.good), \#(Self.good), \#(Self.good)], "message": "x"}"#
            try await client.execute(uri: "/messages", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: many)) { response in
                #expect(response.status == .contentTooLarge)
                let json = try ServerTests.object(response)
                #expect((json["error"] as? [String: Any])?["field"] as? String == "contacts")
            }
        }
    }

    /// Issue 18: the contact cap is enforced while the body streams, before any contact is
    /// built: a body over the cap is 413 even when it is malformed after the cap (the old
    /// reader parsed it whole and answered 400), and an escaped `contacts` key counts too.
    @Test func contactCapIsEnforcedBeforeTheBodyIsParsed() async throws {
        let harness = try await ServerTests.Harness { $0.limits.contactsPerRequest = 2 }
        let contacts = [Self.good, Self.good, Self.good].joined(separator: ", ")
        let bodies = [
            #"{"message": "x", "contacts": [\#(contacts), {"phone": "#,                   // cut off after the cap
            #"{"message": "x", "contact\u0073": [\#(contacts)]}"#,                          // escaped key
            #"{"message": "x", "contacts": [1, "a", null, [2], {"b": [3, 4]}]}"#,            // any values count
        ]
        try await harness.app.test(.router) { client in
            for (index, body) in bodies.enumerated() {
                try await client.execute(uri: "/messages", method: .post, headers: [.contentType: "application/json"],
                                         body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .contentTooLarge, "case \(index): \(String(buffer: response.body))")
                    let error = try ServerTests.object(response)["error"] as? [String: Any]
                    #expect(error?["code"] as? String == "too_many_contacts", "case \(index)")
                }
            }
            // At the cap, nested values and strings full of brackets and commas are not contacts.
            let tricky = #"{"message": "Hi {name}", "contacts": [{"phone": "+254712345678", "name": "a],[b", "x": [1, 2, 3]}, \#(Self.good)]}"#
            try await client.execute(uri: "/messages", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: tricky)) { response in
                #expect(response.status == .accepted, "\(String(buffer: response.body))")
            }
        }
    }
}
