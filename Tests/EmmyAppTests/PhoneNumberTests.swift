@testable import EmmyApp
@testable import PhoneNumbers
import Foundation
import Testing

@Suite struct PhoneNumberTests {
    let kenya = PhoneNumberParser(defaultRegion: "KE")

    @Test(arguments: [
        ("+254712345678", "+254712345678"),
        ("0712345678", "+254712345678"),
        ("712345678", "+254712345678"),
        ("254712345678", "+254712345678"),
        (" +254 712-345.678 ", "+254712345678"),
        ("(0712) 345 678", "+254712345678"),
        ("000 254 712 345 678", "+254712345678"),
        ("+254 (0)712 345678", "+254712345678"),
        ("０７１２３４５６７８", "+254712345678"),
        ("020 2012345", "+254202012345"),
    ])
    func kenyanNumbersNormalise(_ text: String, _ e164: String) throws {
        let number = try kenya.parse(text)
        #expect(number.e164 == e164)
        #expect(number.countryCode == 254)
        #expect(number.region == "KE")
        #expect(number.e164 == "+254" + number.nationalNumber)
    }

    @Test(arguments: ["25475552671", "+25475552671", "+25475552673", "0755526"])
    func seedReadmeNumbersAreInvalid(_ text: String) {
        #expect(throws: PhoneNumberError.self) { try kenya.parse(text) }
        #expect(!kenya.isValid(text))
    }

    @Test(arguments: [
        ("(201) 555-0123", "US", "+12015550123", "US"),
        ("1-201-555-0123", "US", "+12015550123", "US"),
        ("+1 416 555 0123", "KE", "+14165550123", "CA"),
        ("+1 268 464 1234", "KE", "+12684641234", "AG"),
        ("011 44 20 7946 0018", "US", "+442079460018", "GB"),
        ("020 7946 0018", "GB", "+442079460018", "GB"),
        ("07400 123456", "GB", "+447400123456", "GB"),
        ("+44 1481 256789", "KE", "+441481256789", "GG"),
        ("030 123456", "DE", "+4930123456", "DE"),
        ("+49 1512 3456789", "KE", "+4915123456789", "DE"),
        ("098765 43210", "IN", "+919876543210", "IN"),
        ("+91 11 2345 6789", "KE", "+911123456789", "IN"),
        ("0802 123 4567", "NG", "+2348021234567", "NG"),
        ("+234 2033 12 3456", "KE", "+2342033123456", "NG"),
        ("+800 1234 5678", "KE", "+80012345678", "001"),
    ])
    func otherRegions(_ text: String, _ region: String, _ e164: String, _ numberRegion: String) throws {
        let number = try kenya.parse(text, region: region)
        #expect(number.e164 == e164)
        #expect(number.region == numberRegion)
    }

    @Test(arguments: [
        ("", PhoneNumberError.empty),
        ("   ", .empty),
        ("+", .notANumber),
        ("abc", .notANumber),
        ("0712ABC678", .notANumber),
        ("call 0712345678", .notANumber),
        ("1-800-FLOWERS", .notANumber),
        ("📞", .notANumber),
        ("0712345678\u{1F600}x", .notANumber),
        ("+999 123 456 789", .invalidCountryCode),
        ("+0712345678", .invalidCountryCode),
        (String(repeating: "7", count: 40), .tooLong),
        (String(repeating: "1", count: 300), .tooLong),
        ("+2547", .tooShort),
        ("07123", .tooShort),
        ("0712345678901", .tooLong),
        ("0912345678", .invalidForRegion),
    ])
    func garbageIsRejected(_ text: String, _ error: PhoneNumberError) {
        #expect(throws: error) { try kenya.parse(text) }
    }

    @Test func emojiAroundADigitStringNeverCrashes() {
        for text in ["📞0712345678", "0712345678📞", "🇰🇪+254712345678", "\u{0}0712345678", "++254712345678",
                     "+ 254 712 345 678", "٠٧١٢٣٤٥٦٧٨", "0", "00", "000", "+00", String(repeating: "+", count: 250)] {
            _ = try? kenya.parse(text)
        }
    }

    @Test(arguments: [
        ("011 15-2345-6789", "AR", "+5491123456789"),  // national prefix 0 and 15 → 9 (transform rule)
        ("4641234", "AG", "+12684641234"),  // a 7-digit local number gains the area code
        ("00254712345678", "GB", "+254712345678"),  // GB's international prefix is 00
        ("+000254712345678", "KE", "+254712345678"),  // retried without the plus: 000 is KE's
    ])
    func prefixRules(_ text: String, _ region: String, _ e164: String) throws {
        #expect(try kenya.parse(text, region: region).e164 == e164)
    }

    @Test func doubleZeroIsNotKenyasInternationalPrefix() {
        // Kenya dials abroad with 000, so libphonenumber reads 00254… as a (too long) national number.
        #expect(throws: PhoneNumberError.tooLong) { try kenya.parse("00254712345678") }
    }

    @Test func patternEngineFollowsPythonMatchSemantics() throws {
        let pattern = try DigitPattern(#"([457]\d{6})$|1"#, captures: true)
        func run(_ text: String) -> (Int?, [Int]) {
            let digits = text.utf8.map { $0 - UInt8(ascii: "0") }
            var captures = [Int](repeating: 0, count: 2)
            let end = digits.withUnsafeBufferPointer { input in
                captures.withUnsafeMutableBufferPointer { pattern.prefixMatch(input, captures: $0) }
            }
            return (end, captures)
        }
        #expect(run("4123456") == (7, [0, 7]))
        #expect(run("12345") == (1, [-1, -1]))
        #expect(run("41234567").0 == nil)
        let greedy = try DigitPattern(#"\d{2,4}"#)
        #expect([UInt8]([1, 2, 3, 4, 5]).withUnsafeBufferPointer { greedy.prefixMatch($0) } == 4)
        #expect(throws: DigitPattern.SyntaxError.self) { try DigitPattern("[a-z]") }
    }

    @Test func unknownDefaultRegionNeedsAPlus() throws {
        let unknown = PhoneNumberParser(defaultRegion: "XX")
        #expect(throws: PhoneNumberError.invalidCountryCode) { try unknown.parse("0712345678") }
        #expect(try unknown.parse("+254712345678").e164 == "+254712345678")
        #expect(try kenya.parse("0712345678", region: "ke").e164 == "+254712345678")
    }

    @Test func extensionsAreSplitOff() throws {
        for text in ["+1 201 555 0123 ext. 42", "+1 201 555 0123 x42", "+1 201 555 0123;ext=42"] {
            let number = try kenya.parse(text)
            #expect(number.e164 == "+12015550123")
            #expect(number.phoneExtension == "42")
        }
    }

    @Test func everyRegionIsKnown() {
        let regions = PhoneNumberParser.supportedRegions
        #expect(regions.count == 245)
        #expect(["KE", "US", "GB", "DE", "IN", "NG", "CA", "AG"].allSatisfy(regions.contains))
        #expect(!PhoneNumberParser.metadataVersion.isEmpty)
    }

    @Test func parsingIsThreadSafe() async {
        let parser = kenya
        await withTaskGroup(of: Bool.self) { group in
            for i in 0..<8 {
                group.addTask { parser.isValid("07123456\(10 + i)") && !parser.isValid("+25475552671") }
            }
            for await ok in group { #expect(ok) }
        }
    }

    /// Runs only with EMMY_PHONE_CORPUS=/path/corpus.tsv (see scripts/phonemeta/compare.py):
    /// writes EmmyApp's answers to `$EMMY_PHONE_CORPUS.swift.tsv` and prints the agreement.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["EMMY_PHONE_CORPUS"] != nil))
    func corpusAgreement() throws {
        let path = try #require(ProcessInfo.processInfo.environment["EMMY_PHONE_CORPUS"])
        let rows = try String(contentsOfFile: path, encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.allSatisfy { $0.count == 4 })
        let parser = kenya
        var answers: [(Bool, String)] = []
        answers.reserveCapacity(rows.count)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for row in rows {
                switch parser.validate(row[0], region: row[1]) {
                case .success(let number): answers.append((true, number.e164))
                case .failure: answers.append((false, ""))
                }
            }
        }
        var output = ""
        var agreed = 0
        for (row, answer) in zip(rows, answers) {
            output += "\(answer.0 ? 1 : 0)\t\(answer.1)\n"
            if (row[2] == "1") == answer.0 && row[3] == answer.1 { agreed += 1 }
        }
        try output.write(toFile: path + ".swift.tsv", atomically: true, encoding: .utf8)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let percent = 100 * Double(agreed) / Double(max(rows.count, 1))
        print(String(format: "corpus agreement: %d/%d = %.3f%%; %.2f µs per number (parse+validate)",
                     agreed, rows.count, percent, seconds * 1e6 / Double(max(rows.count, 1))))
        #expect(percent >= 99.9)
    }
}
