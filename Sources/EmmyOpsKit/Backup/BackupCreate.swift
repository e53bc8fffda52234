import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension Backups {
    /// snapshot (own connection, one read transaction) → inspect → zstd → age → upload
    /// (checked) → manifest, last. The plaintext snapshot is the only plaintext on disk and is
    /// removed as soon as it is encrypted; a crash at any point leaves at most an unlisted
    /// object, cleaned by the next run.
    public func create(now: Date = Date()) async throws -> BackupManifest {
        guard !recipients.isEmpty else { throw BackupError.configuration("no recipients: set backup.recipients to at least one `age1…` public key") }
        let id = BackupKeys.newID(now)
        return try await inStaging("\(id).sqlite") { snapshot in try await create(id: id, snapshot: snapshot, now: now) }
    }

    private func create(id: String, snapshot: String, now: Date) async throws -> BackupManifest {
        let sealed = stagingPath(BackupKeys.object(id))
        defer { try? FileManager.default.removeItem(atPath: sealed) }
        let started = Date()
        progress?(BackupProgress(phase: "snapshot", bytes: 0, total: 0, elapsedSeconds: 0))
        try DatabaseSnapshot.take(source: databasePath, destination: snapshot, method: snapshotMethod)
        let contents = try DatabaseSnapshot.inspect(snapshot)
        guard contents.integrityCheck == "ok" else {
            throw BackupError.database("the live database fails integrity_check (\(contents.integrityCheck)); not backing it up")
        }
        let snapshotBytes = Self.size(snapshot)

        let file = try HashingFileSink(path: sealed)
        let pipeline = try ZstdCompressor(next: AgeEncryptor(recipients: recipients, next: file))
        try FileStream.pump(snapshot, into: pipeline) { done in
            progress?(BackupProgress(phase: "encrypt", bytes: done, total: snapshotBytes, elapsedSeconds: Date().timeIntervalSince(started)))
        }
        try? FileManager.default.removeItem(atPath: snapshot)
        guard let digest = file.digest else { throw BackupError.io(path: sealed, reason: "not finished") }

        progress?(BackupProgress(phase: "upload", bytes: 0, total: file.bytes, elapsedSeconds: Date().timeIntervalSince(started)))
        try await target.upload(file: sealed, key: BackupKeys.object(id), bytes: file.bytes, sha256: digest)
        let manifest = BackupManifest(
            id: id, created: now, host: host, appVersion: appVersion, migrations: contents.migrations,
            snapshotMethod: snapshotMethod.rawValue, snapshotBytes: snapshotBytes, storedBytes: file.bytes, sha256: digest,
            recipients: recipients.map(\.text), tables: contents.tables, integrityCheck: contents.integrityCheck)
        try await target.put(try BackupJSON.encoder().encode(manifest), key: BackupKeys.manifest(id))
        try? BackupStatusFile.record(dataDirectory: dataDirectory) { $0.lastSuccess = now; $0.lastSuccessID = id }
        return manifest
    }

    /// Snapshots and sealed objects a killed run left behind (the lock says none is running).
    func removeLeftovers() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: stagingDirectory)) ?? [] where name != StagingLock.name {
            try? FileManager.default.removeItem(atPath: stagingPath(name))
        }
    }

    static func size(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }
}

/// One backup operation per data directory at a time: an advisory lock the kernel drops when
/// the process dies, so a `kill -9` never leaves a stale lock.
struct StagingLock {
    static let name = ".lock"
    private let fd: Int32

    init(_ directory: String) throws {
        let path = (directory as NSString).appendingPathComponent(Self.name)
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BackupError.io(path: path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw BackupError.configuration("another backup operation is running on \(directory)")
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
