/// A single-pass reader for the common shape of `POST /messages`: `JSONDecoder` took 85-90 ms
/// of a 10,000-contact request's ~220 ms, more than validating the contacts.
///
/// It understands exactly what `MessagesRequest` accepts and gives the same result. On
/// anything else (a syntax error, a wrong type, a missing key, a lone surrogate) it returns nil
/// and the caller decodes with `JSONDecoder`, whose errors name the field: the fast path never
/// has to explain a bad request.
struct MessagesRequestParser {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    private init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) -> MessagesRequest? {
        var parser = MessagesRequestParser(bytes)
        guard let request = parser.request(), parser.atEnd() else { return nil }
        return request
    }

    private struct Malformed: Error {}

    private mutating func request() -> MessagesRequest? {
        var contacts: [MessagesRequest.Contact]?
        var message: String?
        var region: String??
        var phoneField: String??
        var keys: Set<String> = []
        do {
            try object { parser, key in
                guard keys.insert(key).inserted else { throw Malformed() }
                switch key {
                case "contacts": contacts = try parser.contactList()
                case "message": message = try parser.string()
                case "default_region": region = try parser.optionalString()
                case "phone_field": phoneField = try parser.optionalString()
                default: try parser.skipValue()
                }
            }
        } catch {
            return nil
        }
        guard let contacts, let message else { return nil }
        return MessagesRequest(contacts: contacts, message: message, defaultRegion: region ?? nil, phoneField: phoneField ?? nil)
    }

    private mutating func contactList() throws -> [MessagesRequest.Contact] {
        var contacts: [MessagesRequest.Contact] = []
        try expect(UInt8(ascii: "["))
        if try peek() == UInt8(ascii: "]") {
            index += 1
            return contacts
        }
        while true {
            contacts.append(try contact())
            if try separator(closing: UInt8(ascii: "]")) { return contacts }
        }
    }

    /// One contact, converted as `MessagesRequest.Contact.init(from:)` converts it. A name
    /// given twice (after trimming and lower-casing) goes to the slow path, which settles it.
    private mutating func contact() throws -> MessagesRequest.Contact {
        var contact = MessagesRequest.Contact()
        var names: [String] = []
        try object { parser, key in
            let name = key.trimmingWhitespace().lowercased()
            guard !names.contains(name) else { throw Malformed() }
            names.append(name)
            switch try parser.peek() {
            case UInt8(ascii: "\""):
                contact.values[name] = try parser.string().trimmingWhitespace()
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                if parser.literal("true") {
                    contact.values[name] = "true"
                } else if parser.literal("false") {
                    contact.values[name] = "false"
                } else if !parser.literal("null") {
                    throw Malformed()
                }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                try parser.skipValue()
                contact.unusable.append(name)
            default:
                contact.values[name] = try parser.number()
            }
        }
        return contact
    }

    // MARK: - JSON grammar

    /// Reads `{ "key": value, ... }`, handing each key to `member`, which must read its value.
    private mutating func object(_ member: (inout MessagesRequestParser, String) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if try peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            guard try peek() == UInt8(ascii: "\"") else { throw Malformed() }
            let key = try string()
            try expect(UInt8(ascii: ":"))
            try member(&self, key)
            if try separator(closing: UInt8(ascii: "}")) { return }
        }
    }

    /// After a member or element: true at the closing bracket, false after a comma.
    private mutating func separator(closing: UInt8) throws -> Bool {
        let byte = try peek()
        index += 1
        if byte == closing { return true }
        guard byte == UInt8(ascii: ",") else { throw Malformed() }
        return false
    }

    private mutating func optionalString() throws -> String? {
        if try peek() == UInt8(ascii: "n") {
            guard literal("null") else { throw Malformed() }
            return nil
        }
        return try string()
    }

    private mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        let start = index
        // Fast path: no escapes, so the text is the bytes between the quotes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                guard let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self) else { throw Malformed() }
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            index += 1
        }
        var utf8 = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: utf8, as: UTF8.self) else { throw Malformed() }
                return text
            case UInt8(ascii: "\\"):
                try escape(into: &utf8)
            case 0..<0x20:
                throw Malformed()
            default:
                utf8.append(byte)
            }
        }
        throw Malformed()
    }

    private mutating func escape(into utf8: inout [UInt8]) throws {
        guard index < bytes.count else { throw Malformed() }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                guard literal("\\u") else { throw Malformed() }
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw Malformed() }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw Malformed() }
            utf8.append(contentsOf: UTF8.encode(unicode)!)
        default:
            throw Malformed()
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw Malformed() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            index += 1
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Malformed()
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// A JSON number as the contact decoder writes it: an Int64 as itself, anything else as
    /// Swift prints the Double.
    private mutating func number() throws -> String {
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard try digits(leadingZeroAllowed: false) else { throw Malformed() }
        var integral = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            integral = false
            guard try digits(leadingZeroAllowed: true) else { throw Malformed() }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            integral = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard try digits(leadingZeroAllowed: true) else { throw Malformed() }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if integral, let value = Int64(text) { return String(value) }
        // The decoder's Double route. A whole value written with a fraction or an exponent
        // (1.0, 1e3) may still decode as an Int64 there, so it is left to the decoder; what
        // remains is fractional or beyond Int64, printed as the Double.
        guard let value = Double(text), value.isFinite else { throw Malformed() }
        if !integral, value.rounded() == value { throw Malformed() }
        return String(value)
    }

    private mutating func digits(leadingZeroAllowed: Bool) throws -> Bool {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        if !leadingZeroAllowed, index - start > 1, bytes[start] == UInt8(ascii: "0") { throw Malformed() }
        return index > start
    }

    /// Containers being skipped, bounded so hostile nesting cannot exhaust the stack: deep
    /// input goes to `JSONDecoder`, which refuses it with an error.
    private var depth = 0
    private static let maxDepth = 64

    private mutating func skipValue() throws {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw Malformed() }
        switch try peek() {
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "{"): try object { parser, _ in try parser.skipValue() }
        case UInt8(ascii: "["):
            index += 1
            if try peek() == UInt8(ascii: "]") {
                index += 1
                return
            }
            repeat { try skipValue() } while !(try separator(closing: UInt8(ascii: "]")))
        case UInt8(ascii: "t"): guard literal("true") else { throw Malformed() }
        case UInt8(ascii: "f"): guard literal("false") else { throw Malformed() }
        case UInt8(ascii: "n"): guard literal("null") else { throw Malformed() }
        default: _ = try number()
        }
    }

    /// Consumes `word` if the input continues with it.
    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
        index += count
        return true
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard try peek() == byte else { throw Malformed() }
        index += 1
    }

    /// The next byte that is not JSON whitespace, without consuming it.
    private mutating func peek() throws -> UInt8 {
        skipWhitespace()
        guard index < bytes.count else { throw Malformed() }
        return bytes[index]
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func atEnd() -> Bool {
        skipWhitespace()
        return index == bytes.count
    }
}
