/// How an SMS body is encoded and how many segments it costs.
///
/// GSM 03.38: 7-bit default alphabet, with an extension table whose characters cost an
/// escape septet plus their own. One segment holds 160 septets, or 153 per part once a
/// message is concatenated. Anything outside the alphabet makes the whole message UCS-2:
/// 70 UTF-16 code units, 67 per part. A part never splits an escape pair or a surrogate pair.
public struct SMSEncoding: Sendable, Hashable {
    public enum Scheme: String, Sendable, Hashable, Codable {
        case gsm7 = "GSM-7"
        case ucs2 = "UCS-2"
    }

    public let scheme: Scheme
    /// Septets (GSM-7) or UTF-16 code units (UCS-2) the body occupies.
    public let units: Int
    public let segments: Int
    /// The characters that forced UCS-2, in order of first appearance.
    public let nonGSMCharacters: [Character]

    /// Analyses `text` as a carrier would encode it.
    public init(_ text: String) {
        // Nearly every body is short GSM-7 ASCII: one pass over the bytes decides it, with no
        // per-character cost list (which only matters when the body needs several parts).
        if let septets = Self.asciiSeptets(text), septets <= 160 {
            scheme = .gsm7
            units = septets
            segments = 1
            nonGSMCharacters = []
            return
        }
        // Carriers encode Unicode scalars, not grapheme clusters: "\r\n" is two GSM
        // characters, and a decomposed "é" (e + combining accent) is not GSM at all.
        var septets = 0
        var costs: [Int] = []
        var nonGSM: [Character] = []
        for scalar in text.unicodeScalars {
            // Most bodies are ASCII: a table lookup instead of building a Character.
            if scalar.value < 128 {
                let cost = Int(SMSEncoding.asciiCost[Int(scalar.value)])
                if cost > 0 {
                    septets += cost
                    costs.append(cost)
                    continue
                }
            }
            let character = Character(scalar)
            switch SMSEncoding.septets(for: character) {
            case let cost?:
                septets += cost
                costs.append(cost)
            case nil:
                if !nonGSM.contains(character) { nonGSM.append(character) }
            }
        }
        if nonGSM.isEmpty {
            scheme = .gsm7
            units = septets
            segments = SMSEncoding.segments(costs, single: 160, part: 153)
        } else {
            scheme = .ucs2
            // Each character is one or two UTF-16 code units; a surrogate pair stays together.
            let unitCosts = text.unicodeScalars.map { $0.utf16.count }
            units = unitCosts.reduce(0, +)
            segments = SMSEncoding.segments(unitCosts, single: 70, part: 67)
        }
        nonGSMCharacters = nonGSM
    }

    /// The septets of a text made only of ASCII characters that GSM-7 has; nil otherwise.
    private static func asciiSeptets(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { bytes -> Int? in
            var septets = 0
            for byte in bytes {
                guard byte < 128 else { return nil }
                let cost = Int(asciiCost[Int(byte)])
                guard cost > 0 else { return nil }
                septets += cost
            }
            return septets
        }
    }

    /// Packs indivisible items of the given costs into parts of `part` units, unless the whole
    /// fits in one message of `single` units.
    static func segments(_ costs: [Int], single: Int, part: Int) -> Int {
        let total = costs.reduce(0, +)
        if total == 0 { return 1 }
        if total <= single { return 1 }
        var count = 1
        var used = 0
        for cost in costs {
            if used + cost > part {
                count += 1
                used = 0
            }
            used += cost
        }
        return count
    }

    /// Septets a character costs in GSM-7 (1, or 2 through the escape), or nil when it has none.
    public static func septets(for character: Character) -> Int? {
        if basic.contains(character) { return 1 }
        if extended.contains(character) { return 2 }
        return nil
    }

    /// Septets per ASCII code (0 when the character is not in GSM-7).
    static let asciiCost: [UInt8] = (0..<128).map { code in
        UInt8(septets(for: Character(Unicode.Scalar(UInt8(code)))) ?? 0)
    }

    /// The GSM 03.38 default alphabet (0x09 is capital Ç, per the specification).
    static let basic: Set<Character> = Set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    )

    /// Characters reached through the escape (0x1B): form feed, ^ { } \ [ ~ ] | and €.
    static let extended: Set<Character> = ["\u{0C}", "^", "{", "}", "\\", "[", "~", "]", "|", "€"]
}
