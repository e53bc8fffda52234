@testable import EmmyApp
import Foundation
import GRDB
import PhoneNumbers
import Testing

/// The ingest hot path's shortcuts (issue 17, item 5) decide exactly what the general code
/// decides: each is checked against the general path on inputs chosen to reach its edges.
@Suite struct IngestFastPathTests {
    // MARK: CSV: contiguous bytes (runs copied at once) against byte-at-a-time

    static let csvCorpus: [[UInt8]] = [
        Array("phone,name,company\n+254712345678,Amina,Acme\n+254712345679,Baraka,Beta\n".utf8),
        Array("\u{FEFF} Phone ,NAME\r\n+1,\"Doe, Jane\"\r\n+2,\"Acme \"\"Ltd\"\"\"\r\n+3,\"Line\r\nbreak\"\r\n".utf8),
        Array("a,b\r+1,x\r+2,y\n+3,z".utf8),  // lone CRs, no final line end
        Array("a,b\n+1,\(String(repeating: "x", count: 40))\n+2,\"\(String(repeating: "q", count: 40))\"\n+3,ok\n".utf8),  // overlong
        Array("a,b\n1,2,3,4,5,6\n7,8\n".utf8),  // wider than maxColumns
        Array("a,b\n+1,\"open\n+2,never closed\n".utf8),  // unterminated quote
        Array("a,b\n1,x\"y\"z\n\"\"\"\",\"\"\n,\n\n".utf8),  // quotes inside unquoted fields, empty fields and lines
        [0xEF, 0xBB, 0x61, 0x2C, 0x62, 0x0A] + Array("1,2\n".utf8),  // a BOM cut short
        Array("a,b\n+1,".utf8) + [0xC3, 0x28] + Array("\n+2,é\n".utf8),  // invalid UTF-8, then valid
    ]

    /// Feeds `bytes` as contiguous slices of `size` bytes (the fast path), or, when `size` is
    /// nil, one byte at a time through a sequence without contiguous storage (the general path).
    private func records(_ bytes: [UInt8], slices size: Int?, maxFieldBytes: Int = 16, maxColumns: Int = 4,
                         scanner: Bool = false) -> ([Result<CSVParser.Record, CSVParser.Problem>], Int) {
        var parser = scanner ? CSVParser.shapeScanner(maxColumns: maxColumns) : CSVParser(maxFieldBytes: maxFieldBytes, maxColumns: maxColumns)
        var out: [Result<CSVParser.Record, CSVParser.Problem>] = []
        if let size {
            var index = 0
            while index < bytes.count {
                out += parser.feed(bytes[index..<min(bytes.count, index + size)])
                index += size
            }
        } else {
            out += parser.feed(bytes.lazy.map { $0 })
        }
        return (out + parser.finish(), parser.recordsEnded)
    }

    @Test(arguments: csvCorpus.indices)
    func csvRunsParseAsBytesDo(_ index: Int) {
        let bytes = Self.csvCorpus[index]
        for scanner in [false, true] {
            let reference = records(bytes, slices: nil, scanner: scanner)
            for size in [1, 2, 3, 5, 7, 64, bytes.count + 1] {
                let fast = records(bytes, slices: size, scanner: scanner)
                #expect(fast.0 == reference.0, "corpus \(index), slices of \(size), scanner \(scanner)")
                #expect(fast.1 == reference.1, "corpus \(index), slices of \(size), scanner \(scanner): records counted")
            }
        }
    }

    @Test func csvOverlongFieldsAreCutAtTheLimitInEitherPath() {
        let (out, _) = records(Array("a\n\(String(repeating: "x", count: 17))\n\(String(repeating: "y", count: 16))\n".utf8), slices: 4096)
        #expect(out.count == 3)
        #expect(out[1] == .failure(.fieldTooLong(row: 2, limit: 16)))
        #expect(out[2] == .success(CSVParser.Record(row: 3, fields: [String(repeating: "y", count: 16)])))
    }

    // MARK: Dedupe keys: stored values must never change

    /// Values computed by the formula the stored `dedupe_key` column was filled with; a change
    /// here would let every earlier message be sent again.
    @Test func dedupeKeyValuesAreStable() {
        let hash = ContactValidator.hash("Hello")
        #expect(hash == 7_201_466_553_693_376_363)
        #expect(DedupeKey(phone: "+254712345678", bodyHash: hash).value == 3_369_944_847_793_885_882)
        #expect(DedupeKey(phone: "+1 (x)", bodyHash: hash).value == 1_475_246_795_353_978_983)
    }

    @Test(arguments: ["+254712345678", "+1", "+123456789012345678", "+1234567890123456789", "+", "", "+12a", "-12", "+-12", "++12",
                      "é12", "1234", "+0012", "+1\u{301}2"])
    func dedupeDigitsMatchTheGeneralParse(_ e164: String) {
        let general: Int64 = Int64(e164.dropFirst()) ?? {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in e164.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
            return Int64(bitPattern: hash)
        }()
        #expect(DedupeKey.digits(e164) == general)
    }

    @Test func dedupeKeysEqualOnlyForTheSamePair() {
        let a = DedupeKey(phone: "+254712345678", bodyHash: 1)
        #expect(a == DedupeKey(phone: "+254712345678", bodyHash: 1))
        #expect(a != DedupeKey(phone: "+254712345679", bodyHash: 1))
        #expect(a != DedupeKey(phone: "+254712345678", bodyHash: 2))
        #expect(Set([a, DedupeKey(phone: "+254712345678", bodyHash: 1)]).count == 1)
    }

    // MARK: SMS encoding: the ASCII shortcut

    @Test(arguments: [
        (String(repeating: "{", count: 80), SMSEncoding.Scheme.gsm7, 160, 1),  // escape pairs, in ASCII
        (String(repeating: "{", count: 81), .gsm7, 162, 2),
        (String(repeating: "a", count: 158) + "[", .gsm7, 160, 1),
        ("tick `", .ucs2, 6, 1),  // ASCII outside GSM-7
        ("tab\there", .ucs2, 8, 1),
        ("line\r\nend", .gsm7, 9, 1),
    ])
    func asciiBodies(_ text: String, _ scheme: SMSEncoding.Scheme, _ units: Int, _ segments: Int) {
        let encoding = SMSEncoding(text)
        #expect(encoding.scheme == scheme)
        #expect(encoding.units == units)
        #expect(encoding.segments == segments)
        #expect(encoding.nonGSMCharacters.isEmpty == (scheme == .gsm7))
    }

    // MARK: Phone numbers: the strings built from digit values

    @Test(arguments: [("+254712345678", "KE", "+254712345678", "712345678"), ("0712345678", "KE", "+254712345678", "712345678"),
                      ("+1 650 253 0000", "US", "+16502530000", "6502530000"), ("020 7946 0018", "GB", "+442079460018", "2079460018"),
                      ("+44 1481 256789", "KE", "+441481256789", "1481256789")])
    func phoneStrings(_ text: String, _ region: String, _ e164: String, _ national: String) throws {
        let phone = try PhoneNumberParser(defaultRegion: region).parse(text)
        #expect(phone.e164 == e164)
        #expect(phone.nationalNumber == national)
        #expect(phone.description == e164)
    }

    // MARK: The insert through emmy_message_rows

    /// Long bodies, texts of every shape (multi-byte, emoji, empty): each stored text is the one
    /// given, and row ids follow the order the messages were handed over.
    @Test func insertedTextsAreStoredExactly() async throws {
        let store = try AppDatabase.inMemory()
        let batch = UUID().uuidString.lowercased()
        try await store.createBatch(NewBatch(id: batch, createdAt: Date(), source: "csv", template: "t", client: nil, fileName: nil))
        let bodies = ["Hi", String(repeating: "long body ", count: 160), "Привет, мир 👋", "x"]
        let messages = (0..<133).map { index in
            let body = index == 7 ? "" : bodies[index % bodies.count] + " \(index)"
            return ValidatedMessage(position: index + 2, phone: "+2547\(10_000_000 + index)", body: body, bodyHash: ContactValidator.hash(body),
                                    encoding: index % 2 == 0 ? .gsm7 : .ucs2, segments: 1 + index % 3, raw: .none)
        }
        let keys = messages.map { DedupeKey(phone: $0.phone, bodyHash: $0.bodyHash) }
        let chunk = IngestChunk(batchID: batch, now: Date(), candidates: messages, keys: keys, recent: nil, rejections: [])
        _ = try await store.storeChunk(chunk) { _, _ in ScreenedChunk(queue: Array(zip(messages, keys)), rejections: []) }
        let stored = try await store.messages(MessageQuery(batchID: batch, order: .row))
        #expect(stored.count == messages.count)
        for (record, message) in zip(stored, messages) {
            #expect(record.row == message.position)
            #expect(record.phone == message.phone)
            #expect(record.body == message.body)
            #expect(record.encoding == message.encoding.rawValue)
            #expect(record.segments == message.segments)
        }
        #expect(stored.map(\.id) == stored.map(\.id).sorted() && Set(stored.map(\.id)).count == stored.count)
    }

    /// The table reads only a pointer bound by `MessageInserter`: SQL text gets no rows, and
    /// without its argument no plan at all.
    @Test func rowsTableReadsNothingWithoutABoundPointer() async throws {
        let store = try AppDatabase.inMemory()
        let counts = try await store.writer.write { db in
            [try Int.fetchOne(db, sql: "SELECT count(*) FROM \(MessageRowsTable.name)(NULL)"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM \(MessageRowsTable.name)(x'00000000000000000000')"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM \(MessageRowsTable.name)(?)", arguments: [12345])]
        }
        #expect(counts == [0, 0, 0])
        await #expect(throws: DatabaseError.self) {
            try await store.writer.write { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(MessageRowsTable.name)") }
        }
    }

    /// A message the schema refuses (a CHECK on the phone) fails the whole transaction: none of
    /// the chunk's rows is stored, as with the row-by-row insert.
    @Test func aRowTheSchemaRefusesStoresNoneOfTheChunk() async throws {
        let store = try AppDatabase.inMemory()
        let batch = UUID().uuidString.lowercased()
        try await store.createBatch(NewBatch(id: batch, createdAt: Date(), source: "csv", template: "t", client: nil, fileName: nil))
        let messages = (0..<10).map { index in
            ValidatedMessage(position: index + 2, phone: index == 6 ? "254710000006" : "+2547\(10_000_000 + index)", body: "Hi",
                             bodyHash: ContactValidator.hash("Hi"), encoding: .gsm7, segments: 1, raw: .none)
        }
        let keys = messages.map { DedupeKey(phone: $0.phone, bodyHash: $0.bodyHash) }
        let chunk = IngestChunk(batchID: batch, now: Date(), candidates: messages, keys: keys, recent: nil, rejections: [])
        await #expect(throws: DatabaseError.self) {
            _ = try await store.storeChunk(chunk) { _, _ in ScreenedChunk(queue: Array(zip(messages, keys)), rejections: []) }
        }
        #expect(try await store.messages(MessageQuery(batchID: batch, order: .row)).isEmpty)
    }
}
