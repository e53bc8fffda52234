@testable import EmmyApp
import Testing

@Suite struct SMSEncodingTests {
    @Test(arguments: [
        ("", SMSEncoding.Scheme.gsm7, 0, 1),
        ("Hello", .gsm7, 5, 1),
        (String(repeating: "a", count: 160), .gsm7, 160, 1),
        (String(repeating: "a", count: 161), .gsm7, 161, 2),
        (String(repeating: "a", count: 306), .gsm7, 306, 2),
        (String(repeating: "a", count: 307), .gsm7, 307, 3),
        (String(repeating: "€", count: 80), .gsm7, 160, 1),
        (String(repeating: "€", count: 81), .gsm7, 162, 2),
        (String(repeating: "é", count: 160), .gsm7, 160, 1),
        (String(repeating: "ç", count: 70), .ucs2, 70, 1),
        ("Привет", .ucs2, 6, 1),
        (String(repeating: "ж", count: 71), .ucs2, 71, 2),
        (String(repeating: "ж", count: 134), .ucs2, 134, 2),
        (String(repeating: "ж", count: 135), .ucs2, 135, 3),
    ])
    func encodingAndSegments(_ text: String, _ scheme: SMSEncoding.Scheme, _ units: Int, _ segments: Int) {
        let encoding = SMSEncoding(text)
        #expect(encoding.scheme == scheme)
        #expect(encoding.units == units)
        #expect(encoding.segments == segments, "\(text.prefix(10))… \(units) units")
    }

    @Test func escapePairsAreNeverSplit() {
        // 152 plain septets then "€" (2 septets): the pair cannot straddle the 153-septet boundary.
        let text = String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 10)
        let encoding = SMSEncoding(text)
        #expect(encoding.units == 164)
        #expect(encoding.segments == 2)
        let tight = String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 152)
        #expect(SMSEncoding(tight).units == 306)
        #expect(SMSEncoding(tight).segments == 3, "306 septets would fit two parts only by splitting the pair")
    }

    @Test func surrogatePairsAreNeverSplit() {
        // 66 UCS-2 units then an emoji (a surrogate pair): it moves whole to the second part.
        let text = String(repeating: "ж", count: 66) + "😀" + String(repeating: "ж", count: 66)
        let encoding = SMSEncoding(text)
        #expect(encoding.scheme == .ucs2)
        #expect(encoding.units == 134)
        #expect(encoding.segments == 3)
    }

    @Test func reportsWhatForcedUCS2() {
        let encoding = SMSEncoding("Price: 5€ “quoted” — ok")
        #expect(encoding.scheme == .ucs2)
        #expect(encoding.nonGSMCharacters == ["“", "”", "—"])
    }

    @Test func crlfIsTwoGSMCharacters() {
        let encoding = SMSEncoding("a\r\nb")
        #expect(encoding.scheme == .gsm7)
        #expect(encoding.units == 4)
    }

    @Test func capitalCedillaIsGSM() {
        #expect(SMSEncoding.septets(for: "Ç") == 1)
        #expect(SMSEncoding.septets(for: "ç") == nil)
    }
}
