@testable import EmmyApp
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct UploadTests {
    /// A multipart form. As an API client's (the default) it carries `Authorization`, which tells
    /// EmmyApp it is no browser form (any value does with auth off); a browser's form does not.
    static func multipart(_ parts: [(name: String, filename: String?, body: [UInt8])], boundary: String = "emmyBOUNDARY42",
                          apiClient: Bool = true) -> (HTTPFields, ByteBuffer) {
        var bytes: [UInt8] = []
        for part in parts {
            var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\""
            if let filename = part.filename { head += "; filename=\"\(filename)\"\r\nContent-Type: text/csv" }
            head += "\r\n\r\n"
            bytes += Array(head.utf8) + part.body + Array("\r\n".utf8)
        }
        bytes += Array("--\(boundary)--\r\n".utf8)
        var headers: HTTPFields = [.contentType: "multipart/form-data; boundary=\(boundary)"]
        if apiClient { headers[.authorization] = "Bearer test-client" }
        return (headers, ByteBuffer(bytes: bytes))
    }

    /// The seed's curl form (file first, then the message), with a CSV full of real-world mess.
    @Test func csvRowsAreReportedByRowNumberWhileGoodRowsProceed() async throws {
        let harness = try await ServerTests.Harness()
        var csv = Array("\u{FEFF}Phone , Name,COMPANY\r\n".utf8)
        csv += Array("0712345678,Amina,\"Acme, Ltd\"\r\n".utf8)          // row 2: ok
        csv += Array("12345,Bad,X\r\n".utf8)                                // row 3: invalid number
        csv += Array("+254712345679,\"Multi\nLine\",Y\r\n".utf8)          // row 4: ok, embedded newline
        csv += Array("+254712345680,Short\r\n".utf8)                        // row 5: ragged
        csv += [0x2B, 0x32, 0x35, 0x34, 0x37, 0x31, 0x32, 0x2C, 0xE9, 0x2C, 0x5A, 0x0D, 0x0A] // row 6: Latin-1 é
        csv += Array("+254712345681,,Z\r\n".utf8)                           // row 7: empty name
        let (headers, body) = Self.multipart([
            ("csvFile", "contacts.csv", csv),
            ("message", nil, Array("Hello {name}, your company {company} has been selected!".utf8)),
        ])
        try await harness.app.test(.router) { client in
            let batch = try await client.execute(uri: "/upload", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .accepted, "\(String(buffer: response.body))")
                let answer = try ServerTests.object(response)
                #expect(answer["accepted"] as? Int == 2)
                #expect(answer["rejected"] as? Int == 4)
                let errors = try #require(answer["errors"] as? [[String: Any]])
                #expect(errors.map { $0["row"] as? Int } == [3, 5, 6, 7])
                #expect(errors.map { $0["kind"] as? String } == ["invalid_number", "malformed_row", "malformed_row", "missing_field"])
                return try #require(answer["batch_id"] as? String)
            }
            try await client.execute(uri: "/api/batches/\(batch)/rejected.csv", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                let lines = String(buffer: response.body).split(separator: "\r\n")
                #expect(lines.first == "row,field,kind,reason,original")
                #expect(lines.count == 5)
                #expect(lines[1].hasPrefix("3,phone,invalid_number,"))
                #expect(lines[1].hasSuffix("\"12345,Bad,X\""))
            }
            try await client.execute(uri: "/api/batches/\(batch)", method: .get) { response in
                let item = try ServerTests.object(response)
                #expect((item["statuses"] as? [String: Int])?["queued"] == 2)
                #expect(item["complete"] as? Bool == true)
            }
        }
    }

    @Test func formProblemsNameTheField() async throws {
        let harness = try await ServerTests.Harness()
        try await harness.app.test(.router) { client in
            let (headers, noFile) = Self.multipart([("message", nil, Array("hi".utf8))])
            try await client.execute(uri: "/upload", method: .post, headers: headers, body: noFile) { response in
                #expect(response.status == .badRequest)
                let error = try ServerTests.object(response)["error"] as? [String: Any]
                #expect(error?["field"] as? String == "csvFile")
            }
            let (headers2, noPhone) = Self.multipart([("csvFile", "c.csv", Array("mobile,name\n+254712345678,A\n".utf8)),
                                                      ("message", nil, Array("hi".utf8))])
            try await client.execute(uri: "/upload", method: .post, headers: headers2, body: noPhone) { response in
                #expect(response.status == .badRequest)
                let error = try ServerTests.object(response)["error"] as? [String: Any]
                #expect(error?["field"] as? String == "phone_column")
            }
            let (headers3, chosen) = Self.multipart([("csvFile", "c.csv", Array("mobile,name\n+254712345678,A\n".utf8)),
                                                     ("message", nil, Array("hi {name}".utf8)), ("phone_column", nil, Array("Mobile".utf8))])
            try await client.execute(uri: "/upload", method: .post, headers: headers3, body: chosen) { response in
                let json = try ServerTests.object(response)
                #expect(json["accepted"] as? Int == 1)
            }
            try await client.execute(uri: "/upload", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .unsupportedMediaType)
            }
        }
    }
}

/// Issue 18: a file whose rows cannot be told apart is refused whole (422 naming the row),
/// before any row is queued; limits hold while the upload streams.
@Suite struct UploadRefusalTests {
    struct Refusal {
        var status: HTTPResponse.Status
        var code: String?
        var message: String?
        var queued: Int
    }

    private func refused(_ csv: [UInt8], configure: (inout ServerConfig) -> Void = { _ in }) async throws -> Refusal {
        let harness = try await ServerTests.Harness(configure)
        let (headers, body) = UploadTests.multipart([("csvFile", "c.csv", csv), ("message", nil, Array("Hi {name}".utf8))])
        var refusal = try await harness.app.test(.router) { client in
            try await client.execute(uri: "/upload", method: .post, headers: headers, body: body) { response in
                let error = try ServerTests.object(response)["error"] as? [String: Any]
                return Refusal(status: response.status, code: error?["code"] as? String, message: error?["message"] as? String, queued: 0)
            }
        }
        refusal.queued = try await harness.database.statusCounts().values.reduce(0, +)
        return refusal
    }

    /// The reproduced case: Amina's message would have carried Baraka's and Chebet's numbers.
    @Test func unterminatedQuoteRefusesTheUploadNamingTheRow() async throws {
        let answer = try await refused(Array("phone,name\n0712000001,\"Amina\n0712000002,Baraka\n0712000003,Chebet\n".utf8))
        #expect(answer.status == .unprocessableContent)
        #expect(answer.code == "unterminated_quote")
        #expect(answer.message?.contains("row 2") == true, "\(answer)")
        #expect(answer.queued == 0, "nothing is queued from a file whose rows cannot be told apart")
    }

    @Test func undecodableHeaderRefusesTheUpload() async throws {
        let answer = try await refused([0x70, 0x68, 0xF6, 0x6E, 0x65, 0x2C, 0x6E, 0x61, 0x6D, 0x65, 0x0A] + Array("phone,name\n+254712345678,Amina\n".utf8))
        #expect(answer.status == .unprocessableContent)
        #expect(answer.code == "unreadable_header", "\(answer)")
        #expect(answer.queued == 0)
    }

    @Test func tooWideRowRefusesTheUploadNamingTheLimit() async throws {
        let wide = "phone,name\n+254712345678," + String(repeating: "x,", count: 50) + "y\n"
        let answer = try await refused(Array(wide.utf8)) { $0.limits.csvColumns = 10 }
        #expect(answer.status == .unprocessableContent)
        #expect(answer.code == "too_many_columns")
        #expect(answer.message?.contains("more than 10 columns") == true, "\(answer)")
    }

    /// A part header is bounded: the multipart parser re-copies it on every chunk (80 MB took 34 s of CPU).
    @Test func oversizedPartHeadersAreRefused() async throws {
        let header = Array("--emmyBOUNDARY42\r\nContent-Disposition: form-data; name=\"note\"; x=\"".utf8) + [UInt8](repeating: 0x61, count: 200_000)
        let harness = try await ServerTests.Harness()
        try await harness.app.test(.router) { client in
            try await client.execute(uri: "/upload", method: .post, headers: [.contentType: "multipart/form-data; boundary=emmyBOUNDARY42"],
                                     body: ByteBuffer(bytes: header)) { response in
                #expect(response.status == .contentTooLarge)
                let error = try ServerTests.object(response)["error"] as? [String: Any]
                #expect(error?["code"] as? String == "part_headers_too_large")
            }
        }
    }
}
