import Foundation

extension Backups {
    /// Restores `selector`'s backup into a scratch file exactly as `restore` would (download,
    /// SHA-256, decrypt, decompress, integrity_check, row counts against the manifest), records
    /// the outcome and the restore time in the sidecar, and throws if it does not hold.
    public func verify(_ selector: Selector, now: @Sendable () -> Date = Date.init) async throws -> BackupVerification {
        let entry = try await find(selector)
        var record = BackupVerification(id: entry.id, verifiedAt: now(), ok: true, restoreSeconds: 0, problem: nil)
        try await inStaging("\(entry.id).verify.sqlite") { scratch in
            let started = Date()
            do {
                try await materialize(entry, into: scratch)
            } catch let BackupError.verificationFailed(_, reason) {
                record.ok = false
                record.problem = reason
            }
            record.restoreSeconds = Self.seconds(since: started)
        }
        record.verifiedAt = now()
        try await target.put(try BackupJSON.encoder().encode(record), key: BackupKeys.verification(entry.id))
        guard record.ok else { throw BackupError.verificationFailed(id: entry.id, reason: record.problem ?? "unknown") }
        try? BackupStatusFile.record(dataDirectory: dataDirectory) { $0.lastVerified = record.verifiedAt; $0.lastVerifiedID = entry.id }
        return record
    }

    /// Downloads, checks and unpacks `entry` into `path`, then checks the database it holds.
    /// Every way the backup can be wrong becomes `verificationFailed` naming it.
    func materialize(_ entry: BackupEntry, into path: String) async throws {
        let manifest = entry.manifest
        guard !identities.isEmpty else { throw BackupError.configuration("no identity to decrypt with: pass --identity FILE or set EMMY_BACKUP_IDENTITY_FILE") }
        func fail(_ reason: String) -> BackupError { .verificationFailed(id: manifest.id, reason: reason) }

        let database = try HashingFileSink(path: path)
        let digest = DigestSink()
        let started = Date()
        let counting = ProgressSink(total: manifest.storedBytes) { done in
            progress?(BackupProgress(phase: "download", bytes: done, total: manifest.storedBytes, elapsedSeconds: Date().timeIntervalSince(started)))
        }
        let pipeline = TeeSink([digest, counting, AgeDecryptor(identities: identities, next: try ZstdDecompressor(next: database))])
        do {
            try await target.download(manifest.objectKey, into: pipeline)
        } catch let error as BackupError {
            // The object's own checksum says more than a decryption failure does; the stream
            // stopped early, so hash the whole object unless the failure came at its very end.
            var stored = digest.digest
            if stored == nil {
                let whole = DigestSink()
                try? await target.download(manifest.objectKey, into: whole)
                stored = whole.digest
            }
            if stored != manifest.sha256 { throw fail("the stored object's SHA-256 differs from the manifest (\(error))") }
            switch error {
            case .noMatchingIdentity: throw fail("none of the identities given matches its recipients (\(manifest.recipients.joined(separator: ", ")))")
            case .tampered, .compression, .notAgeFile: throw fail("\(error)")
            default: throw error
            }
        }
        guard digest.bytes == manifest.storedBytes, digest.digest == manifest.sha256 else {
            throw fail("the stored object's SHA-256 differs from the manifest")
        }
        let contents = try DatabaseSnapshot.inspect(path)
        guard contents.integrityCheck == "ok" else { throw fail("integrity_check: \(contents.integrityCheck)") }
        guard contents.tables == manifest.tables else {
            let differing = Set(contents.tables.keys).union(manifest.tables.keys).sorted().filter { contents.tables[$0] != manifest.tables[$0] }
                .map { "\($0): \(contents.tables[$0].map(String.init) ?? "missing") rows, manifest \(manifest.tables[$0].map(String.init) ?? "missing")" }
            throw fail("row counts differ from the manifest (\(differing.joined(separator: "; ")))")
        }
    }
}

/// Counts bytes for a progress callback and passes nothing on.
final class ProgressSink: ByteSink {
    private let report: (Int64) -> Void
    private var done: Int64 = 0
    private var lastReport = Date.distantPast
    let total: Int64

    init(total: Int64, report: @escaping (Int64) -> Void) {
        self.total = total
        self.report = report
    }

    func write(_ bytes: ArraySlice<UInt8>) throws {
        done += Int64(bytes.count)
        // A few reports a second are plenty for a progress line.
        if Date().timeIntervalSince(lastReport) > 0.2 {
            lastReport = Date()
            report(done)
        }
    }

    func finish() throws { report(done) }
}
