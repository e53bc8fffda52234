import Crypto
import Foundation

// The age v1 file format (age-encryption.org/v1) with X25519 recipients, streamed: a header
// that wraps a random 16-byte file key for each recipient and is authenticated with HMAC, then
// a 16-byte nonce and the payload in 64 KiB ChaCha20-Poly1305 chunks (STREAM). Files written here
// decrypt with `age -d -i identity.txt`; files `age -r age1…` wrote decrypt here.

/// An age X25519 public key, `age1…`.
public struct AgeRecipient: Sendable, Hashable {
    /// The raw 32-byte key (swift-crypto's key types are not Sendable).
    let raw: [UInt8]
    public let text: String
    var publicKey: Curve25519.KeyAgreement.PublicKey {
        // Validated in init, so this cannot fail.
        try! Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw)
    }

    public init(_ text: String) throws {
        let data = try Bech32.ageRecipientKey(text)
        _ = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: data)
        raw = data
        self.text = text.lowercased()
    }

    public static func == (a: AgeRecipient, b: AgeRecipient) -> Bool { a.text == b.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }
}

/// An age X25519 private key, `AGE-SECRET-KEY-1…`, as `age-keygen` writes it.
public struct AgeIdentity: Sendable {
    /// The raw 32-byte scalar (swift-crypto's key types are not Sendable).
    private let raw: [UInt8]
    var privateKey: Curve25519.KeyAgreement.PrivateKey {
        // Validated in init, so this cannot fail.
        try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw)
    }

    public init(_ text: String) throws {
        let (hrp, data) = try Bech32.decode(text)
        guard hrp == "age-secret-key-", data.count == 32 else { throw BackupError.badKey("expected an `AGE-SECRET-KEY-1…` identity") }
        _ = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: data)
        raw = data
    }

    /// A new random identity.
    public init() { raw = Array(Curve25519.KeyAgreement.PrivateKey().rawRepresentation) }

    /// Every identity of an identity file (comments and blank lines skipped).
    public static func parseFile(_ text: String) throws -> [AgeIdentity] {
        let identities = try text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
            .map(AgeIdentity.init)
        guard !identities.isEmpty else { throw BackupError.badKey("the identity file holds no AGE-SECRET-KEY-1 line") }
        return identities
    }

    public var recipient: String { Bech32.encode(hrp: "age", data: Array(privateKey.publicKey.rawRepresentation)) }
    /// The identity as age-keygen prints it (uppercase).
    public var text: String { Bech32.encode(hrp: "age-secret-key-", data: Array(privateKey.rawRepresentation)).uppercased() }
}

enum Age {
    static let version = "age-encryption.org/v1"
    static let chunkSize = 64 * 1024
    static let tagSize = 16
    static let x25519Label = "age-encryption.org/v1/X25519"

    static func hkdf(_ key: some DataProtocol, salt: some DataProtocol, info: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Array(key)), salt: salt, info: Data(info.utf8), outputByteCount: 32)
    }

    /// The STREAM nonce: an 11-byte big-endian counter, then 1 on the last chunk.
    static func nonce(_ counter: UInt64, last: Bool) throws -> ChaChaPoly.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        for i in 0..<8 { bytes[10 - i] = UInt8((counter >> (8 * UInt64(i))) & 0xff) }
        bytes[11] = last ? 1 : 0
        return try ChaChaPoly.Nonce(data: bytes)
    }

    static func base64(_ bytes: some DataProtocol) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// age's unpadded, canonical base64.
    static func unbase64(_ text: some StringProtocol) throws -> [UInt8] {
        guard !text.contains("=") else { throw BackupError.notAgeFile("padded base64") }
        var padded = String(text)
        while padded.count % 4 != 0 { padded += "=" }
        guard let data = Data(base64Encoded: padded), base64(data) == text else { throw BackupError.notAgeFile("bad base64") }
        return Array(data)
    }
}

/// Encrypts to age v1 as bytes arrive and passes the ciphertext on.
final class AgeEncryptor: ByteSink {
    private let next: any ByteSink
    private let payloadKey: SymmetricKey
    private var buffer: [UInt8] = []
    private var counter: UInt64 = 0

    init(recipients: [AgeRecipient], next: any ByteSink) throws {
        guard !recipients.isEmpty else { throw BackupError.configuration("no age recipients to encrypt to (backup.recipients)") }
        self.next = next
        let fileKey = SymmetricKey(size: .init(bitCount: 128)).withUnsafeBytes { Array($0) }
        var header = Age.version + "\n"
        for recipient in recipients {
            let ephemeral = Curve25519.KeyAgreement.PrivateKey()
            let share = Array(ephemeral.publicKey.rawRepresentation)
            let shared = try ephemeral.sharedSecretFromKeyAgreement(with: recipient.publicKey).withUnsafeBytes { Array($0) }
            let wrapKey = Age.hkdf(shared, salt: share + Array(recipient.publicKey.rawRepresentation), info: Age.x25519Label)
            let sealed = try ChaChaPoly.seal(fileKey, using: wrapKey, nonce: ChaChaPoly.Nonce(data: [UInt8](repeating: 0, count: 12)))
            header += "-> X25519 \(Age.base64(share))\n\(Age.base64(sealed.ciphertext + sealed.tag))\n"
        }
        header += "---"
        let mac = HMAC<SHA256>.authenticationCode(for: Data(header.utf8), using: Age.hkdf(fileKey, salt: [UInt8](), info: "header"))
        header += " \(Age.base64(Data(mac)))\n"
        let payloadNonce = SymmetricKey(size: .init(bitCount: 128)).withUnsafeBytes { Array($0) }
        payloadKey = Age.hkdf(fileKey, salt: payloadNonce, info: "payload")
        try next.write(ArraySlice(Array(header.utf8) + payloadNonce))
        buffer.reserveCapacity(2 * Age.chunkSize)
    }

    func write(_ bytes: ArraySlice<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        // A full chunk is sealed only once more data follows it: the last chunk carries a flag.
        while buffer.count > Age.chunkSize {
            try seal(buffer[..<Age.chunkSize], last: false)
            buffer.removeFirst(Age.chunkSize)
        }
    }

    func finish() throws {
        try seal(buffer[...], last: true)
        buffer = []
        try next.finish()
    }

    private func seal(_ chunk: ArraySlice<UInt8>, last: Bool) throws {
        let box = try ChaChaPoly.seal(chunk, using: payloadKey, nonce: Age.nonce(counter, last: last))
        counter += 1
        try next.write(ArraySlice(Array(box.ciphertext) + Array(box.tag)))
    }
}

/// Decrypts age v1 as bytes arrive: parses the header, then opens each chunk and passes the
/// plaintext on. Truncation, reordering and any flipped bit fail authentication.
final class AgeDecryptor: ByteSink {
    private let identities: [AgeIdentity]
    private let next: any ByteSink
    private var buffer: [UInt8] = []
    private var payloadKey: SymmetricKey?
    private var counter: UInt64 = 0
    private var sawLast = false
    private static let maxHeader = 64 * 1024

    init(identities: [AgeIdentity], next: any ByteSink) {
        self.identities = identities
        self.next = next
    }

    func write(_ bytes: ArraySlice<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        if payloadKey == nil { try parseHeaderIfComplete() }
        guard let key = payloadKey else { return }
        let sealed = Age.chunkSize + Age.tagSize
        while buffer.count > sealed {
            try open(buffer[..<sealed], key: key, last: false)
            buffer.removeFirst(sealed)
        }
    }

    func finish() throws {
        guard let key = payloadKey else { throw BackupError.notAgeFile("the header is incomplete") }
        guard buffer.count >= Age.tagSize else { throw BackupError.tampered("the last chunk is truncated") }
        // An empty last chunk is only valid as the whole payload.
        if buffer.count == Age.tagSize, counter > 0 { throw BackupError.tampered("an empty last chunk follows data") }
        try open(buffer[...], key: key, last: true)
        buffer = []
        try next.finish()
    }

    private func open(_ chunk: ArraySlice<UInt8>, key: SymmetricKey, last: Bool) throws {
        let plaintext: Data
        do {
            let box = try ChaChaPoly.SealedBox(nonce: Age.nonce(counter, last: last),
                                               ciphertext: chunk.dropLast(Age.tagSize), tag: chunk.suffix(Age.tagSize))
            plaintext = try ChaChaPoly.open(box, using: key)
        } catch {
            throw BackupError.tampered("chunk \(counter)")
        }
        counter += 1
        try next.write(ArraySlice(plaintext))
    }

    /// Once the `--- mac` line and the 16-byte payload nonce are buffered: find a stanza an
    /// identity opens, check the header MAC with that file key, derive the payload key.
    private func parseHeaderIfComplete() throws {
        guard let end = Self.headerEnd(buffer) else {
            if buffer.count > Self.maxHeader { throw BackupError.notAgeFile("no header end within \(Self.maxHeader) bytes") }
            return
        }
        guard buffer.count >= end + 16 else { return }
        guard let text = String(bytes: buffer[..<end], encoding: .utf8) else { throw BackupError.notAgeFile("the header is not text") }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        _ = lines.popLast()  // the empty string after the final newline
        guard lines.first == Age.version else { throw BackupError.notAgeFile("the first line is not \(Age.version)") }
        guard let macLine = lines.popLast(), macLine.hasPrefix("--- ") else { throw BackupError.notAgeFile("no MAC line") }
        let mac = try Age.unbase64(macLine.dropFirst(4))

        var stanzas: [(args: [String], body: [UInt8])] = []
        var index = 1
        while index < lines.count {
            let line = lines[index]
            guard line.hasPrefix("-> ") else { throw BackupError.notAgeFile("expected a stanza at header line \(index + 1)") }
            let args = line.dropFirst(3).split(separator: " ").map(String.init)
            var body = ""
            index += 1
            // Body lines are 64 columns; a shorter one (possibly empty) ends it.
            while true {
                guard index < lines.count else { throw BackupError.notAgeFile("a stanza body is unterminated") }
                let bodyLine = lines[index]
                index += 1
                body += bodyLine
                if bodyLine.count < 64 { break }
            }
            stanzas.append((args, try Age.unbase64(body)))
        }

        var fileKey: [UInt8]?
        search: for stanza in stanzas where stanza.args.first == "X25519" {
            guard stanza.args.count == 2, stanza.body.count == 32 else { throw BackupError.notAgeFile("malformed X25519 stanza") }
            let share = try Age.unbase64(stanza.args[1])
            guard share.count == 32 else { throw BackupError.notAgeFile("malformed X25519 share") }
            let sharePublic = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: share)
            for identity in identities {
                let shared = try identity.privateKey.sharedSecretFromKeyAgreement(with: sharePublic).withUnsafeBytes { Array($0) }
                if shared.allSatisfy({ $0 == 0 }) { continue }
                let wrapKey = Age.hkdf(shared, salt: share + Array(identity.privateKey.publicKey.rawRepresentation), info: Age.x25519Label)
                let box = try ChaChaPoly.SealedBox(nonce: ChaChaPoly.Nonce(data: [UInt8](repeating: 0, count: 12)),
                                                   ciphertext: stanza.body.prefix(16), tag: stanza.body.suffix(16))
                if let opened = try? ChaChaPoly.open(box, using: wrapKey) {
                    fileKey = Array(opened)
                    break search
                }
            }
        }
        guard let fileKey else { throw BackupError.noMatchingIdentity }
        let macInput = Data(buffer[..<(end - macLine.utf8.count - 1 + 3)])
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: macInput, using: Age.hkdf(fileKey, salt: [UInt8](), info: "header")) else {
            throw BackupError.tampered("header MAC")
        }
        let nonce = Array(buffer[end..<(end + 16)])
        payloadKey = Age.hkdf(fileKey, salt: nonce, info: "payload")
        buffer.removeFirst(end + 16)
    }

    /// The offset just past the newline that ends the `--- …` line, if buffered.
    private static func headerEnd(_ bytes: [UInt8]) -> Int? {
        let marker = Array("\n--- ".utf8)
        let limit = min(bytes.count, maxHeader)
        guard limit >= marker.count else { return nil }
        var i = 0
        while i + marker.count <= limit {
            if bytes[i] == marker[0], Array(bytes[i..<(i + marker.count)]) == marker {
                guard let newline = bytes[(i + marker.count)..<limit].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
                return newline + 1
            }
            i += 1
        }
        return nil
    }
}
