/// An exact decimal number, `units` ÷ 10^`scale`: the thresholds, error budgets and burn-rate
/// factors the alert rules print (`0.0144`, never `0.014400000000000001`).
///
/// Plain integer arithmetic instead of Foundation's `Decimal`, whose first printing alone
/// instantiated generic metadata and scanned the binary's conformance records: 6% of
/// `render all`. 128-bit units hold every percentage the spec can write (12 characters) times
/// the catalogue's constants (capacities up to 10^11, 10,000 events, burn factors) without
/// rounding, so nothing here ever rounds unless asked to by `rounded`.
public struct ExactDecimal: Sendable, Hashable, Comparable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// Normalised: no trailing zero digit while `scale > 0`, so equal values have equal fields
    /// (`0.50` and `0.5` are one value, as they were as `Decimal`).
    public let units: Int128
    /// Digits after the decimal point; never negative.
    public let scale: Int

    public init(units: Int128, scale: Int) {
        precondition(scale >= 0, "ExactDecimal: negative scale")
        var units = units, scale = scale
        while scale > 0, units % 10 == 0 { units /= 10; scale -= 1 }
        self.units = units
        self.scale = scale
    }

    public init(_ value: Int) { self.init(units: Int128(value), scale: 0) }
    public init(integerLiteral value: Int) { self.init(value) }

    /// Reads ASCII digits with at most one `.` between them (`14.4`, `007.50`, `3`): no sign,
    /// no exponent, no blanks, at most 38 digits.
    public init?(digits text: some StringProtocol) {
        var units: Int128 = 0, scale = 0, digits = 0, point = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: "."), !point { point = true; continue }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 38 else { return nil }
            units = units * 10 + Int128(byte - UInt8(ascii: "0"))
            digits += 1
            if point { scale += 1 }
        }
        guard digits > 0 else { return nil }
        self.init(units: units, scale: scale)
    }

    /// The value ÷ 10^`power`, exactly (milliseconds to seconds, percent to ratio).
    public func shifted(right power: Int) -> ExactDecimal { ExactDecimal(units: units, scale: scale + power) }

    /// Half the value, exactly.
    public var halved: ExactDecimal { ExactDecimal(units: units * 5, scale: scale + 1) }

    /// How `rounded` settles a value between two candidates, as `NSDecimalRound` did.
    public enum Rounding: Sendable {
        /// To the nearer candidate; halfway rounds away from zero (`.plain`).
        case halfAwayFromZero
        /// Towards +∞ (`.up`: a ceiling).
        case up
        /// Towards −∞ (`.down`: a floor).
        case down
    }

    /// The value with at most `digits` digits after the point.
    public func rounded(toScale digits: Int, _ rule: Rounding) -> ExactDecimal {
        guard scale > digits else { return self }
        let divisor = Self.power(scale - digits)
        var quotient = units / divisor
        let remainder = units % divisor  // carries the sign of `units`
        switch rule {
        case .halfAwayFromZero: if remainder.magnitude * 2 >= divisor.magnitude { quotient += units < 0 ? -1 : 1 }
        case .up: if remainder > 0 { quotient += 1 }
        case .down: if remainder < 0 { quotient -= 1 }
        }
        return ExactDecimal(units: quotient, scale: digits)
    }

    /// Plain notation, as Decimal printed it: `0.0144`, `8000000000`, `-9`; no exponent, no
    /// trailing zero after the point.
    public var description: String {
        // Digits written by hand: Int128's own printing goes through generic integer code paths.
        var magnitude = units.magnitude
        var reversed: [UInt8] = []
        reversed.reserveCapacity(44)
        var written = 0
        repeat {
            reversed.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
            written += 1
            if written == scale { reversed.append(UInt8(ascii: ".")) }
        } while magnitude > 0 || written < scale
        if reversed.last == UInt8(ascii: ".") { reversed.append(UInt8(ascii: "0")) }
        if units < 0 { reversed.append(UInt8(ascii: "-")) }
        // Reversed in place: decoding a `ReversedCollection` took the generic path (its
        // metadata made at first use), an array the specialised one.
        reversed.reverse()
        return String(decoding: reversed, as: UTF8.self)
    }

    public static func + (lhs: ExactDecimal, rhs: ExactDecimal) -> ExactDecimal {
        let (l, r, scale) = aligned(lhs, rhs)
        return ExactDecimal(units: l + r, scale: scale)
    }

    public static func - (lhs: ExactDecimal, rhs: ExactDecimal) -> ExactDecimal {
        let (l, r, scale) = aligned(lhs, rhs)
        return ExactDecimal(units: l - r, scale: scale)
    }

    public static func * (lhs: ExactDecimal, rhs: ExactDecimal) -> ExactDecimal {
        ExactDecimal(units: lhs.units * rhs.units, scale: lhs.scale + rhs.scale)
    }

    public static func < (lhs: ExactDecimal, rhs: ExactDecimal) -> Bool {
        let (l, r, _) = aligned(lhs, rhs)
        return l < r
    }

    private static func aligned(_ lhs: ExactDecimal, _ rhs: ExactDecimal) -> (Int128, Int128, Int) {
        let scale = max(lhs.scale, rhs.scale)
        return (lhs.units * power(scale - lhs.scale), rhs.units * power(scale - rhs.scale), scale)
    }

    private static func power(_ exponent: Int) -> Int128 {
        var result: Int128 = 1
        for _ in 0..<exponent { result *= 10 }
        return result
    }
}
