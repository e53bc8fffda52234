/// Screens raw YAML for shapes that make the composer recurse or hash without bound, before
/// Yams sees them.
enum InputGuard {
    /// Estimates nesting depth (`[[[[…`, `- - - - …`, deep indentation) and returns where it
    /// first exceeds `limit`. The estimate errs high: indentation counts a level per two spaces,
    /// plus open flow brackets, dashes and colons on the line. Real specs stay far below it.
    static func firstTooDeep(_ text: String, limit: Int) -> (line: Int, column: Int)? {
        var flowDepth = 0
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let indent = line.prefix { $0 == " " }.count
            var depth = indent / 2 + flowDepth
            var column = 0
            var quote: Character?
            var previous: Character = " "
            for char in line {
                column += 1
                if let open = quote {
                    if char == open { quote = nil }
                } else {
                    if char == "#" && (previous == " " || column == 1) { break }
                    switch char {
                    case "\"", "'": quote = char
                    case "[", "{": flowDepth += 1; depth += 1
                    case "]", "}": flowDepth = max(0, flowDepth - 1)
                    case "-" where previous == " " || column == 1: depth += 1
                    case ":": depth += 1
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
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let chars = Array(line)
            var quote: Character?
            var index = 0
            while index < chars.count {
                let char = chars[index]
                defer { index += 1 }
                if let open = quote {
                    if char == open { quote = nil }
                    continue
                }
                let previous: Character = index == 0 ? " " : chars[index - 1]
                let atTokenStart = previous == " " || previous == "\t" || "[{,".contains(previous)
                if char == "#" && (index == 0 || previous == " ") { break }
                if char == "\"" || char == "'" { quote = char; continue }
                if char == "?" && atTokenStart && (index + 1 == chars.count || chars[index + 1] == " ") {
                    return (lineNumber, index + 1)
                }
            }
        }
        return nil
    }
}
