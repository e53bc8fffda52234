@testable import EmmyOpsKit
import Foundation
import Testing

/// The input guards read one byte per character (`InputGuard.characterBytes`) instead of
/// grapheme-breaking every character: on every text here they answer as the character-by-
/// character guards they replace (kept below as the reference), line and column included.
@Suite struct InputGuardBytesTests {
    /// Every spec the repository holds, each also with CR LF line ends, and texts where
    /// characters and bytes part: accents on the characters the guards look for, CR LF, CR
    /// alone, emoji, U+037E (canonically equivalent to `;`, as no guard character's twin is),
    /// a stray stand-in.
    static let texts: [String] = {
        let root = GitHubTooling.root
        var specs = [root.appendingPathComponent("examples/emmy.yaml")]
        let fixtures = root.appendingPathComponent("Tests/EmmyOpsKitTests/Fixtures")
        for folder in ["invalid", "postgres"] {
            let dir = fixtures.appendingPathComponent(folder)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] where name.hasSuffix(".yaml") {
                specs.append(dir.appendingPathComponent(name))
            }
        }
        let files = specs.compactMap { try? String(contentsOf: $0, encoding: .utf8) }
        let crafted = [
            "", "\n", "\r\n", "\r", "a: 1\r\nb: [x, {y: ?}]\r\n? k\r\n: v\r\n",
            "x: \"a\u{301}\" # ?\n? key\n",
            "x: '\u{301}?' \n ? y\n",
            "#\u{301} ? a\n- \u{301}? b\n[\u{301}? c]\n{?\u{301} d}\n",
            "k:\u{301} -\u{301} [\u{301} {\u{301}\n? z\n",
            "\u{37E} ? x\n? y\u{37E}\n",
            "emoji: 👩‍👩‍👧 ? 🇫🇷 [{\"?\"}]\n? after\n",
            "a: \"unterminated\n? x\n'still: [\n? y\n",
            "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - x\n",
            String(repeating: "[", count: 80) + "\r\n" + String(repeating: "{", count: 80),
            String(repeating: "  ", count: 40) + "a: 1\n" + String(repeating: "  ", count: 70) + "b: 2\n",
            "a:\u{E000} [*b, \"*\u{301}\", *\u{E000}]\n",
            "x:\t?\ty\n?\t\n,? z\n",
        ]
        return files + files.map { $0.replacingOccurrences(of: "\n", with: "\r\n") } + crafted
    }()

    @Test func theGuardsAnswerAsTheCharacterGuards() {
        for (index, text) in Self.texts.enumerated() {
            for limit in [1, 3, 8, 64] {
                #expect(InputGuard.firstTooDeep(text, limit: limit).map(Place.init) == Reference.firstTooDeep(text, limit: limit).map(Place.init),
                        "text \(index), limit \(limit)")
            }
            #expect(InputGuard.firstComplexKey(text).map(Place.init) == Reference.firstComplexKey(text).map(Place.init), "text \(index)")
            #expect(InputGuard.standingIn(text) == String(text.map { $0 == "*" ? InputGuard.aliasStandIn : $0 }), "text \(index)")
        }
    }

    @Test func asciiAndOtherTextAreReadAlike() {
        #expect(InputGuard.characterBytes("a\r\nb\r\r\n\n") == [UInt8(ascii: "a"), 0xFF, UInt8(ascii: "b"), UInt8(ascii: "\r"), 0xFF, UInt8(ascii: "\n")])
        #expect(InputGuard.characterBytes("é\r\nb\"\u{301}") == [0xFF, 0xFF, UInt8(ascii: "b"), 0xFF])
    }

    struct Place: Equatable {
        var line: Int, column: Int
        init(_ place: (line: Int, column: Int)) { (line, column) = place }
    }

    /// The guards as they were, character by character.
    enum Reference {
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
}
