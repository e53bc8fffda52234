import Foundation
import PhoneNumbers

/// One contact as it arrived: a JSON object or a CSV row, keyed by lower-cased field name.
public struct ContactInput: Sendable {
    /// JSON: index in `contacts` (0-based). CSV: the row number (header = 1).
    public var position: Int
    public var values: [String: String]
    /// The contact as the client sent it, for the rejected-rows download; rendered to text
    /// only for contacts that are rejected.
    public var raw: RawContact
    /// A problem found before validation (a ragged or non-UTF-8 CSV row).
    public var problem: RowError?

    public init(position: Int, values: [String: String], raw: RawContact, problem: RowError? = nil) {
        self.position = position
        self.values = values
        self.raw = raw
        self.problem = problem
    }
}

/// A contact's original form.
public enum RawContact: Sendable {
    /// A CSV record's fields, in file order.
    case fields([String])
    /// A JSON object's fields.
    case object([String: String])
    case none

    /// One CSV line (without line end), or `key=value; …` for a JSON object.
    public var text: String {
        switch self {
        case .fields(let fields): String(CSVWriter.line(fields).dropLast())  // "\r\n" is one Character
        case .object(let values): values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        case .none: ""
        }
    }
}

/// Why one contact was not queued. `kind` is a stable machine word; `reason` is for people.
public struct RowError: Error, Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case invalidNumber = "invalid_number"
        case missingField = "missing_field"
        case duplicate
        case tooLong = "too_long"
        case malformedRow = "malformed_row"
        case optedOut = "opted_out"
    }

    public var position: Int
    public var field: String
    public var kind: Kind
    public var reason: String

    public init(position: Int, field: String, kind: Kind, reason: String) {
        self.position = position
        self.field = field
        self.kind = kind
        self.reason = reason
    }
}

/// A contact that passed validation, ready to queue.
public struct ValidatedMessage: Sendable {
    public var position: Int
    public var phone: String
    public var body: String
    public var bodyHash: Int64
    public var encoding: SMSEncoding.Scheme
    public var segments: Int
    /// The contact as sent, kept for the rejected-rows download in case it turns out to be a
    /// duplicate of an earlier batch (shares the input's storage; no copy).
    public var raw: RawContact
}

/// Per-request settings of an ingest.
public struct IngestOptions: Sendable {
    public var template: MessageTemplate
    public var templateText: String
    public var defaultRegion: String
    /// The field holding the number (`phone` unless the client chose another column).
    public var phoneField: String

    public init(template: MessageTemplate, templateText: String, defaultRegion: String, phoneField: String = "phone") {
        self.template = template
        self.templateText = templateText
        self.defaultRegion = defaultRegion
        self.phoneField = phoneField.trimmingWhitespace().lowercased()
    }
}

/// Validates contacts: number → E.164, template filled, encoding and segments counted.
/// Pure and thread-safe, so chunks can be validated in parallel before the single writer
/// deduplicates and stores them.
public struct ContactValidator: Sendable {
    public let options: IngestOptions
    private let parser: PhoneNumberParser

    public init(options: IngestOptions) {
        self.options = options
        self.parser = PhoneNumberParser(defaultRegion: options.defaultRegion)
    }

    public func validate(_ contact: ContactInput) -> Result<ValidatedMessage, RowError> {
        if let problem = contact.problem { return .failure(problem) }
        let field = options.phoneField
        guard let raw = contact.values[field], !raw.isEmpty else {
            return .failure(RowError(position: contact.position, field: field, kind: .missingField, reason: "no phone number"))
        }
        let phone: PhoneNumber
        do {
            phone = try parser.parse(raw)
        } catch {
            return .failure(RowError(position: contact.position, field: field, kind: .invalidNumber, reason: error.reason))
        }
        let body: String
        do {
            body = try options.template.render(contact.values)
        } catch {
            switch error {
            case .missingField(let name):
                return .failure(RowError(position: contact.position, field: name, kind: .missingField, reason: error.description))
            case .tooLong:
                return .failure(RowError(position: contact.position, field: "message", kind: .tooLong, reason: error.description))
            }
        }
        let encoding = SMSEncoding(body)
        return .success(ValidatedMessage(position: contact.position, phone: phone.e164, body: body, bodyHash: Self.hash(body),
                                         encoding: encoding.scheme, segments: encoding.segments, raw: contact.raw))
    }

    /// FNV-1a over the UTF-8 bytes: stable across processes (unlike `Hasher`), so stored
    /// hashes stay comparable after a restart.
    public static func hash(_ text: String) -> Int64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01B3
        }
        return Int64(bitPattern: hash)
    }
}
