@testable import EmmyOpsKit
import Foundation
import Testing

/// `Ratio` and the alert catalogue's arithmetic run on `ExactDecimal` instead of Foundation's
/// `Decimal`: on every percentage the repository's specs hold, edge cases and ten thousand
/// generated texts, they accept, reject and print exactly as the `Decimal` code they replace
/// (kept below as the reference).
@Suite struct ExactDecimalTests {
    /// The `Decimal` reference: `Ratio` as it was, and the sums `AlertCatalogue` made with it.
    struct DecimalRatio {
        let value: Decimal

        init(_ value: Decimal) { self.value = value }

        init?(percent text: String) {
            guard text.hasSuffix("%") else { return nil }
            let number = Ratio.trimmingBlanks(text.dropLast())
            guard !number.isEmpty, number.count <= 12,
                  number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                  number.filter({ $0 == "." }).count <= 1, number.first != ".", number.last != ".",
                  let decimal = Decimal(string: String(number))
            else { return nil }
            value = decimal / 100
        }

        var description: String { Self.format(value) }
        var percentText: String { Self.format(value * 100) + "%" }

        static func format(_ decimal: Decimal) -> String {
            var copy = decimal
            var rounded = Decimal()
            NSDecimalRound(&rounded, &copy, 12, .plain)
            return NSDecimalNumber(decimal: rounded).stringValue
        }

        static func rounded(_ value: Decimal, _ mode: NSDecimalNumber.RoundingMode) -> Decimal {
            var copy = value
            var out = Decimal()
            NSDecimalRound(&out, &copy, 0, mode)
            return out
        }

        /// What the catalogue printed for a threshold of this ratio: the CPU, memory and disk
        /// scenarios, the error-ratio scenario's counters, and each burn tier's threshold and
        /// counters for an objective of this ratio.
        var catalogueTexts: [String] {
            let step = Decimal(AlertCatalogue.testStep.milliseconds) / 1000
            var out = [Self.format(step * (1 - value) / 2), Self.format(step * (1 - value / 2))]
            for capacity: Decimal in [8_000_000_000, 100_000_000_000] {
                out += [Self.format(capacity * (1 - value) / 2), Self.format(capacity * (1 - value / 2))]
            }
            func counters(_ threshold: Decimal) -> [String] {
                let total: Decimal = 10_000
                let bad = Self.rounded(total * (1 + threshold) / 2, .up), silent = Self.rounded(total * threshold / 2, .down)
                return [bad, total - bad, silent, total - silent].map(Self.format)
            }
            out += counters(value)
            let budget = 1 - value
            out += [Self.format(budget), "\(budget > 0)", "\(value <= 0)", "\(value >= 1)"]
            for factor in [Decimal(string: "14.4")!, 6, 1] {
                let threshold = factor * budget
                out += ["\(threshold < 1)", DecimalRatio(threshold).description, Self.format(factor)] + counters(threshold)
            }
            return out
        }
    }

    /// The same sums on `ExactDecimal`, written as `AlertCatalogue` writes them.
    static func catalogueTexts(_ ratio: Ratio) -> [String] {
        let value = ratio.value
        let step = ExactDecimal(units: Int128(AlertCatalogue.testStep.milliseconds), scale: 3)
        var out = [Ratio.format((step * (1 - value)).halved), Ratio.format(step * (1 - value.halved))]
        for capacity: ExactDecimal in [8_000_000_000, 100_000_000_000] {
            out += [Ratio.format((capacity * (1 - value)).halved), Ratio.format(capacity * (1 - value.halved))]
        }
        func counters(_ threshold: ExactDecimal) -> [String] {
            let total: ExactDecimal = 10_000
            let bad = (total * (1 + threshold)).halved.rounded(toScale: 0, .up)
            let silent = (total * threshold).halved.rounded(toScale: 0, .down)
            return [bad, total - bad, silent, total - silent].map(Ratio.format)
        }
        out += counters(value)
        let budget = 1 - value
        out += [Ratio.format(budget), "\(budget > 0)", "\(value <= 0)", "\(value >= 1)"]
        for tier in BurnTier.all {
            let threshold = tier.factor * budget
            out += ["\(threshold < 1)", Ratio(threshold).description, Ratio.format(tier.factor)] + counters(threshold)
        }
        return out
    }

    /// Every `N%` written in the example spec and the test fixtures, the edges of what the
    /// parser accepts (0, 100%, 12 characters, 10 decimals, leading zeros, trailing zeros,
    /// halves at the 12th decimal) and texts it rejects; then generated texts of digits and dots.
    static let texts: [String] = {
        let root = GitHubTooling.root
        var files = [root.appendingPathComponent("examples/emmy.yaml")]
        let fixtures = root.appendingPathComponent("Tests/EmmyOpsKitTests/Fixtures")
        for folder in ["", "invalid", "postgres"] {
            let dir = fixtures.appendingPathComponent(folder)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] where name.hasSuffix(".yaml") {
                files.append(dir.appendingPathComponent(name))
            }
        }
        var written: [String] = []
        for text in files.compactMap({ try? String(contentsOf: $0, encoding: .utf8) }) {
            var number = ""
            for character in text {
                if character == "%", !number.isEmpty { written.append(number + "%") }
                number = character.isASCII && (character.isNumber || character == ".") ? number + String(character) : ""
            }
        }
        let edges = [
            "0%", "00%", "0.0%", "1%", "5%", "10%", "50%", "85%", "90%", "95%", "99%", "99.9%", "99.95%", "99.99%", "100%", "150%",
            "1000%", "999999999999%", "000000000001%", "0.0000000001%", "0.0000000005%", "99.9999999999%", "99.99999999995%",
            "12.345678901%", "7.50%", "007.50%", "50.000%", "0.5%", "0.05%", "0.005%", "33.333333333%", "66.666666667%",
            "14.4%", "1.00000000001%", " 5 %", "5\t%", "\u{00A0}5\u{2009}%",
            // Rejected: no `%`, empty, a dot at either end, two dots, signs, exponents, blanks
            // inside, 13 characters, non-ASCII digits.
            "5", "%", "", ".5%", "5.%", "1..2%", "1.2.3%", "-5%", "+5%", "1e2%", "5 %%", "5\n%", "1 0%", "abc%",
            "1234567890123%", "0.00000000001%", "٥%", "５%", "5\u{301}%",
        ]
        // A fixed linear congruential sequence, so every run checks the same texts.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let alphabet = Array("0123456789.")
        let generated = (0..<10_000).map { _ in
            String((0..<(1 + next(13))).map { _ in next(4) == 0 ? alphabet[next(11)] : alphabet[next(10)] }) + "%"
        }
        return written + edges + generated
    }()

    @Test func everyPercentageParsesAndPrintsAsWithDecimal() {
        #expect(Self.texts.count > 10_000)
        var accepted = 0
        for text in Self.texts {
            let reference = DecimalRatio(percent: text), ratio = Ratio(percent: text)
            #expect((reference == nil) == (ratio == nil), "\(text.debugDescription) accepted by one parser only")
            guard let reference, let ratio else { continue }
            accepted += 1
            #expect(ratio.description == reference.description, "\(text.debugDescription)")
            #expect(ratio.percentText == reference.percentText, "\(text.debugDescription)")
            #expect(Self.catalogueTexts(ratio) == reference.catalogueTexts, "\(text.debugDescription)")
        }
        // Both outcomes are well represented.
        #expect(accepted > 3_000 && accepted < Self.texts.count - 1_000, "\(accepted) accepted")
    }

    @Test func arithmeticIsExactAndNormalised() throws {
        let fast = try #require(ExactDecimal(digits: "14.4"))
        #expect(fast == ExactDecimal(units: 1440, scale: 2))
        #expect(fast.hashValue == ExactDecimal(units: 1440, scale: 2).hashValue)
        #expect((fast * (1 - (try #require(Ratio(percent: "99.9%"))).value)).description == "0.0144")
        #expect(ExactDecimal(units: 5, scale: 13).rounded(toScale: 12, .halfAwayFromZero).description == "0.000000000001")
        #expect(ExactDecimal(units: -5, scale: 1).rounded(toScale: 0, .halfAwayFromZero).description == "-1")
        #expect(ExactDecimal(units: -25, scale: 1).rounded(toScale: 0, .up).description == "-2")
        #expect(ExactDecimal(units: -25, scale: 1).rounded(toScale: 0, .down).description == "-3")
        #expect((ExactDecimal(1) - ExactDecimal(units: 1_000, scale: 2)).description == "-9")
        #expect(ExactDecimal(80_000_000_000).description == "80000000000")
        for bad in ["", ".", "1.2.3", "-1", "1e2", " 1", "٥"] { #expect(ExactDecimal(digits: bad) == nil, "\(bad)") }
    }
}
