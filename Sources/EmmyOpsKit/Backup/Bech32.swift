/// Bech32 (BIP 173, not Bech32m): the encoding of age's `age1…` recipients and
/// `AGE-SECRET-KEY-1…` identities. Without age's 90-character limit, which only BIP 173 has.
enum Bech32 {
    /// The 32 key bytes of an `age1…` recipient. Needs no cryptography (any 32 bytes are an
    /// X25519 public key), so the spec checks recipients with it.
    static func ageRecipientKey(_ text: String) throws -> [UInt8] {
        let (hrp, data) = try decode(text)
        guard hrp == "age" else { throw BackupError.badKey("expected an `age1…` recipient, found the prefix `\(hrp)1`") }
        guard data.count == 32 else { throw BackupError.badKey("a recipient holds 32 bytes, this one \(data.count)") }
        return data
    }

    private static let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    private static let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]

    /// The human-readable part (lowercased) and the 8-bit data of `text`.
    static func decode(_ text: String) throws -> (hrp: String, data: [UInt8]) {
        let lower = text.lowercased()
        guard lower == text || text.uppercased() == text else { throw BackupError.badKey("mixed case") }
        let bytes = Array(lower.utf8)
        guard let separator = bytes.lastIndex(of: UInt8(ascii: "1")), separator > 0, bytes.count - separator - 1 >= 6 else {
            throw BackupError.badKey("no bech32 separator")
        }
        let hrp = Array(bytes[..<separator])
        var values: [UInt8] = []
        for byte in bytes[(separator + 1)...] {
            guard let index = alphabet.firstIndex(of: byte) else { throw BackupError.badKey("character `\(Character(UnicodeScalar(byte)))` outside bech32") }
            values.append(UInt8(index))
        }
        guard polymod(expand(hrp) + values) == 1 else { throw BackupError.badKey("bad checksum") }
        let data = try convert(Array(values.dropLast(6)), from: 5, to: 8, pad: false)
        return (String(decoding: hrp, as: UTF8.self), data)
    }

    /// `hrp` + "1" + data + checksum, lowercase.
    static func encode(hrp: String, data: [UInt8]) -> String {
        let hrpBytes = Array(hrp.lowercased().utf8)
        // Converting 8-bit data to 5-bit groups with padding cannot fail.
        let values = (try? convert(data, from: 8, to: 5, pad: true)) ?? []
        let check = polymod(expand(hrpBytes) + values + [0, 0, 0, 0, 0, 0]) ^ 1
        let checksum = (0..<6).map { UInt8((check >> (5 * (5 - UInt32($0)))) & 31) }
        return String(decoding: hrpBytes + [UInt8(ascii: "1")] + (values + checksum).map { alphabet[Int($0)] }, as: UTF8.self)
    }

    private static func polymod(_ values: [UInt8]) -> UInt32 {
        var chk: UInt32 = 1
        for value in values {
            let top = chk >> 25
            chk = (chk & 0x1ff_ffff) << 5 ^ UInt32(value)
            for i in 0..<5 where (top >> UInt32(i)) & 1 == 1 { chk ^= generator[i] }
        }
        return chk
    }

    private static func expand(_ hrp: [UInt8]) -> [UInt8] {
        hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
    }

    private static func convert(_ data: [UInt8], from: Int, to: Int, pad: Bool) throws -> [UInt8] {
        var accumulator = 0, bits = 0
        var out: [UInt8] = []
        let maxValue = (1 << to) - 1
        for value in data {
            accumulator = (accumulator << from) | Int(value)
            bits += from
            while bits >= to {
                bits -= to
                out.append(UInt8((accumulator >> bits) & maxValue))
            }
        }
        if pad {
            if bits > 0 { out.append(UInt8((accumulator << (to - bits)) & maxValue)) }
        } else if bits >= from || (accumulator << (to - bits)) & maxValue != 0 {
            throw BackupError.badKey("bad bech32 padding")
        }
        return out
    }
}
