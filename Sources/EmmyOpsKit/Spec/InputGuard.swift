/// Screens raw YAML for shapes that make the composer recurse or hash without bound, before
/// Yams sees them.
enum InputGuard {
    /// Estimates nesting depth (`[[[[…`, `- - - - …`, deep indentation) and returns where it
    /// first exceeds `limit`. The estimate errs high: indentation counts a level per two spaces,
    /// plus open flow brackets, dashes and colons on the line. Real specs stay far below it.
    static func firstTooDeep(_ text: String, limit: Int) -> (line: Int, column: Int)? {
        var flowDepth = 0
        var lineNumber = 0
        for line in characterBytes(text).split(separator: newline, omittingEmptySubsequences: false) {
            lineNumber += 1
            let indent = line.prefix { $0 == space }.count
            var depth = indent / 2 + flowDepth
            var column = 0
            var quote: UInt8?
            var previous = space
            for char in line {
                column += 1
                if let open = quote {
                    if char == open { quote = nil }
                } else {
                    if char == UInt8(ascii: "#") && (previous == space || column == 1) { break }
                    switch char {
                    case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = char
                    case UInt8(ascii: "["), UInt8(ascii: "{"): flowDepth += 1; depth += 1
                    case UInt8(ascii: "]"), UInt8(ascii: "}"): flowDepth = max(0, flowDepth - 1)
                    case UInt8(ascii: "-") where previous == space || column == 1: depth += 1
                    case UInt8(ascii: ":"): depth += 1
                    default: break
                    }
                }
                if depth > limit { return (lineNumber, column) }
                previous = char
            }
        }
        return nil
    }

    /// Finds an explicit `?` key: no emmy.yaml needs one. (Aliases in keys, the reason this
    /// guard exists, are found by `composeScreeningAliasKeys`, which sees every way of writing a key.)
    static func firstComplexKey(_ text: String) -> (line: Int, column: Int)? {
        var lineNumber = 0
        for line in characterBytes(text).split(separator: newline, omittingEmptySubsequences: false) {
            lineNumber += 1
            let chars = Array(line)
            var quote: UInt8?
            var index = 0
            while index < chars.count {
                let char = chars[index]
                defer { index += 1 }
                if let open = quote {
                    if char == open { quote = nil }
                    continue
                }
                let previous = index == 0 ? space : chars[index - 1]
                let atTokenStart = previous == space || previous == UInt8(ascii: "\t") || previous == UInt8(ascii: "[")
                    || previous == UInt8(ascii: "{") || previous == UInt8(ascii: ",")
                if char == UInt8(ascii: "#") && (index == 0 || previous == space) { break }
                if char == UInt8(ascii: "\"") || char == UInt8(ascii: "'") { quote = char; continue }
                if char == UInt8(ascii: "?") && atTokenStart && (index + 1 == chars.count || chars[index + 1] == space) {
                    return (lineNumber, index + 1)
                }
            }
        }
        return nil
    }

    private static let space = UInt8(ascii: " ")
    private static let newline = UInt8(ascii: "\n")

    /// What the guards read of `text`: one byte per character, the character's own when it is
    /// one byte, 0xFF for any other. They look only for ASCII characters, and a character is
    /// one of those only when it is that one scalar: `"` with a combining accent is no quote,
    /// and CR LF (one character) ends no line. Lines and columns therefore count characters,
    /// as Yams' marks do. ASCII text, a spec's usual, is read byte by byte: grapheme breaking
    /// every character of a spec was a fifth of loading it.
    static func characterBytes(_ text: String) -> [UInt8] {
        let other: UInt8 = 0xFF
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return text.map { $0.utf8.count == 1 ? $0.utf8.first! : other } }
        // In ASCII every character is one byte, except CR LF.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if byte == newline, bytes.last == UInt8(ascii: "\r") {
                bytes[bytes.count - 1] = other
            } else {
                bytes.append(byte)
            }
        }
        return bytes
    }
}
