/// A message template such as `Hello {name}, your code is {code}`.
///
/// Only `{field}` placeholders are interpreted; `{{` and `}}` are literal braces. Nothing else
/// is: no attribute access, no format specifications, no expressions, so text from a CSV can
/// never run as code. Field names match CSV headers and JSON keys trimmed and case-insensitively.
public struct MessageTemplate: Sendable, Hashable {
    /// Twilio refuses bodies over 1,600 characters (error 21617).
    public static let maximumLength = 1600

    enum Part: Sendable, Hashable {
        case text(String)
        case field(String)
    }

    let parts: [Part]
    /// Placeholder names, lower-cased, in order of first use.
    public let fields: [String]

    public enum ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        case unclosedPlaceholder(offset: Int)
        case strayClosingBrace(offset: Int)
        case emptyPlaceholder(offset: Int)
        case nestedBrace(offset: Int)

        public var description: String {
            switch self {
            case .unclosedPlaceholder(let offset): "`{` at character \(offset + 1) is never closed; write `{{` for a literal brace"
            case .strayClosingBrace(let offset): "`}` at character \(offset + 1) closes nothing; write `}}` for a literal brace"
            case .emptyPlaceholder(let offset): "`{}` at character \(offset + 1) names no field"
            case .nestedBrace(let offset): "`{` at character \(offset + 1) is inside a placeholder"
            }
        }
    }

    public init(_ source: String) throws(ParseError) {
        var parts: [Part] = []
        var text = ""
        var fields: [String] = []
        let characters = Array(source)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            if character == "{" && next == "{" {
                text.append("{")
                index += 2
            } else if character == "}" && next == "}" {
                text.append("}")
                index += 2
            } else if character == "}" {
                throw .strayClosingBrace(offset: index)
            } else if character == "{" {
                var end = index + 1
                while end < characters.count, characters[end] != "}" {
                    if characters[end] == "{" { throw .nestedBrace(offset: end) }
                    end += 1
                }
                guard end < characters.count else { throw .unclosedPlaceholder(offset: index) }
                let name = String(characters[(index + 1)..<end]).trimmingWhitespace().lowercased()
                guard !name.isEmpty else { throw .emptyPlaceholder(offset: index) }
                if !text.isEmpty { parts.append(.text(text)); text = "" }
                parts.append(.field(name))
                if !fields.contains(name) { fields.append(name) }
                index = end + 1
            } else {
                text.append(character)
                index += 1
            }
        }
        if !text.isEmpty { parts.append(.text(text)) }
        self.parts = parts
        self.fields = fields
    }

    public enum RenderError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The row has no value for this placeholder.
        case missingField(String)
        /// The filled text is longer than `maximumLength` characters.
        case tooLong(length: Int)

        public var description: String {
            switch self {
            case .missingField(let name): "no value for placeholder {\(name)}"
            case .tooLong(let length): "message is \(length) characters; the limit is \(MessageTemplate.maximumLength)"
            }
        }
    }

    /// Fills the template from `values`, whose keys must already be trimmed and lower-cased.
    /// An empty value counts as missing: "Hello {name}" must not become "Hello ".
    public func render(_ values: [String: String]) throws(RenderError) -> String {
        var out = ""
        out.reserveCapacity(64)  // one allocation for a typical SMS body instead of several
        for part in parts {
            switch part {
            case .text(let text): out += text
            case .field(let name):
                guard let value = values[name], !value.isEmpty else { throw .missingField(name) }
                out += value
            }
            // Stop early: a 1 MB placeholder value must not be copied whole before refusing it.
            if out.utf8.count > MessageTemplate.maximumLength * 4 { throw .tooLong(length: out.count) }
        }
        // Characters never outnumber UTF-8 bytes: count graphemes only when the bytes could be too many.
        if out.utf8.count > MessageTemplate.maximumLength {
            let length = out.count
            if length > MessageTemplate.maximumLength { throw .tooLong(length: length) }
        }
        return out
    }
}

extension String {
    func trimmingWhitespace() -> String {
        // Nearly every value starts and ends with a visible ASCII byte: return it uncopied
        // without the grapheme and Unicode-property work below (a hot path at 50k rows/s).
        if let first = utf8.first, let last = utf8.last, (0x21...0x7E).contains(first), (0x21...0x7E).contains(last) {
            return self
        }
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return String(view)
    }
}
