import Foundation

/// Where backups are stored. Keys are flat names (`BackupKeys`); the target's listing is
/// authoritative. Every write is all-or-nothing: a reader never sees half an object.
public protocol BackupTarget: Sendable {
    /// A human name for messages (`file:///…`, `s3://bucket/prefix`).
    var description: String { get }
    /// Stores the file at `path` as `key`, then checks what was stored has `bytes` bytes and
    /// SHA-256 `sha256`.
    func upload(file path: String, key: String, bytes: Int64, sha256: String) async throws
    func put(_ data: Data, key: String) async throws
    /// Streams the object `key` into `sink` (which is finished at the end).
    func download(_ key: String, into sink: any ByteSink) async throws
    func get(_ key: String) async throws -> Data?
    /// Every key with its size.
    func list() async throws -> [String: Int64]
    func delete(_ key: String) async throws
}

/// Chooses the target of a `file://` or `s3://` URL.
public enum BackupTargets {
    /// `settings` gives an s3 target its endpoint, addressing and region; `environment` its
    /// endpoint and credentials variables.
    public static func open(_ url: String, settings: Backup = Backup(),
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any BackupTarget {
        if url.hasPrefix("file://") {
            let path = String(url.dropFirst("file://".count))
            guard path.hasPrefix("/") else { throw BackupError.target("`\(url)` is not an absolute file:///path") }
            return try FileTarget(directory: path)
        }
        if url.hasPrefix("s3://") { return try S3Target(url: url, settings: settings, environment: environment) }
        throw BackupError.target("`\(url)` is neither s3://bucket/prefix nor file:///path")
    }
}
