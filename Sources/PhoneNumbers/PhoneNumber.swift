/// A valid phone number, normalised.
public struct PhoneNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `+` country code national-number, e.g. `+254712345678`.
    public var e164: String
    /// The calling code, e.g. 254.
    public var countryCode: Int
    /// The national significant number (no national prefix), e.g. `712345678`.
    public var nationalNumber: String
    /// The ISO 3166 region the number belongs to (`KE`), or `001` for a non-geographic code.
    public var region: String
    /// Extension digits written after the number (`ext. 12`), not part of `e164`.
    public var phoneExtension: String?

    public init(countryCode: Int, nationalNumber: String, region: String, phoneExtension: String? = nil) {
        self.e164 = "+\(countryCode)\(nationalNumber)"
        self.countryCode = countryCode
        self.nationalNumber = nationalNumber
        self.region = region
        self.phoneExtension = phoneExtension
    }

    /// Builds the strings straight from digit values (the parser's hot path): the ASCII is
    /// written into one stack buffer and each string is made from a slice of it, with no
    /// intermediate array and no generic decoding of a lazy sequence.
    init(countryCode: Int, nationalDigits: UnsafeBufferPointer<UInt8>, region: String, extensionDigits: [UInt8]) {
        // Room for `+` and any Int's digits (a calling code has at most 3).
        let (e164, national) = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 21 + nationalDigits.count) { ascii in
            var code = countryCode, codeDigits = 0
            repeat { codeDigits += 1; code /= 10 } while code > 0
            ascii[0] = UInt8(ascii: "+")
            code = countryCode
            for index in stride(from: codeDigits, to: 0, by: -1) {
                ascii[index] = UInt8(ascii: "0") + UInt8(code % 10)
                code /= 10
            }
            let start = 1 + codeDigits
            for (offset, digit) in nationalDigits.enumerated() { ascii[start + offset] = digit + UInt8(ascii: "0") }
            let end = start + nationalDigits.count
            return (String(decoding: UnsafeBufferPointer(rebasing: ascii[..<end]), as: UTF8.self),
                    String(decoding: UnsafeBufferPointer(rebasing: ascii[start..<end]), as: UTF8.self))
        }
        self.e164 = e164
        self.countryCode = countryCode
        self.nationalNumber = national
        self.region = region
        self.phoneExtension = extensionDigits.isEmpty
            ? nil : String(decoding: extensionDigits.lazy.map { $0 + UInt8(ascii: "0") }, as: UTF8.self)
    }

    public var description: String { e164 }
}

/// Why text is not a valid phone number.
public enum PhoneNumberError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Nothing but whitespace.
    case empty
    /// Letters, too few digits or stray symbols: not a phone number at all.
    case notANumber
    /// The calling code is unknown, or there is no `+` and no (known) default region.
    case invalidCountryCode
    /// Fewer digits than any number of the region.
    case tooShort
    /// More digits than any number of the region.
    case tooLong
    /// A possible length, but no number type of the region has numbers like it.
    case invalidForRegion

    /// A short reason fit for an import report.
    public var reason: String {
        switch self {
        case .empty: "empty"
        case .notANumber: "not a phone number"
        case .invalidCountryCode: "unknown country code"
        case .tooShort: "too short"
        case .tooLong: "too long"
        case .invalidForRegion: "not a valid number for its country"
        }
    }

    public var description: String { reason }
}

/// Parses, normalises and validates phone numbers with libphonenumber's rules and metadata.
///
/// Numbers starting with `+` (or the default region's international prefix) carry their own
/// country code; others are read as national numbers of the default region, after stripping its
/// national prefix (`0712345678` in KE is `+254712345678`). A number is valid when some number
/// type (fixed line, mobile, toll free, …) of its region matches it, as libphonenumber's
/// `is_valid_number` decides. Cheap and thread-safe: the metadata is compiled once, on first use.
public struct PhoneNumberParser: Sendable {
    /// The ISO 3166 alpha-2 region for numbers written without a country code.
    public var defaultRegion: String

    public init(defaultRegion: String) {
        self.defaultRegion = defaultRegion
    }

    /// Parses `text`; `region` overrides `defaultRegion` for this call.
    public func parse(_ text: String, region: String? = nil) throws(PhoneNumberError) -> PhoneNumber {
        try validate(text, region: region).get()
    }

    /// Like `parse`, without throwing: the cheaper call for bulk validation, where rejects are common.
    public func validate(_ text: String, region: String? = nil) -> Result<PhoneNumber, PhoneNumberError> {
        PhoneNumberParser.parse(text, region: region ?? defaultRegion, metadata: .shared)
    }

    /// Whether `text` is a valid number.
    public func isValid(_ text: String, region: String? = nil) -> Bool {
        if case .success = validate(text, region: region) { return true }
        return false
    }

    /// The regions the metadata knows, for validating configuration.
    public static var supportedRegions: Set<String> { Set(PhoneMetadata.shared.byRegion.keys) }

    /// The `phonenumbers` release the metadata was generated from.
    public static var metadataVersion: String { PhoneMetadata.generatedVersion }

    static func parse(_ text: String, region regionCode: String, metadata: PhoneMetadata) -> Result<PhoneNumber, PhoneNumberError> {
        let input: PhoneInput
        switch PhoneInput.scan(text) {
        case .success(let scanned): input = scanned
        case .failure(let error): return .failure(error)
        }
        let defaultTerritory = metadata.territory(forRegion: regionCode)
        if !input.hasPlus && defaultTerritory == nil { return .failure(.invalidCountryCode) }

        let countryCode: Int
        let nsn: ArraySlice<UInt8>
        switch nationalSignificantNumber(input, defaultTerritory: defaultTerritory, metadata: metadata) {
        case .success(let (code, number)): (countryCode, nsn) = (code, number)
        case .failure(let error): return .failure(error)
        }
        return nsn.withUnsafeBufferPointer { digits in
            guard let territory = territory(for: countryCode, nsn: digits, metadata: metadata), territory.isValid(digits) else {
                switch metadata.mainTerritory(forCountryCode: countryCode)?.checkLength(digits.count) {
                case .tooShort?: return .failure(.tooShort)
                case .tooLong?: return .failure(.tooLong)
                default: return .failure(.invalidForRegion)
                }
            }
            return .success(PhoneNumber(
                countryCode: countryCode, nationalDigits: digits, region: territory.region,
                extensionDigits: input.extensionDigits))
        }
    }

    /// libphonenumber's `parse` after the lexical step: finds the country code and strips the
    /// international and national prefixes.
    private static func nationalSignificantNumber(
        _ input: PhoneInput, defaultTerritory: Territory?, metadata: PhoneMetadata
    ) -> Result<(Int, ArraySlice<UInt8>), PhoneNumberError> {
        var extracted = extractCountryCode(input.digits[...], hasPlus: input.hasPlus, defaultTerritory: defaultTerritory, metadata: metadata)
        if case .failure(.invalidCountryCode) = extracted, input.hasPlus {
            // libphonenumber retries without the plus sign (`+000254…` from KE is `000254…`).
            extracted = extractCountryCode(input.digits[...], hasPlus: false, defaultTerritory: defaultTerritory, metadata: metadata)
            if case .success(nil) = extracted { return .failure(.invalidCountryCode) }
        }

        var countryCode: Int
        var national: ArraySlice<UInt8>
        let rules: Territory?
        switch extracted {
        case .failure(let error):
            return .failure(error)
        case .success(let (code, rest)?):
            countryCode = code
            national = rest
            rules = metadata.mainTerritory(forCountryCode: code)
        case .success(nil):
            guard let defaultTerritory else { return .failure(.invalidCountryCode) }
            countryCode = defaultTerritory.countryCode
            national = input.digits[...]
            rules = defaultTerritory
        }
        if national.count < 2 { return .failure(.tooShort) }
        if let rules {
            // Keep the national prefix when what is left would be too short to be a number.
            let stripped = stripNationalPrefix(national, territory: rules)
            switch rules.checkLength(stripped.count) {
            case .tooShort, .possibleLocalOnly, .invalidLength: break
            case .possible, .tooLong: national = stripped
            }
        }
        if national.count < 2 { return .failure(.tooShort) }
        if national.count > 17 { return .failure(.tooLong) }
        return .success((countryCode, national))
    }

    /// The country code and the rest, when the number has one (after `+`, the default
    /// region's international prefix, or the default region's own code written without `+`);
    /// nil for a national number.
    private static func extractCountryCode(
        _ digits: ArraySlice<UInt8>, hasPlus: Bool, defaultTerritory: Territory?, metadata: PhoneMetadata
    ) -> Result<(Int, ArraySlice<UInt8>)?, PhoneNumberError> {
        var number = digits
        var international = hasPlus
        if !hasPlus, let idd = defaultTerritory?.internationalPrefix,
           let length = digits.withUnsafeBufferPointer({ idd.prefixMatch($0) }) {
            // After an international prefix a country code follows, and none starts with 0.
            let rest = digits.dropFirst(length)
            if rest.first != 0 {
                number = rest
                international = true
            }
        }
        if international {
            if number.count <= 2 { return .failure(.tooShort) }
            guard number.first != 0 else { return .failure(.invalidCountryCode) }
            var code = 0
            for length in 1...3 {
                code = code * 10 + Int(number[number.startIndex + length - 1])
                if !metadata.territories(forCountryCode: code).isEmpty {
                    return .success((code, number.dropFirst(length)))
                }
            }
            return .failure(.invalidCountryCode)
        }

        guard let territory = defaultTerritory, digits.starts(with: territory.countryCodeDigits) else {
            return .success(nil)
        }
        let potential = stripNationalPrefix(digits.dropFirst(territory.countryCodeDigits.count), territory: territory)
        let general = territory.general.pattern
        let wholeMatches = digits.withUnsafeBufferPointer { general.matchesWhole($0) }
        let restMatches = potential.withUnsafeBufferPointer { general.matchesWhole($0) }
        if (!wholeMatches && restMatches) || territory.checkLength(digits.count) == .tooLong {
            return .success((territory.countryCode, potential))
        }
        return .success(nil)
    }

    /// libphonenumber's `_maybe_strip_national_prefix_carrier_code` (the carrier code is dropped).
    static func stripNationalPrefix(_ number: ArraySlice<UInt8>, territory: Territory) -> ArraySlice<UInt8> {
        guard !number.isEmpty, let prefix = territory.nationalPrefixForParsing else { return number }
        let slots = 2 * prefix.groupCount
        return number.withUnsafeBufferPointer { digits in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: max(slots, 1)) { storage in
                let captures = UnsafeMutableBufferPointer(rebasing: storage[..<slots])
                guard let end = prefix.prefixMatch(digits, captures: captures) else { return number }
                let general = territory.general.pattern
                let viableBefore = general.matchesWhole(digits)
                let lastGroupMatched = slots > 0 && captures[slots - 2] >= 0
                let result: ArraySlice<UInt8>
                if let transform = territory.nationalPrefixTransform, lastGroupMatched {
                    var transformed: [UInt8] = []
                    for piece in transform {
                        switch piece {
                        case .digits(let literal): transformed += literal
                        case .group(let group) where 2 * group + 1 < slots && captures[2 * group] >= 0:
                            transformed += digits[captures[2 * group]..<captures[2 * group + 1]]
                        case .group: break
                        }
                    }
                    transformed += digits[end...]
                    result = transformed[...]
                } else {
                    result = number.dropFirst(end)
                }
                if viableBefore && !result.withUnsafeBufferPointer({ general.matchesWhole($0) }) {
                    return number
                }
                return result
            }
        }
    }

    /// libphonenumber's `region_code_for_number`: for a shared calling code, the first region
    /// whose leading digits match, or (for regions without any) that has numbers like it.
    private static func territory(for countryCode: Int, nsn: UnsafeBufferPointer<UInt8>, metadata: PhoneMetadata) -> Territory? {
        let territories = metadata.territories(forCountryCode: countryCode)
        if territories.count == 1 { return territories[0] }
        for territory in territories {
            if let leading = territory.leadingDigits {
                if leading.prefixMatch(nsn) != nil { return territory }
            } else if territory.isValid(nsn) {
                return territory
            }
        }
        return nil
    }
}
