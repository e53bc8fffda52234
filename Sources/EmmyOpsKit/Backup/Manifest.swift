import Foundation

/// What a backup is: written to the target last, after the object it describes is stored and
/// checked, so an object without a manifest (a crash, a failed upload) is never a backup.
public struct BackupManifest: Codable, Sendable, Equatable {
    public var format: Int = 1
    public var id: String
    public var created: Date
    public var host: String
    public var appVersion: String
    /// GRDB migrations applied in the snapshot, oldest first.
    public var migrations: [String]
    public var snapshotMethod: String
    public var snapshotBytes: Int64
    /// Size and SHA-256 of the stored (compressed, encrypted) object.
    public var storedBytes: Int64
    public var sha256: String
    public var compression: String = "zstd"
    public var encryption: String = "age-x25519"
    public var recipients: [String]
    /// Rows per table in the snapshot; verify and restore expect exactly these.
    public var tables: [String: Int]
    public var integrityCheck: String

    enum CodingKeys: String, CodingKey {
        case format, id, created, host, migrations, compression, encryption, recipients, tables, sha256
        case appVersion = "app_version", snapshotMethod = "snapshot_method", snapshotBytes = "snapshot_bytes"
        case storedBytes = "stored_bytes", integrityCheck = "integrity_check"
    }

    var objectKey: String { BackupKeys.object(id) }
}

/// The verification sidecar: the last time a backup was restored and checked, and how long that took.
public struct BackupVerification: Codable, Sendable, Equatable {
    public var id: String
    public var verifiedAt: Date
    public var ok: Bool
    public var restoreSeconds: Double
    public var problem: String?

    enum CodingKeys: String, CodingKey {
        case id, ok, problem
        case verifiedAt = "verified_at", restoreSeconds = "restore_seconds"
    }
}

/// A listed backup: its manifest and, once verified, its sidecar.
public struct BackupEntry: Sendable, Equatable, Encodable {
    public var manifest: BackupManifest
    public var verification: BackupVerification?
    public var id: String { manifest.id }
    public var isVerified: Bool { verification?.ok == true }

    /// The one order of backups everywhere (list, --latest, retention): creation time, then id.
    static func isOlder(_ a: BackupEntry, _ b: BackupEntry) -> Bool {
        a.manifest.created == b.manifest.created ? a.id < b.id : a.manifest.created < b.manifest.created
    }
}

/// Object names under the target: `<id>.sqlite.zst.age`, `<id>.manifest.json`, `<id>.verified.json`.
public enum BackupKeys {
    static let objectSuffix = ".sqlite.zst.age"
    static let manifestSuffix = ".manifest.json"
    static let verificationSuffix = ".verified.json"

    static func object(_ id: String) -> String { id + objectSuffix }
    static func manifest(_ id: String) -> String { id + manifestSuffix }
    static func verification(_ id: String) -> String { id + verificationSuffix }

    /// A sortable id: the UTC second it was taken plus 4 random hex digits (two creates in one second differ).
    static func newID(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date) + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }

    /// Ids are limited to what `newID` makes, so a hostile listing cannot name paths.
    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }
}

enum BackupJSON {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
