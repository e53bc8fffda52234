/// Which provider EmmyApp sends through.
public enum ProviderKind: String, Sendable, Codable, CaseIterable {
    case log, twilio, webhook
}

/// A value that is either written in the spec or names a secret to read at run time.
///
/// `${TWILIO_AUTH_TOKEN}` stays a reference everywhere: renderings point at an environment
/// variable or a file named after it, never at its value.
public enum ConfigValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case literal(String)
    case secret(name: String)

    /// Parses `${NAME}` as a secret reference and anything else as a literal.
    public init(parsing text: String) {
        if let name = ConfigValue.secretName(in: text) {
            self = .secret(name: name)
        } else {
            self = .literal(text)
        }
    }

    /// The variable name inside `${NAME}`, when the whole text is one such reference.
    public static func secretName(in text: String) -> String? {
        guard text.hasPrefix("${"), text.hasSuffix("}"), text.count > 3 else { return nil }
        let name = text.dropFirst(2).dropLast()
        let valid = name.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } ?? false
            && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        return valid ? String(name) : nil
    }

    public var description: String {
        switch self {
        case .literal(let text): text
        case .secret(let name): "${\(name)}"
        }
    }
}
