/// Rewrites single scalar values of a spec in its own text, so a tool that updates a value
/// (`hosts --from-terraform --write`) keeps the operator's comments, order and layout. Only a
/// scalar found exactly at its recorded position — plain, or in single or double quotes — is
/// replaced; anything else is left as it was.
public enum SpecTextEdit {
    public struct Replacement: Sendable, Equatable {
        /// 1-based, where the scalar (or its opening quote) starts, as the loader's SourceMap records it.
        public var line: Int
        public var column: Int
        /// The value the loader read there, and what to write instead.
        public var old: String
        public var new: String

        public init(line: Int, column: Int, old: String, new: String) {
            self.line = line
            self.column = column
            self.old = old
            self.new = new
        }
    }

    /// `text` with each replacement applied where its scalar is found unchanged. New values are
    /// written double-quoted unless they are plain-safe (letters, digits, `.`, `-`, and not a
    /// number), so a value can never change the document's structure or type.
    public static func replacing(_ replacements: [Replacement], in text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        // Right to left within a line, so earlier columns stay valid.
        for edit in replacements.sorted(by: { ($0.line, $0.column) > ($1.line, $1.column) }) {
            guard edit.line >= 1, edit.line <= lines.count else { continue }
            let line = lines[edit.line - 1]
            let start = edit.column - 1
            guard start >= 0, start < line.count else { continue }
            let candidates = [edit.old, "\"\(edit.old)\"", "'\(edit.old)'"].map(Array.init)
            guard let found = candidates.first(where: { start + $0.count <= line.count && Array(line[start..<start + $0.count]) == $0 }) else { continue }
            lines[edit.line - 1] = Array(line[..<start]) + Array(scalar(edit.new)) + Array(line[(start + found.count)...])
        }
        return lines.map { String($0) }.joined(separator: "\n")
    }

    static func scalar(_ value: String) -> String {
        let plain = !value.isEmpty && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-".contains($0)) }
            && !value.hasPrefix("-") && Double(value) == nil
        guard !plain else { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(escaped)\""
    }
}
