/// Estimates YAML nesting depth without parsing, so that pathological input (`[[[[…`,
/// `- - - - …`) is refused before the recursive composer sees it.
///
/// The estimate errs high: indentation counts one level per space, plus open flow brackets and
/// block-sequence dashes on the line. Real specs stay far below any sensible limit.
enum NestingGuard {
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
}
