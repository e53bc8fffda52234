/// A Prometheus duration such as `30s`, `1h30m` or `3d`, kept in milliseconds.
public struct PromDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func seconds(_ s: Int64) -> PromDuration { PromDuration(milliseconds: s * 1000) }
    public static func minutes(_ m: Int64) -> PromDuration { .seconds(m * 60) }
    public static func hours(_ h: Int64) -> PromDuration { .minutes(h * 60) }
    public static func days(_ d: Int64) -> PromDuration { .hours(d * 24) }

    private static let units: [(String, Int64)] = [
        ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000),
        ("m", 60_000), ("s", 1000), ("ms", 1),
    ]

    /// Parses Prometheus' duration syntax: one or more `<int><unit>` groups, units in
    /// descending order, each at most once (`1h30m`, `500ms`, `0s`).
    public init?(parsing text: String) {
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        var total: Int64 = 0
        var lastUnitIndex = -1
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 12, let value = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            // Try "ms" before "m".
            guard let index = PromDuration.units.indices.sorted(by: {
                PromDuration.units[$0].0.count > PromDuration.units[$1].0.count
            }).first(where: { rest.hasPrefix(PromDuration.units[$0].0) }) else { return nil }
            guard index > lastUnitIndex else { return nil }
            lastUnitIndex = index
            rest = rest.dropFirst(PromDuration.units[index].0.count)
            let (product, overflow) = value.multipliedReportingOverflow(by: PromDuration.units[index].1)
            guard !overflow else { return nil }
            let (sum, overflow2) = total.addingReportingOverflow(product)
            guard !overflow2 else { return nil }
            total = sum
        }
        milliseconds = total
    }

    /// Prometheus' canonical form: largest units first, zero parts left out, `0s` for zero.
    public var description: String {
        guard milliseconds > 0 else { return "0s" }
        var rest = milliseconds
        var out = ""
        for (unit, size) in PromDuration.units where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }

    public var seconds: Double { Double(milliseconds) / 1000 }

    public static func < (lhs: PromDuration, rhs: PromDuration) -> Bool { lhs.milliseconds < rhs.milliseconds }
    public static func + (lhs: PromDuration, rhs: PromDuration) -> PromDuration {
        PromDuration(milliseconds: lhs.milliseconds + rhs.milliseconds)
    }
    public static func * (lhs: PromDuration, rhs: Int64) -> PromDuration {
        PromDuration(milliseconds: lhs.milliseconds * rhs)
    }
}
