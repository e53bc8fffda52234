/// The (number, text) pair a message is deduplicated on, folded into one 64-bit value for the
/// `message_dedupe_key` index. Two different pairs may share a value (about one in 2^64), so a
/// match found through the index is confirmed against the stored phone and body hash.
public struct DedupeKey: Hashable, Sendable {
    public let phone: String
    public let bodyHash: Int64
    /// Computed once: ingest needs it for the lookup, the insert and the set of seen keys.
    public let value: Int64

    public init(phone: String, bodyHash: Int64) {
        self.phone = phone
        self.bodyHash = bodyHash
        self.value = Self.fold(phone: phone, bodyHash: bodyHash)
    }

    /// Equal pairs have equal values, so hashing the value alone is consistent with `==`
    /// (and cheaper than hashing the phone's text).
    public static func == (lhs: DedupeKey, rhs: DedupeKey) -> Bool {
        lhs.value == rhs.value && lhs.bodyHash == rhs.bodyHash && lhs.phone == rhs.phone
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(value)
    }

    /// Stable across processes (stored keys stay comparable after a restart): the E.164 digits
    /// and the FNV-1a body hash, mixed by the splitmix64 finaliser.
    static func fold(phone: String, bodyHash: Int64) -> Int64 {
        var x = UInt64(bitPattern: Self.digits(phone)) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: bodyHash)
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int64(bitPattern: x ^ (x >> 31))
    }

    /// E.164 digits fit an Int64 (at most 15 digits); anything else falls back to an FNV-1a hash.
    static func digits(_ e164: String) -> Int64 {
        if let value = plainDigits(e164) { return value }
        if let value = Int64(e164.dropFirst()) { return value }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in e164.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return Int64(bitPattern: hash)
    }

    /// The common case of `Int64(e164.dropFirst())` without the generic parse: one leading
    /// byte, then 1 to 18 ASCII digits (which cannot overflow). Nil for anything else, which
    /// the general parse then decides.
    private static func plainDigits(_ e164: String) -> Int64? {
        var e164 = e164
        return e164.withUTF8 { bytes -> Int64? in
            guard bytes.count >= 2, bytes.count <= 19, bytes[0] < 0x80 else { return nil }
            var value: Int64 = 0
            for byte in bytes[1...] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
    }
}
