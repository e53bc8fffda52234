import Foundation

/// An exact decimal ratio, written in the spec as a percentage (`5%`, `99.9%`).
///
/// Kept as `Decimal` so that thresholds render exactly (`0.0144`, never `0.014400000000000001`).
public struct Ratio: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let value: Decimal

    public init(_ value: Decimal) { self.value = value }

    /// Parses `5%`, `99.95%` or `0%`; at most 6 fractional digits.
    public init?(percent text: String) {
        guard text.hasSuffix("%") else { return nil }
        let number = Ratio.trimmingBlanks(text.dropLast())
        // No locale: Decimal reads `.` as the separator without one, and building a Locale
        // costs more than the rest of loading a spec.
        guard !number.isEmpty, number.count <= 12,
              number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              number.filter({ $0 == "." }).count <= 1, number.first != ".", number.last != ".",
              let decimal = Decimal(string: String(number))
        else { return nil }
        value = decimal / 100
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

    public var double: Double { NSDecimalNumber(decimal: value).doubleValue }

    public static func format(_ decimal: Decimal) -> String {
        var copy = decimal
        var rounded = Decimal()
        NSDecimalRound(&rounded, &copy, 12, .plain)
        return NSDecimalNumber(decimal: rounded).stringValue
    }

    public static func < (lhs: Ratio, rhs: Ratio) -> Bool { lhs.value < rhs.value }
}
