import Foundation

/// What sending a CSV would do, found by the ingest's own screening (`BatchIngest.preview`):
/// the same validation, template filling, duplicate and (later) opt-out checks, nothing stored.
struct BatchPreview: Sendable, Encodable {
    static let sampleSize = 10
    /// Rejected rows listed (keeps the page well under 100 KB); all are counted, and all are in
    /// the draft's rejected-rows download.
    static let maxListedRejections = 300

    var rows = 0
    var messages = 0
    var segments = 0
    var gsm7Messages = 0
    var ucs2Messages = 0
    var sample: [Sample] = []
    var rejected: [Rejected] = []
    var rejectedCount = 0
    var rejectedTruncated = false

    struct Sample: Sendable, Encodable {
        var row: Int
        var phone: String
        var body: String
        var encoding: String
        var segments: Int
        /// The body in runs, those that force UCS-2 marked.
        var parts: [Part]
        /// The characters that force UCS-2, once each.
        var ucs2Characters: String
    }

    struct Part: Sendable, Encodable {
        var text: String
        var ucs2: Bool
    }

    struct Rejected: Sendable, Encodable {
        var row: Int
        var field: String
        var kind: String
        var reason: String
        var original: String
    }

    mutating func add(accepted: [ValidatedMessage], errors: [RowError], contacts: [ContactInput]) {
        rows += contacts.count
        messages += accepted.count
        for message in accepted {
            segments += message.segments
            if message.encoding == .gsm7 { gsm7Messages += 1 } else { ucs2Messages += 1 }
        }
        for message in accepted.sorted(by: { $0.position < $1.position }) where sample.count < Self.sampleSize {
            let encoding = SMSEncoding(message.body)
            sample.append(Sample(row: message.position, phone: message.phone, body: message.body, encoding: message.encoding.rawValue,
                                 segments: message.segments, parts: Self.parts(message.body), ucs2Characters: String(encoding.nonGSMCharacters)))
        }
        rejectedCount += errors.count
        let raws = Dictionary(contacts.map { ($0.position, $0.raw) }, uniquingKeysWith: { first, _ in first })
        for error in errors.sorted(by: { $0.position < $1.position }) {
            guard rejected.count < Self.maxListedRejections else { rejectedTruncated = true; break }
            rejected.append(Rejected(row: error.position, field: error.field, kind: error.kind.rawValue, reason: error.reason,
                                     original: raws[error.position]?.text ?? ""))
        }
    }

    /// Splits a body into runs of GSM-7 text and of characters outside it (by Unicode scalar, as
    /// `SMSEncoding` counts them).
    static func parts(_ body: String) -> [Part] {
        var parts: [Part] = []
        var run = String.UnicodeScalarView()
        var runIsUCS2 = false
        for scalar in body.unicodeScalars {
            let ucs2 = SMSEncoding.septets(for: Character(scalar)) == nil
            if ucs2 != runIsUCS2, !run.isEmpty {
                parts.append(Part(text: String(run), ucs2: runIsUCS2))
                run = String.UnicodeScalarView()
            }
            runIsUCS2 = ucs2
            run.append(scalar)
        }
        if !run.isEmpty { parts.append(Part(text: String(run), ucs2: runIsUCS2)) }
        return parts
    }
}
