/// An exact decimal ratio, written in the spec as a percentage (`5%`, `99.9%`).
///
/// Kept as an `ExactDecimal` so that thresholds render exactly (`0.0144`, never
/// `0.014400000000000001`).
public struct Ratio: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let value: ExactDecimal

    public init(_ value: ExactDecimal) { self.value = value }

    /// Parses `5%`, `99.95%` or `0%`; at most 6 fractional digits.
    public init?(percent text: String) {
        guard text.hasSuffix("%") else { return nil }
        let number = Ratio.trimmingBlanks(text.dropLast())
        guard !number.isEmpty, number.count <= 12,
              number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              number.filter({ $0 == "." }).count <= 1, number.first != ".", number.last != ".",
              let percent = ExactDecimal(digits: number)
        else { return nil }
        value = percent.shifted(right: 2)
    }

    /// `text` without leading and trailing spaces and tabs (what `CharacterSet.whitespaces`
    /// holds: Unicode space separators and tab), without Foundation's NSString path.
    static func trimmingBlanks(_ text: Substring) -> Substring {
        func blank(_ character: Character) -> Bool {
            character.unicodeScalars.allSatisfy { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }
        }
        guard let first = text.firstIndex(where: { !blank($0) }), let last = text.lastIndex(where: { !blank($0) }) else { return text[text.endIndex...] }
        return text[first...last]
    }

    /// The ratio as a plain decimal string (`0.05`), as PromQL and YAML want it.
    public var description: String { Ratio.format(value) }

    /// The ratio as a percentage string (`5%`).
    public var percentText: String { Ratio.format(value * 100) + "%" }

    /// `decimal` in plain notation, rounded half away from zero to 12 digits after the point.
    public static func format(_ decimal: ExactDecimal) -> String {
        decimal.rounded(toScale: 12, .halfAwayFromZero).description
    }

    public static func < (lhs: Ratio, rhs: Ratio) -> Bool { lhs.value < rhs.value }
}
