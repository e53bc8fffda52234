import Crypto
import Foundation

/// A directory as a backup target (tests, small setups, a mounted volume). Objects are written
/// under a hidden temporary name, synced, then renamed: the listing never shows a partial one.
public struct FileTarget: BackupTarget {
    public let directory: String
    public var description: String { "file://\(directory)" }
    /// Names starting with this are in-flight writes, never listed.
    static let partialPrefix = ".partial-"

    public init(directory: String) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw BackupError.target("cannot create \(directory): \(error.localizedDescription)")
        }
    }

    private func path(_ key: String) -> String { (directory as NSString).appendingPathComponent(key) }

    public func upload(file: String, key: String, bytes: Int64, sha256: String) async throws {
        try write(key) { sink in try FileStream.pump(file, into: sink) }
        // Read back what landed: the same check an S3 HEAD makes, on the bytes themselves.
        let check = DigestSink()
        try FileStream.pump(path(key), into: check)
        guard check.bytes == bytes, check.digest == sha256 else {
            try? FileManager.default.removeItem(atPath: path(key))
            throw BackupError.target("\(key) was stored as \(check.bytes) bytes with another checksum")
        }
    }

    public func put(_ data: Data, key: String) async throws {
        try write(key) { sink in
            try sink.write(ArraySlice(data))
            try sink.finish()
        }
    }

    /// Writes through a synced temporary file, renames it into place, syncs the directory.
    private func write(_ key: String, _ body: (HashingFileSink) throws -> Void) throws {
        let temporary = path(Self.partialPrefix + key + "-" + UUID().uuidString.prefix(8))
        do {
            let sink = try HashingFileSink(path: temporary)
            try body(sink)
            guard rename(temporary, path(key)) == 0 else { throw BackupError.io(path: path(key), reason: String(cString: strerror(errno))) }
            Self.syncDirectory(directory)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    public func download(_ key: String, into sink: any ByteSink) async throws {
        guard FileManager.default.fileExists(atPath: path(key)) else { throw BackupError.notFound(key) }
        try FileStream.pump(path(key), into: sink)
    }

    public func get(_ key: String) async throws -> Data? {
        FileManager.default.contents(atPath: path(key))
    }

    public func list() async throws -> [String: Int64] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw BackupError.target("cannot list \(directory): \(error.localizedDescription)")
        }
        var out: [String: Int64] = [:]
        for name in names where !name.hasPrefix(".") {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path(name))
            out[name] = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
        }
        return out
    }

    public func delete(_ key: String) async throws {
        do { try FileManager.default.removeItem(atPath: path(key)) } catch {
            if FileManager.default.fileExists(atPath: path(key)) { throw BackupError.target("cannot delete \(key): \(error.localizedDescription)") }
        }
        Self.syncDirectory(directory)
    }

    /// A rename is durable only once its directory is synced.
    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}
