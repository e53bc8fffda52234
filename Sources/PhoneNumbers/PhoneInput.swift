/// The digits of a phone number as typed, with whether it started with `+` and any extension.
///
/// Follows libphonenumber's lexical rules: text before the first `+` or digit and trailing
/// symbols are dropped, the usual punctuation (spaces, dashes, dots, slashes, brackets, their
/// full-width forms) is ignored, any Unicode decimal digit counts, and an extension
/// (`ext. 12`, `x12`, `;ext=12`, `#12`) is split off. Unlike libphonenumber, letters anywhere
/// else make the input "not a number" instead of being dropped or read as keypad digits
/// (`1-800-FLOWERS`): a bulk sender should not guess.
struct PhoneInput: Equatable {
    var hasPlus: Bool
    /// Digit values 0...9.
    var digits: [UInt8]
    var extensionDigits: [UInt8]

    /// libphonenumber's `_MAX_INPUT_STRING_LENGTH`.
    static let maximumInputLength = 250

    /// Scans `text` without throwing (errors are common in bulk input and throwing is not free).
    static func scan(_ text: String) -> Result<PhoneInput, PhoneNumberError> {
        withUnsafeTemporaryAllocation(of: Unicode.Scalar.self, capacity: maximumInputLength) { buffer in
            var count = 0
            for scalar in text.unicodeScalars {
                guard count < maximumInputLength else { return .failure(.tooLong) }
                (buffer.baseAddress! + count).initialize(to: scalar)
                count += 1
            }
            return scan(UnsafeBufferPointer(rebasing: buffer[..<count]))
        }
    }

    private static func scan(_ scalars: UnsafeBufferPointer<Unicode.Scalar>) -> Result<PhoneInput, PhoneNumberError> {
        guard scalars.contains(where: { !isWhitespace($0) }) else { return .failure(.empty) }
        // Start at the first plus sign or digit; only non-letters may come before it.
        guard let start = scalars.firstIndex(where: { isPlus($0) || digitValue($0) != nil }) else {
            return .failure(.notANumber)
        }
        if scalars[..<start].contains(where: isLetter) { return .failure(.notANumber) }
        // Drop trailing characters that are neither letters, digits nor `#`.
        var end = scalars.count
        while end > start, !isLetter(scalars[end - 1]), digitValue(scalars[end - 1]) == nil, !isHash(scalars[end - 1]) {
            end -= 1
        }
        var body = UnsafeBufferPointer(rebasing: scalars[start..<end])
        var extensionDigits: [UInt8] = []
        if let (bodyEnd, digits) = splitExtension(body) {
            body = UnsafeBufferPointer(rebasing: body[..<bodyEnd])
            extensionDigits = digits
        }
        guard let (hasPlus, digits) = viableDigits(body) else { return .failure(.notANumber) }
        return .success(PhoneInput(hasPlus: hasPlus, digits: digits, extensionDigits: extensionDigits))
    }

    /// libphonenumber's `_is_viable_phone_number` without letters: optional leading plus signs,
    /// then digits and punctuation with at least three digits; or exactly two digits.
    private static func viableDigits(_ scalars: UnsafeBufferPointer<Unicode.Scalar>) -> (Bool, [UInt8])? {
        var index = 0
        while index < scalars.count, isPlus(scalars[index]) { index += 1 }
        let hasPlus = index > 0
        var digits: [UInt8] = []
        digits.reserveCapacity(scalars.count - index)
        var onlyDigits = !hasPlus
        for scalar in scalars[index...] {
            if let value = digitValue(scalar) {
                digits.append(value)
            } else if isPunctuation(scalar) {
                onlyDigits = false
            } else {
                return nil
            }
        }
        guard digits.count >= 3 || (digits.count == 2 && onlyDigits) else { return nil }
        return (hasPlus, digits)
    }

    /// Finds an extension at the end of `scalars`; returns where the number before it ends.
    private static func splitExtension(_ scalars: UnsafeBufferPointer<Unicode.Scalar>) -> (Int, [UInt8])? {
        var index = scalars.count
        let endsWithHash = index > 0 && isHash(scalars[index - 1])
        if endsWithHash { index -= 1 }
        let digitsEnd = index
        while index > 0, digitValue(scalars[index - 1]) != nil { index -= 1 }
        let digitCount = digitsEnd - index
        guard digitCount > 0, index > 0 else { return nil }

        func accept(_ bodyEnd: Int) -> (Int, [UInt8])? {
            guard viableDigits(UnsafeBufferPointer(rebasing: scalars[..<bodyEnd])) != nil else { return nil }
            return (bodyEnd, scalars[index..<digitsEnd].compactMap(digitValue))
        }
        func matches(_ label: [Unicode.Scalar], endingAt labelEnd: Int) -> Bool {
            guard labelEnd >= label.count else { return false }
            return zip(scalars[(labelEnd - label.count)..<labelEnd], label).allSatisfy { lowercased($0) == $1 }
        }

        // RFC 3966 `;ext=123`.
        if scalars[index - 1] == "=", digitCount <= 20, matches(rfcLabel, endingAt: index) {
            return accept(index - rfcLabel.count)
        }
        // A label, an optional `:`/`.`, then spaces, tabs, commas or dashes before the digits.
        var labelEnd = index
        while labelEnd > 0, isSpace(scalars[labelEnd - 1]) || scalars[labelEnd - 1] == "," || scalars[labelEnd - 1] == "-" {
            labelEnd -= 1
        }
        let separatorsStart = labelEnd
        if labelEnd > 0, scalars[labelEnd - 1] == ":" || scalars[labelEnd - 1] == "." || scalars[labelEnd - 1] == "\u{FF0E}" {
            labelEnd -= 1
        }
        if labelEnd > 0, isLetter(scalars[labelEnd - 1]) || labelSymbols.contains(scalars[labelEnd - 1].value) {
            for (label, limit) in labels where digitCount <= limit && matches(label, endingAt: labelEnd) {
                var bodyEnd = labelEnd - label.count
                while bodyEnd > 0, isSpace(scalars[bodyEnd - 1]) || scalars[bodyEnd - 1] == "," { bodyEnd -= 1 }
                if let found = accept(bodyEnd) { return found }
            }
        }
        // Auto-dialling commas: `,,123` (up to 15 digits), `,123` (up to 9).
        let gap = scalars[separatorsStart..<index]
        if gap.contains(",") {
            let limit = gap.lazy.filter { $0 == "," }.count >= 2 ? 15 : 9
            var bodyEnd = separatorsStart
            while bodyEnd > 0, isSpace(scalars[bodyEnd - 1]) { bodyEnd -= 1 }
            if digitCount <= limit, let found = accept(bodyEnd) { return found }
        }
        // American style `- 123#`.
        if endsWithHash, digitCount <= 6, scalars[index - 1] == " " || scalars[index - 1] == "-" {
            var bodyEnd = index
            while bodyEnd > 0, scalars[bodyEnd - 1] == " " || scalars[bodyEnd - 1] == "-" { bodyEnd -= 1 }
            if let found = accept(bodyEnd) { return found }
        }
        return nil
    }

    private static let rfcLabel = Array(";ext=".unicodeScalars)
    /// Last characters of the non-letter labels below.
    private static let labelSymbols: Set<UInt32> = [0x23, 0xFF03, 0x7E, 0xFF5E, 0x3B]

    /// Extension labels (lower case) with the most digits libphonenumber accepts after each.
    private static let labels: [([Unicode.Scalar], Int)] = [
        ("extension", 20), ("extensión", 20), ("extn", 20), ("ext", 20), ("xtn", 20), ("xt", 20),
        ("ｅｘｔｎ", 20), ("ｅｘｔ", 20), ("ｘｔｎ", 20), ("ｘｔ", 20), ("anexo", 20), ("доб", 20),
        (";", 15), ("int", 9), ("ｉｎｔ", 9), ("x", 9), ("ｘ", 9), ("#", 9), ("＃", 9), ("~", 9), ("～", 9),
    ].map { (Array($0.0.unicodeScalars), $0.1) }

    private static func lowercased(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        if scalar.isASCII {
            return (0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(UInt8(scalar.value) + 32) : scalar
        }
        return scalar.properties.lowercaseMapping.unicodeScalars.first ?? scalar
    }

    static func digitValue(_ scalar: Unicode.Scalar) -> UInt8? {
        if scalar.value >= 0x30 && scalar.value <= 0x39 { return UInt8(scalar.value - 0x30) }
        guard scalar.value > 0x7F, scalar.properties.numericType == .decimal,
              let value = scalar.properties.numericValue else { return nil }
        return UInt8(value)
    }

    private static func isPlus(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "+" || scalar == "\u{FF0B}"
    }

    private static func isHash(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "#" || scalar == "\u{FF03}"
    }

    /// The separators libphonenumber allows around an extension label.
    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\u{A0}"
    }

    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar == " " || (0x09...0x0D).contains(scalar.value) }
        return scalar.properties.isWhitespace
    }

    private static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value | 0x20
            return v >= 0x61 && v <= 0x7A
        }
        return scalar.properties.isAlphabetic
    }

    /// libphonenumber's `_VALID_PUNCTUATION` (minus the letter `x`) plus `*`.
    private static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20, 0x28, 0x29, 0x2A, 0x2D, 0x2E, 0x2F, 0x5B, 0x5D, 0x7E: true
        case 0xA0, 0xAD, 0x200B, 0x2060, 0x3000, 0x2053, 0x223C, 0x2212, 0x30FC: true
        case 0x2010...0x2015, 0xFF0D...0xFF0F, 0xFF08, 0xFF09, 0xFF3B, 0xFF3D, 0xFF5E: true
        default: false
        }
    }
}
