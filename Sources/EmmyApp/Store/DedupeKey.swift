/// The (number, text) pair a message is deduplicated on, folded into one 64-bit value for the
/// `message_dedupe_key` index. Two different pairs may share a value (about one in 2^64), so a
/// match found through the index is confirmed against the stored phone and body hash.
public struct DedupeKey: Hashable, Sendable {
    public var phone: String
    public var bodyHash: Int64

    public init(phone: String, bodyHash: Int64) {
        self.phone = phone
        self.bodyHash = bodyHash
    }

    /// Stable across processes (stored keys stay comparable after a restart): the E.164 digits
    /// and the FNV-1a body hash, mixed by the splitmix64 finaliser.
    public var value: Int64 {
        var x = UInt64(bitPattern: Self.digits(phone)) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: bodyHash)
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int64(bitPattern: x ^ (x >> 31))
    }

    /// E.164 digits fit an Int64 (at most 15 digits); anything else falls back to an FNV-1a hash.
    static func digits(_ e164: String) -> Int64 {
        if let value = Int64(e164.dropFirst()) { return value }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in e164.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return Int64(bitPattern: hash)
    }
}
