import Foundation

/// The two times EmmyApp exposes from `<data-dir>/backup-status.json`, the file `emmyops backup
/// create` and `verify` leave (EmmyOpsKit's `BackupStatusFile` writes it; EmmyApp only reads the
/// two fields it needs, since it cannot depend on EmmyOpsKit).
public struct BackupTimestamps: Sendable, Equatable {
    public var lastSuccess: Double?
    public var lastVerified: Double?

    public init(lastSuccess: Double? = nil, lastVerified: Double? = nil) {
        self.lastSuccess = lastSuccess
        self.lastVerified = lastVerified
    }

    public static let fileName = "backup-status.json"

    /// Missing or unreadable file: no backups known (both nil, exposed as 0).
    public static func read(dataDirectory: String) -> BackupTimestamps {
        let path = (dataDirectory as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return BackupTimestamps() }
        let formatter = ISO8601DateFormatter()
        func time(_ key: String) -> Double? { (object[key] as? String).flatMap(formatter.date(from:))?.timeIntervalSince1970 }
        return BackupTimestamps(lastSuccess: time("last_success"), lastVerified: time("last_verified"))
    }
}
