@testable import EmmyOpsKit
import Foundation
import Testing

@Suite struct PrimitiveTests {
    @Test(arguments: [("30s", 30_000, "30s"), ("90s", 90_000, "1m30s"), ("1h30m", 5_400_000, "1h30m"), ("500ms", 500, "500ms"),
                      ("3d", 259_200_000, "3d"), ("0s", 0, "0s"), ("2w", 1_209_600_000, "2w"), ("1y", 31_536_000_000, "1y")])
    func durationsParseAndPrintLikePrometheus(_ text: String, _ milliseconds: Int64, _ canonical: String) throws {
        let duration = try #require(PromDuration(parsing: text))
        #expect(duration.milliseconds == milliseconds)
        #expect(duration.description == canonical)
    }

    @Test(arguments: ["", "30", "s", "5 m", "30m1h", "1h1h", "-5s", "1.5s", "999999999999999y", "5mm"])
    func badDurationsAreRejected(_ text: String) {
        #expect(PromDuration(parsing: text) == nil)
    }

    @Test func ratiosAreExactDecimals() throws {
        let budget = 1 - (try #require(Ratio(percent: "99.9%"))).value
        #expect(Ratio.format(try #require(ExactDecimal(digits: "14.4")) * budget) == "0.0144")
        #expect(Ratio.format(6 * budget) == "0.006")
        #expect(Ratio(percent: "5%")?.description == "0.05")
        #expect(Ratio(percent: "99.95%")?.percentText == "99.95%")
        for bad in ["5", "5 %%", "%", ".5%", "5.%", "abc%", "1e2%"] { #expect(Ratio(percent: bad) == nil, "\(bad)") }
        // Spaces, tabs and other Unicode space separators around the number are dropped (what
        // CharacterSet.whitespaces held); line breaks are not blanks.
        for blank in [" 5 %", "5\t%", "\u{00A0}5\u{2009}%"] { #expect(Ratio(percent: blank)?.description == "0.05", "\(blank)") }
        #expect(Ratio(percent: "5\n%") == nil)
    }

    @Test func exactReplacementMatchesBytesLeftToRight() {
        #expect("a\"\u{301}b".replacingExactly("\"", with: "\\\"") == "a\\\"\u{301}b")
        #expect("aaa".replacingExactly("aa", with: "b") == "ba")
        #expect("${x} %{y}".replacingExactly("${", with: "$${").replacingExactly("%{", with: "%%{") == "$${x} %%{y}")
        #expect("é, e".replacingExactly("e", with: "E") == "é, E")
        #expect("abc".replacingExactly("", with: "x") == "abc")
        #expect("".replacingExactly("a", with: "x") == "")
    }

    @Test func yamlQuotesAnythingAmbiguous() {
        #expect(YAMLValue.quote("critical") == "critical")
        #expect(YAMLValue.quote("15s") == "15s")
        for plain in ["/var/lib/emmy", "_x", "Emmy-App.v2", "a@b+c", "node_exporter"] { #expect(YAMLValue.quote(plain) == plain) }
        for ambiguous in ["0x1f", "1e5", "0o17", ".inf", "inf", "NaN", "Infinity", "yes", "No", "null", "~", "3.8", "5000", "", "a: b", "#x",
                          "{{ $labels.job }}", "- x", "@x", "élan", "x:", "9lives"] {
            #expect(YAMLValue.quote(ambiguous) != ambiguous, "\(ambiguous) must be quoted")
        }
        #expect(YAMLValue.quote("up{job=\"x\"} == 0") == "'up{job=\"x\"} == 0'")
        #expect(YAMLValue.quote("it's \"both\"") == "\"it's \\\"both\\\"\"")
        #expect(YAMLValue.quote("line\nbreak") == "\"line\\nbreak\"")
    }

    /// The scalar check finds what the character check it replaced found: line breaks
    /// (`Character.isNewline`, `\r\n` included) and ASCII controls, whatever follows them.
    @Test(arguments: ["plain", "a\tb", "a\rb", "a\r\nb", "a\u{0B}b", "a\u{0C}b", "a\u{85}b", "a\u{2028}b", "a\u{2029}b", "\u{01}\u{301}",
                      "e\u{301}\n", "a\u{7F}b", "\u{1B}[0m", "é", "🙂\u{200D}🙂", "\u{A0}", "", "x\u{0}"])
    func yamlLineBreakCheckMatchesCharacters(_ text: String) {
        let byCharacter = text.contains { $0.isNewline || ($0.asciiValue.map { $0 < 0x20 } ?? false) }
        #expect(YAMLValue.holdsLineBreakOrControl(text) == byCharacter, "\(text.unicodeScalars.map { $0.value })")
    }

    /// The plain check reads bytes without copies and lowercases only words short enough to be
    /// reserved: it answers as the check it replaced (below) on every word of the golden
    /// renderings and on the edge cases.
    @Test func yamlPlainCheckMatchesTheCopyingCheck() throws {
        func reference(_ text: String) -> Bool {
            let durationBytes = Array(text.utf8)
            if let first = durationBytes.first, let last = durationBytes.last, UInt8(ascii: "0")...UInt8(ascii: "9") ~= first,
               "ywdhms".utf8.contains(last),
               durationBytes.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")) ~= $0 || "ywdhms".utf8.contains($0) }) {
                return true
            }
            func letter(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")) ~= byte | 0x20 }
            let bytes = text.utf8
            guard let first = bytes.first, letter(first) || first == UInt8(ascii: "/") || first == UInt8(ascii: "_") else { return false }
            guard bytes.allSatisfy({ letter($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")) ~= $0 || "_./@+-".utf8.contains($0) }) else { return false }
            let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"]
            return !reserved.contains(text.lowercased()) && !text.hasSuffix(":") && Double(text) == nil
        }
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
        var words: Set<String> = ["", "y", "Y", "n", "NO", "On", "oFF", "TRUE", "False", "nulL", "~", "inf", "INF", "Infinity", "nan", "NaN",
                                  "infinity5", "nanx", "e5", "E", "1h30m", "15s", "0s", "5", "5x", "s5", "m", "1y2w3d4h5m6s", "0x10", "_x",
                                  "/path/to", "a:b", "a:", "-x", "é", "yes1", "yesno", "a.b@c+d-e_f/g", "Ymd", "ON.", "n/a"]
        let enumerator = try #require(FileManager.default.enumerator(at: golden, includingPropertiesForKeys: nil))
        for case let url as URL in enumerator {
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            for word in text.split(whereSeparator: { " \n\t\"',:{}[]()=|".contains($0) }) { words.insert(String(word)) }
        }
        #expect(words.count > 500)
        for word in words {
            #expect(YAMLValue.isPlainSafe(word) == reference(word), "\(word)")
        }
    }

    /// The literal-block check finds lines among the bytes: it answers as the character check
    /// it replaced on blank, spaced, accented, CR LF and tabbed texts.
    @Test(arguments: ["a\nb", "a\n\nb", "a\n  \nb", "a\n \u{301}\nb", "a\n\t\nb", "a\n ", "a\n  x\n", "a\r\nb", " a\nb", "\na", "a\n\n\n",
                      "é\n  é", "a\u{7F}\nb", "x\n\u{FEFF}", "🙂\n \n", "a\n \n", "", "a"])
    func yamlLiteralCheckMatchesCharacters(_ text: String) {
        func reference(_ text: String) -> Bool {
            guard !text.isEmpty, text.first != " ", !text.hasPrefix("\n") else { return false }
            let printable = text.unicodeScalars.allSatisfy { $0 == "\n" || $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F && $0.value != 0xFEFF) }
            let blankLines = text.split(separator: "\n", omittingEmptySubsequences: false).contains { !$0.isEmpty && $0.allSatisfy { $0 == " " } }
            return printable && !blankLines
        }
        #expect(YAMLValue.canBeLiteral(text) == reference(text), "\(text.unicodeScalars.map { $0.value })")
        #expect(YAMLValue.text(text) == (text.contains("\n") && reference(text) ? .literal(text) : .string(text)))
    }

    @Test func unifiedDiffShowsOnlyTheChange() {
        let old = (1...20).map { "line \($0)" }.joined(separator: "\n") + "\n"
        let new = old.replacingOccurrences(of: "line 10\n", with: "line ten\n")
        let diff = UnifiedDiff.diff(old: old, new: new, oldLabel: "a", newLabel: "b")
        #expect(diff == """
        --- a
        +++ b
        @@ -7,7 +7,7 @@
         line 7
         line 8
         line 9
        -line 10
        +line ten
         line 11
         line 12
         line 13

        """)
    }

    @Test func promqlNamesFindSelectorsOnly() {
        let names = PromQLNames.metrics(in: #"sum by (job) (rate(a_total{job="x",status=~"5.."}[5m])) / b{le="2.0"} > 0.05 and job:c:ratio_rate5m{job="x"}"#)
        #expect(names == ["a_total", "b", "job:c:ratio_rate5m"])
    }

    @Test func cidrs() throws {
        let vpc = try #require(CIDR("10.0.0.0/16"))
        #expect(vpc.contains(try #require(CIDR("10.0.1.0/24"))))
        #expect(!vpc.contains(try #require(CIDR("10.1.0.0/24"))))
        for bad in ["10.0.0.1/16", "10.0.0.0", "10.0.0.0/33", "300.0.0.0/8", "10.0.0/8", "010.0.0.0/8"] { #expect(CIDR(bad) == nil, "\(bad)") }
    }
}
