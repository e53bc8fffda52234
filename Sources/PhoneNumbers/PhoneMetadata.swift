/// Possible national-number lengths, as a bit set (numbers are at most 17 digits).
struct LengthSet: Sendable, Equatable {
    var bits: UInt32 = 0

    var isEmpty: Bool { bits == 0 }
    var minimum: Int? { isEmpty ? nil : bits.trailingZeroBitCount }
    var maximum: Int? { isEmpty ? nil : 31 - bits.leadingZeroBitCount }

    func contains(_ length: Int) -> Bool {
        length >= 0 && length < 32 && bits & (1 << UInt32(length)) != 0
    }

    /// Parses the generator's `7-10,12` notation; `_` is the empty set.
    init?(_ text: Substring) {
        guard text != "_" else { return }
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-", maxSplits: 1).compactMap { Int($0) }
            guard let low = bounds.first, let high = bounds.last, low <= high, high < 32 else { return nil }
            for length in low...high { bits |= 1 << UInt32(length) }
        }
    }

    init() {}
}

/// A number type's (or the whole territory's) description: lengths first, then the pattern.
struct NumberDescription: Sendable {
    var lengths: LengthSet
    var pattern: DigitPattern

    /// libphonenumber's `_is_number_matching_desc`: a length in the list and a full pattern match.
    func matches(_ digits: UnsafeBufferPointer<UInt8>) -> Bool {
        (lengths.isEmpty || lengths.contains(digits.count)) && pattern.matchesWhole(digits)
    }
}

/// One piece of a national-prefix transform rule such as `268\1`.
enum TransformPiece: Sendable {
    case digits([UInt8])
    case group(Int)
}

/// Parsing and validation metadata for one territory (a region, or `001` for a
/// non-geographic calling code). A class so that lookups share it instead of copying a dozen
/// references; immutable, hence Sendable.
final class Territory: Sendable {
    let region: String
    let countryCode: Int
    /// Whether this is the main territory for its calling code (US for +1, GB for +44).
    let isMainCountry: Bool
    let internationalPrefix: DigitPattern?
    let nationalPrefixForParsing: DigitPattern?
    let nationalPrefixTransform: [TransformPiece]?
    let leadingDigits: DigitPattern?
    let general: NumberDescription
    let localOnlyLengths: LengthSet
    /// The descriptions of every number type the territory has (fixed line, mobile, …).
    let types: [NumberDescription]
    /// The country code's digits, for spotting it at the start of a number written without `+`.
    let countryCodeDigits: [UInt8]

    init(
        region: String, countryCode: Int, isMainCountry: Bool, internationalPrefix: DigitPattern?,
        nationalPrefixForParsing: DigitPattern?, nationalPrefixTransform: [TransformPiece]?,
        leadingDigits: DigitPattern?, general: NumberDescription, localOnlyLengths: LengthSet,
        types: [NumberDescription]
    ) {
        self.region = region
        self.countryCode = countryCode
        self.isMainCountry = isMainCountry
        self.internationalPrefix = internationalPrefix
        self.nationalPrefixForParsing = nationalPrefixForParsing
        self.nationalPrefixTransform = nationalPrefixTransform
        self.leadingDigits = leadingDigits
        self.general = general
        self.localOnlyLengths = localOnlyLengths
        self.types = types
        self.countryCodeDigits = String(countryCode).utf8.map { $0 - UInt8(ascii: "0") }
    }

    /// libphonenumber's `is_valid_number_for_region` on a national significant number.
    func isValid(_ nsn: UnsafeBufferPointer<UInt8>) -> Bool {
        guard general.matches(nsn) else { return false }
        return types.contains { $0.matches(nsn) }
    }

    enum LengthCheck { case possible, possibleLocalOnly, tooShort, tooLong, invalidLength }

    /// libphonenumber's `_test_number_length` against the territory's general lengths.
    func checkLength(_ length: Int) -> LengthCheck {
        guard let minimum = general.lengths.minimum, let maximum = general.lengths.maximum else {
            return .invalidLength
        }
        if localOnlyLengths.contains(length) { return .possibleLocalOnly }
        if length == minimum { return .possible }
        if length < minimum { return .tooShort }
        if length > maximum { return .tooLong }
        return general.lengths.contains(length) ? .possible : .invalidLength
    }
}

/// The metadata table, parsed and compiled once (on first use) from the generated text.
struct PhoneMetadata: Sendable {
    /// Territories by region code (`KE`); non-geographic entities are only in `byCountryCode`.
    let byRegion: [String: Territory]
    /// Territories by calling code (index 0...999), main country first (libphonenumber's order).
    private let byCountryCode: [[Territory]]

    /// Compiled from `generatedTable` the first time anything needs it (Swift globals and
    /// static lets are initialised lazily and thread-safely).
    static let shared: PhoneMetadata = {
        do {
            return try PhoneMetadata(table: generatedTable)
        } catch {
            // The table is generated and covered by tests; a broken one is a build defect.
            preconditionFailure("PhoneMetadata+Generated.swift is malformed: \(error)")
        }
    }()

    struct TableError: Error, CustomStringConvertible {
        var line: Int
        var message: String
        var description: String { "line \(line): \(message)" }
    }

    init(table: String) throws {
        var byRegion: [String: Territory] = [:]
        var byCountryCode = [[Territory]](repeating: [], count: 1000)
        for (index, line) in table.split(separator: "\n").enumerated() {
            let territory = try Self.territory(from: line, lineNumber: index + 1)
            guard (1...999).contains(territory.countryCode) else {
                throw TableError(line: index + 1, message: "country code out of range")
            }
            if territory.region != "001" { byRegion[territory.region] = territory }
            byCountryCode[territory.countryCode].append(territory)
        }
        self.byRegion = byRegion
        self.byCountryCode = byCountryCode
    }

    /// The territories sharing a calling code, main country first; empty for an unknown code.
    func territories(forCountryCode code: Int) -> [Territory] {
        (1...999).contains(code) ? byCountryCode[code] : []
    }

    /// The territory whose rules apply to numbers written with this calling code.
    func mainTerritory(forCountryCode code: Int) -> Territory? {
        let territories = territories(forCountryCode: code)
        return territories.first { $0.isMainCountry } ?? territories.first
    }

    /// The territory for an ISO 3166 region code, in any letter case.
    func territory(forRegion code: String) -> Territory? {
        byRegion[code] ?? byRegion[code.uppercased()]
    }

    private static func territory(from line: Substring, lineNumber: Int) throws -> Territory {
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        func fail(_ message: String) -> TableError { TableError(line: lineNumber, message: message) }
        guard fields.count >= 10, let code = Int(fields[1]) else { throw fail("expected at least 10 fields") }
        func optional(_ field: Substring) -> String? { field == "_" ? nil : String(field) }
        func lengths(_ field: Substring) throws -> LengthSet {
            guard let set = LengthSet(field) else { throw fail("bad lengths \(field)") }
            return set
        }

        var types: [NumberDescription] = []
        for item in fields[10...] {
            guard let equals = item.firstIndex(of: "=") else { throw fail("type without =") }
            types.append(NumberDescription(
                lengths: try lengths(item[..<equals]),
                pattern: try DigitPattern(String(item[item.index(after: equals)...]))))
        }
        return Territory(
            region: String(fields[0]),
            countryCode: code,
            isMainCountry: fields[2] == "1",
            internationalPrefix: try optional(fields[3]).map { try DigitPattern($0) },
            nationalPrefixForParsing: try optional(fields[4]).map { try DigitPattern($0, captures: true) },
            nationalPrefixTransform: try optional(fields[5]).map { try transform($0, fail: fail) },
            leadingDigits: try optional(fields[6]).map { try DigitPattern($0) },
            general: NumberDescription(lengths: try lengths(fields[7]), pattern: try DigitPattern(String(fields[9]))),
            localOnlyLengths: try lengths(fields[8]),
            types: types)
    }

    /// Parses a transform rule such as `268\1` or `\2`.
    private static func transform(_ rule: String, fail: (String) -> TableError) throws -> [TransformPiece] {
        var pieces: [TransformPiece] = []
        var literal: [UInt8] = []
        var bytes = rule.utf8.makeIterator()
        while let byte = bytes.next() {
            if byte == UInt8(ascii: "\\") {
                guard let next = bytes.next(), (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(next) else {
                    throw fail("bad group reference in \(rule)")
                }
                if !literal.isEmpty { pieces.append(.digits(literal)); literal = [] }
                pieces.append(.group(Int(next - UInt8(ascii: "1"))))
            } else if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                literal.append(byte - UInt8(ascii: "0"))
            } else {
                throw fail("unexpected character in transform rule \(rule)")
            }
        }
        if !literal.isEmpty { pieces.append(.digits(literal)) }
        return pieces
    }
}
