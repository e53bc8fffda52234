import EmmyApp
import Foundation

/// `<data-dir>/backup-status.json`: when this host last made and last verified a backup, for
/// EmmyApp's metrics and the `backup_stale` alert.
public struct BackupStatusFile: Codable, Sendable, Equatable {
    public static let name = BackupTimestamps.fileName

    public var lastSuccess: Date?
    public var lastSuccessID: String?
    public var lastVerified: Date?
    public var lastVerifiedID: String?

    enum CodingKeys: String, CodingKey {
        case lastSuccess = "last_success", lastSuccessID = "last_success_id"
        case lastVerified = "last_verified", lastVerifiedID = "last_verified_id"
    }

    public init() {}

    public static func path(_ dataDirectory: String) -> String { (dataDirectory as NSString).appendingPathComponent(name) }

    public static func read(dataDirectory: String) -> BackupStatusFile? {
        FileManager.default.contents(atPath: path(dataDirectory)).flatMap { try? BackupJSON.decoder().decode(Self.self, from: $0) }
    }

    /// Read, change, write atomically.
    static func record(dataDirectory: String, _ change: (inout BackupStatusFile) -> Void) throws {
        var status = read(dataDirectory: dataDirectory) ?? BackupStatusFile()
        change(&status)
        try BackupJSON.encoder().encode(status).write(to: URL(fileURLWithPath: path(dataDirectory)), options: .atomic)
    }
}
