import Crypto
@testable import EmmyOpsKit
import Foundation
import Testing

/// The age v1 format against Debian's `age`: each side decrypts what the other encrypted, at
/// the sizes where STREAM chunking has edge cases (empty, one byte, exactly one chunk, one more).
@Suite struct BackupAgeTests {
    static let sizes = [0, 1, 65_536, 65_537, 3 * 65_536, 200_000]

    static func payload(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func encrypt(_ bytes: [UInt8], to recipients: [AgeRecipient], path: String) throws {
        let file = try HashingFileSink(path: path)
        let encryptor = try AgeEncryptor(recipients: recipients, next: file)
        // Uneven writes: chunk boundaries must not depend on how the input arrives.
        var offset = 0
        while offset < bytes.count {
            let step = min(bytes.count - offset, 10_007)
            try encryptor.write(bytes[offset..<(offset + step)])
            offset += step
        }
        try encryptor.finish()
    }

    final class Collect: ByteSink {
        var bytes: [UInt8] = []
        var finished = false
        func write(_ chunk: ArraySlice<UInt8>) throws { bytes.append(contentsOf: chunk) }
        func finish() throws { finished = true }
    }

    @Test func ageDecryptsWhatEmmyopsEncrypts() throws {
        let world = try BackupWorld(messages: 1)
        defer { world.remove() }
        // A second recipient whose identity age is not given: the stanza for it is skipped.
        let recipients = [try AgeRecipient(AgeIdentity().recipient), try AgeRecipient(world.recipient)]
        for size in Self.sizes {
            let plain = Self.payload(size)
            let sealed = world.root.appendingPathComponent("out-\(size).age").path
            try Self.encrypt(plain, to: recipients, path: sealed)
            let output = try ProcessRunner().run(BackupWorld.age ?? "/usr/bin/age", ["-d", "-i", world.identityFile, "-o", sealed + ".plain", sealed], timeout: 60)
            #expect(output.status == 0, "age -d failed at \(size) bytes: \(output.stderr)")
            // age creates its output on the first write: an empty payload leaves no file.
            let decrypted = FileManager.default.contents(atPath: sealed + ".plain") ?? Data()
            #expect(decrypted == Data(plain), "at \(size) bytes")
        }
    }

    @Test func emmyopsDecryptsWhatAgeEncrypts() throws {
        let world = try BackupWorld(messages: 1)
        defer { world.remove() }
        let identities = try AgeIdentity.parseFile(String(contentsOfFile: world.identityFile, encoding: .utf8))
        for size in Self.sizes {
            let plain = Self.payload(size)
            let input = world.root.appendingPathComponent("in-\(size)").path
            try Data(plain).write(to: URL(fileURLWithPath: input))
            let output = try ProcessRunner().run(BackupWorld.age ?? "/usr/bin/age", ["-r", world.recipient, "-o", input + ".age", input], timeout: 60)
            #expect(output.status == 0, "\(output.stderr)")
            let collect = Collect()
            try FileStream.pump(input + ".age", into: AgeDecryptor(identities: identities, next: collect))
            #expect(collect.finished && collect.bytes == plain, "at \(size) bytes")
        }
    }

    @Test func tamperingAndTruncationFailAuthentication() throws {
        let identity = AgeIdentity()
        let world = try BackupWorld(messages: 1)
        defer { world.remove() }
        let sealed = world.root.appendingPathComponent("t.age").path
        try Self.encrypt(Self.payload(150_000), to: [try AgeRecipient(identity.recipient)], path: sealed)
        let original = try Data(contentsOf: URL(fileURLWithPath: sealed))

        func decrypt(_ data: Data, identities: [AgeIdentity] = [identity]) -> BackupError? {
            let collect = Collect()
            let decryptor = AgeDecryptor(identities: identities, next: collect)
            do {
                try decryptor.write(ArraySlice(data))
                try decryptor.finish()
                return nil
            } catch let error as BackupError {
                return error
            } catch {
                return .io(path: "?", reason: "\(error)")
            }
        }
        #expect(decrypt(original) == nil)
        var flipped = original
        flipped[flipped.count / 2] ^= 0x01
        #expect(decrypt(flipped) == .tampered("chunk 1"))
        // Without its last chunk the payload ends on a full chunk that is not flagged last.
        #expect(decrypt(original.prefix(original.count - (150_000 - 2 * 65_536) - 16)) == .tampered("chunk 1"), "a payload cut at a chunk boundary must not pass")
        #expect(decrypt(original.prefix(original.count - 1)) != nil)
        #expect(decrypt(original, identities: [AgeIdentity()]) == .noMatchingIdentity)
        var header = original
        header[40] ^= 0x01  // inside the X25519 share
        #expect(decrypt(header) != nil)
    }

    @Test func keysRoundTripThroughBech32AndRejectTypos() throws {
        let identity = AgeIdentity()
        let reparsed = try AgeIdentity(identity.text)
        #expect(reparsed.recipient == identity.recipient)
        #expect(identity.text.hasPrefix("AGE-SECRET-KEY-1") && identity.recipient.hasPrefix("age1"))
        var typo = Array(identity.recipient)
        typo[10] = typo[10] == "q" ? "p" : "q"
        #expect(throws: BackupError.self) { try AgeRecipient(String(typo)) }
        #expect(throws: BackupError.self) { try AgeRecipient(identity.text) }
        #expect(throws: BackupError.self) { try AgeRecipient("ssh-ed25519 AAAA") }
    }
}
