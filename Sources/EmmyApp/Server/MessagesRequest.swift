import Foundation

/// The body of `POST /messages`, as the seed accepted it:
/// `{"contacts": [{"phone": "...", "name": "...", ...}], "message": "Hello {name}"}`.
///
/// Contacts are decoded leniently, field by field: a number becomes its text, null counts as
/// missing, and a nested value is a problem for that contact alone, never for the request.
struct MessagesRequest: Decodable {
    var contacts: [Contact]
    var message: String
    var defaultRegion: String?
    var phoneField: String?

    enum CodingKeys: String, CodingKey {
        case contacts, message
        case defaultRegion = "default_region"
        case phoneField = "phone_field"
    }

    struct Contact: Decodable {
        var values: [String: String] = [:]
        /// Fields that held something other than text, a number, a boolean or null.
        var unusable: [String] = []

        init() {}

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            for key in container.allKeys {
                let name = key.stringValue.trimmingWhitespace().lowercased()
                if let text = try? container.decode(String.self, forKey: key) {
                    values[name] = text.trimmingWhitespace()
                } else if let number = try? container.decode(Int64.self, forKey: key) {
                    values[name] = String(number)
                } else if let number = try? container.decode(Double.self, forKey: key) {
                    values[name] = number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
                } else if let flag = try? container.decode(Bool.self, forKey: key) {
                    values[name] = flag ? "true" : "false"
                } else if (try? container.decodeNil(forKey: key)) == true {
                    continue
                } else {
                    unusable.append(name)
                }
            }
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

extension DecodingError {
    /// The JSON path of the problem (`contacts[3]`, `message`), for the error body.
    var fieldPath: String {
        let path: [any CodingKey]
        switch self {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            path = context.codingPath
        case .keyNotFound(let key, let context):
            path = context.codingPath + [key]
        @unknown default:
            path = []
        }
        var out = ""
        for key in path {
            if let index = key.intValue { out += "[\(index)]" } else { out += out.isEmpty ? key.stringValue : ".\(key.stringValue)" }
        }
        return out
    }

    var summary: String {
        switch self {
        case .typeMismatch(let type, _): "expected \(type == String.self ? "a string" : type == [MessagesRequest.Contact].self ? "a list of contacts" : "\(type)")"
        case .valueNotFound: "a value is required"
        case .keyNotFound(let key, _): "`\(key.stringValue)` is required"
        case .dataCorrupted(let context): context.underlyingError.map { "not valid JSON: \($0.localizedDescription)" } ?? "not valid JSON"
        @unknown default: "invalid request"
        }
    }
}
