import Foundation
import Testing

@testable import EmmyApp

/// The fast `/messages` reader must give exactly what `JSONDecoder` gives, or step aside.
@Suite struct MessagesRequestParserTests {
    private func fast(_ json: String) -> MessagesRequest? {
        Array(json.utf8).withUnsafeBytes(MessagesRequestParser.parse)
    }

    private func slow(_ json: String) -> MessagesRequest? {
        try? JSONDecoder().decode(MessagesRequest.self, from: Data(json.utf8))
    }

    private func same(_ a: MessagesRequest, _ b: MessagesRequest) -> Bool {
        a.message == b.message && a.defaultRegion == b.defaultRegion && a.phoneField == b.phoneField
            && a.contacts.count == b.contacts.count
            && zip(a.contacts, b.contacts).allSatisfy { $0.values == $1.values && Set($0.unusable) == Set($1.unusable) }
    }

    @Test func readsWhatTheDecoderReads() throws {
        let documents = [
            #"{"contacts":[{"phone":"+254712345678","name":"Ann"}],"message":"Hello {name}"}"#,
            #" { "message" : "x" , "contacts" : [ ] , "extra" : {"a":[1,2,{"b":null}]} } "#,
            #"{"contacts":[{" Phone ":" 0712 345678 ","AGE":42,"big":12345678901234567890,"f":1.5,"e":2.5e-3,"neg":-7,"ok":true,"no":false,"gone":null,"nested":{"x":1},"list":[1]}],"message":"m","default_region":"ke","phone_field":"Mobile"}"#,
            #"{"contacts":[{"name":"Jos\u00e9 \"J\" \\ \/ \b\f\n\r\t","emoji":"\ud83d\ude00 ok","raw":"日本語 ✓"}],"message":"Hi {name}","default_region":null}"#,
            #"{"contacts":[{}, {"phone":""}],"message":"{{literal}}"}"#,
        ]
        for json in documents {
            let expected = try #require(slow(json), "the decoder must accept \(json)")
            let got = try #require(fast(json), "the fast path should accept \(json)")
            #expect(same(got, expected), "\(json)")
        }
    }

    @Test func randomDocumentsAgree() throws {
        var rng = SystemRandomNumberGenerator()
        let pieces = [#""plain""#, #"" padded ""#, #""esc\"aped\\""#, #""\u00e9\u4e2d""#, "12", "-3", "0", "4.25", "1e400", "1.0", "1e3",
                      "true", "false", "null", "[]", #"{"k":"v"}"#, "9223372036854775808", #""\ud83d\ude00""#]
        var taken = 0
        for _ in 0..<300 {
            let contacts = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                let fields = (0..<Int.random(in: 0...4, using: &rng)).map { i in
                    "\"\(["phone", "Name", " company", "x\(i)"].randomElement(using: &rng)!)\"\(Bool.random(using: &rng) ? " : " : ":")\(pieces.randomElement(using: &rng)!)"
                }
                return "{" + fields.joined(separator: ",") + "}"
            }
            let json = #"{"contacts":[\#(contacts.joined(separator: ", "))],"message":"m"}"#
            let expected = slow(json)
            guard let got = fast(json) else { continue }  // stepping aside is always allowed
            taken += 1
            let decoded = try #require(expected, "fast path accepted what the decoder refuses: \(json)")
            #expect(same(got, decoded), "\(json)")
        }
        #expect(taken >= 50, "the fast path read only \(taken) of 300 documents")
    }

    @Test func stepsAsideOnWhatItDoesNotOwn() {
        for json in [
            "", "{", "[]", #"{"contacts":[],"message":null}"#, #"{"contacts":{},"message":"m"}"#, #"{"contacts":["x"],"message":"m"}"#,
            #"{"contacts":[],"message":"m"} trailing"#, #"{"contacts":[{"a":"\ud800"}],"message":"m"}"#, #"{"contacts":[{"a":01}],"message":"m"}"#,
            "{\"contacts\":[{\"a\":\"tab\u{09}raw\"}],\"message\":\"m\"}", #"{"contacts":[],"message":"m","message":"n"}"#,
            #"{"contacts":[{"phone":"1","Phone":"2"}],"message":"m"}"#, #"{"contacts":[],"message":"m",}"#, "\u{FEFF}{\"contacts\":[],\"message\":\"m\"}",
        ] {
            #expect(fast(json) == nil, "\(json)")
        }
        let deep = #"{"contacts":[{"a":"# + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + #"}],"message":"m"}"#
        #expect(fast(deep) == nil)
        #expect(slow(deep) == nil, "JSONDecoder refuses hostile nesting with an error, not a crash")
        #expect(Array([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D] as [UInt8]).withUnsafeBytes(MessagesRequestParser.parse) == nil)
    }
}
