/// A YAML document built in code and emitted deterministically (keys in the order given).
///
/// Strings are quoted whenever a reader could take them for anything but a string.
public indirect enum YAMLValue: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByArrayLiteral {
    case string(String)
    /// Emitted as written: numbers and booleans.
    case raw(String)
    case list([YAMLValue])
    case map([Pair])
    /// A multi-line string in literal block style (`|`), as scripts read best. Build it with
    /// `text(_:)`, which keeps single-line strings as `.string`.
    case literal(String)

    public struct Pair: Sendable, Hashable {
        public var key: String
        public var value: YAMLValue
        public init(_ key: String, _ value: YAMLValue) {
            self.key = key
            self.value = value
        }
    }

    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: YAMLValue...) { self = .list(elements) }

    public static func int(_ value: Int) -> YAMLValue { .raw("\(value)") }
    public static func bool(_ value: Bool) -> YAMLValue { .raw(value ? "true" : "false") }
    public static func object(_ pairs: (String, YAMLValue?)...) -> YAMLValue {
        .map(pairs.compactMap { key, value in value.map { Pair(key, $0) } })
    }
    public static func strings(_ values: [String]) -> YAMLValue { .list(values.map(YAMLValue.string)) }
    /// A string: literal block style when it spans lines and a block can hold it exactly, else quoted.
    public static func text(_ value: String) -> YAMLValue {
        value.utf8.contains(UInt8(ascii: "\n")) && canBeLiteral(value) ? .literal(value) : .string(value)
    }

    /// The document, ending in a newline, with `header` lines as comments on top.
    public func document(header: [String] = []) -> String {
        var out = header.map { "# \($0)\n" }.joined()
        emit(into: &out, indent: 0, inList: false)
        if !out.hasSuffix("\n") { out += "\n" }
        return out
    }

    private var isEmptyCollection: Bool {
        switch self {
        case .list(let items): items.isEmpty
        case .map(let pairs): pairs.isEmpty
        default: false
        }
    }

    private func emit(into out: inout String, indent: Int, inList: Bool) {
        var pad: String { String(repeating: " ", count: indent) }
        switch self {
        case .string(let text):
            out += YAMLValue.quote(text)
            out += "\n"
        case .raw(let text):
            out += text
            out += "\n"
        case .literal(let text): YAMLValue.emitLiteral(text, into: &out, pad: pad)
        case .list(let items):
            if items.isEmpty { out += "[]\n"; return }
            let pad = pad
            for (index, item) in items.enumerated() {
                if index > 0 || !inList { out += pad }
                out += "- "
                item.emitInline(into: &out, indent: indent + 2)
            }
        case .map(let pairs):
            if pairs.isEmpty { out += "{}\n"; return }
            let pad = pad
            for (index, pair) in pairs.enumerated() {
                if index > 0 || !inList { out += pad }
                out += YAMLValue.quote(pair.key) + ":"
                switch pair.value {
                case .list(let items) where !items.isEmpty:
                    out += "\n"
                    pair.value.emit(into: &out, indent: indent, inList: false)
                case .map(let nested) where !nested.isEmpty:
                    out += "\n"
                    pair.value.emit(into: &out, indent: indent + 2, inList: false)
                default:
                    out += " "
                    pair.value.emit(into: &out, indent: indent + 2, inList: false)
                }
            }
        }
    }

    /// Emits a value that follows `- ` on the same line.
    private func emitInline(into out: inout String, indent: Int) {
        switch self {
        case .map, .list:
            if isEmptyCollection { emit(into: &out, indent: indent, inList: false) } else { emit(into: &out, indent: indent, inList: true) }
        default:
            emit(into: &out, indent: indent, inList: false)
        }
    }

    /// Whether a literal block reproduces `text` exactly: printable characters, tabs and line
    /// feeds only, no line that is only spaces (it would change the block's indentation) and no
    /// leading spaces on the first line.
    ///
    /// Lines are found among the bytes: with no CR (not printable here) a line feed is always
    /// a character of its own, and a line is all spaces exactly when its bytes are.
    static func canBeLiteral(_ text: String) -> Bool {
        guard !text.isEmpty, text.first != " ", !text.hasPrefix("\n") else { return false }
        guard text.unicodeScalars.allSatisfy({ $0 == "\n" || $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F && $0.value != 0xFEFF) }) else { return false }
        var length = 0, spaces = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\n") {
                if length > 0 && spaces == length { return false }
                (length, spaces) = (0, 0)
            } else {
                length += 1
                if byte == UInt8(ascii: " ") { spaces += 1 }
            }
        }
        return !(length > 0 && spaces == length)
    }

    /// `|` (keep one final newline), `|-` (strip: no final newline) or `|+` (keep several), then
    /// each line at `pad`; empty lines stay empty so no line ends in spaces.
    private static func emitLiteral(_ text: String, into out: inout String, pad: String) {
        guard canBeLiteral(text) else { out += quote(text) + "\n"; return }
        var body = Substring(text)
        var trailing = 0
        while body.hasSuffix("\n") { body = body.dropLast(); trailing += 1 }
        out += trailing == 0 ? "|-\n" : trailing == 1 ? "|\n" : "|+\n"
        for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
            // Appended piece by piece: `pad + line` (String + Substring) is the generic `+`,
            // whose first use resolves its types through the runtime's conformance scan.
            if !line.isEmpty {
                out += pad
                out.append(contentsOf: line)
            }
            out += "\n"
        }
        if trailing > 1 { out += String(repeating: "\n", count: trailing - 1) }
    }

    private static let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"]

    /// Plain when unambiguous, single-quoted when it holds no `'`, else double-quoted.
    public static func quote(_ text: String) -> String {
        if isPlainSafe(text) { return text }
        if !text.utf8.contains(UInt8(ascii: "'")), !holdsLineBreakOrControl(text) {
            return "'\(text)'"
        }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 { out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    /// Whether any character is a line break (`Character.isNewline`) or an ASCII control
    /// character. Checked on scalars, not characters: every one of those scalars is a control
    /// that stands as a character of its own (grapheme breaking never joins it to a neighbour,
    /// `\r\n` aside, which `\r` finds), and breaking the text into characters was a tenth of
    /// rendering the rule tests, whose PromQL strings all come through here.
    static func holdsLineBreakOrControl(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x85 || $0.value == 0x2028 || $0.value == 0x2029 }
    }

    /// ASCII only: a letter, `/` or `_` first, then letters, digits and `_./@+-`; not a word
    /// YAML 1.1 reads as a boolean or null, nor a number (`inf`, `nan`). Checked on bytes,
    /// without copies: this runs for every key and value rendered.
    static func isPlainSafe(_ text: String) -> Bool {
        if isDuration(text) { return true }
        let bytes = text.utf8
        guard let first = bytes.first, isLetter(first) || first == UInt8(ascii: "/") || first == UInt8(ascii: "_") else { return false }
        guard bytes.allSatisfy({ byte in
            switch byte {
            case UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: "@"), UInt8(ascii: "+"), UInt8(ascii: "-"): true
            default: isLetter(byte) || isDigit(byte)
            }
        }) else { return false }
        // No reserved word is longer than five letters: longer text is not lowercased to look.
        let reservedWord = bytes.count <= 5 && reserved.contains(text.lowercased())
        return !reservedWord && !text.hasSuffix(":") && Double(text) == nil
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")) ~= byte | 0x20 }
    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")) ~= byte }
}

extension YAMLValue {
    /// Durations such as `15s` or `1h30m` read as strings in every YAML version. Checked by
    /// hand: a Regex literal is re-parsed on every call and dominated rendering time.
    static func isDuration(_ text: String) -> Bool {
        func unit(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "y"), UInt8(ascii: "w"), UInt8(ascii: "d"), UInt8(ascii: "h"), UInt8(ascii: "m"), UInt8(ascii: "s"): true
            default: false
            }
        }
        let bytes = text.utf8
        guard let first = bytes.first, let last = bytes.last, isDigit(first), unit(last) else { return false }
        return bytes.allSatisfy { isDigit($0) || unit($0) }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
