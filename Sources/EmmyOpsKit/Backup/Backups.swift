import Foundation

/// The backup operations (`create`, `list`, `verify`, `restore`, `prune`) over one target, for
/// one host's data directory. Each lives in its own file as an extension.
public struct Backups: Sendable {
    public var target: any BackupTarget
    /// Recipients `create` encrypts to.
    public var recipients: [AgeRecipient]
    /// Identities `verify` and `restore` decrypt with (empty for create/list/prune).
    public var identities: [AgeIdentity]
    /// The data directory holding `emmy.sqlite`; staging files and the status file go here.
    public var dataDirectory: String
    public var host: String
    public var appVersion: String
    public var snapshotMethod: DatabaseSnapshot.Method
    /// When set, `--latest` and `--latest-verified` choose among this host's backups only: hosts
    /// with a database each may share one target, and a host must never restore another's.
    public var selectingHost: String?
    /// Bytes done, bytes expected (0 when unknown), and the phase, for a progress line.
    public var progress: (@Sendable (BackupProgress) -> Void)?

    public init(target: any BackupTarget, recipients: [AgeRecipient] = [], identities: [AgeIdentity] = [], dataDirectory: String,
                host: String = ProcessInfo.processInfo.hostName, appVersion: String, snapshotMethod: DatabaseSnapshot.Method = .backupAPI,
                progress: (@Sendable (BackupProgress) -> Void)? = nil) {
        self.target = target
        self.recipients = recipients
        self.identities = identities
        self.dataDirectory = dataDirectory
        self.host = host
        self.appVersion = appVersion
        self.snapshotMethod = snapshotMethod
        self.progress = progress
    }

    public var databasePath: String { (dataDirectory as NSString).appendingPathComponent("emmy.sqlite") }
    /// Plaintext snapshots and restores in progress; on the database's filesystem so a restore
    /// swaps by rename, and owner-only.
    var stagingDirectory: String { (dataDirectory as NSString).appendingPathComponent("backup-staging") }

    func stagingPath(_ name: String) -> String { (stagingDirectory as NSString).appendingPathComponent(name) }

    /// Every backup the target holds: manifests whose object is present, oldest first (by
    /// creation time, then id, since manifests keep whole seconds). An object
    /// without a manifest, or a manifest without its object, is not a backup.
    public func list() async throws -> [BackupEntry] {
        let keys = try await target.list()
        var entries: [BackupEntry] = []
        for (key, _) in keys where key.hasSuffix(BackupKeys.manifestSuffix) {
            let id = String(key.dropLast(BackupKeys.manifestSuffix.count))
            guard BackupKeys.isValidID(id), keys[BackupKeys.object(id)] != nil,
                  let data = try await target.get(key),
                  let manifest = try? BackupJSON.decoder().decode(BackupManifest.self, from: data), manifest.id == id else { continue }
            var verification: BackupVerification?
            if keys[BackupKeys.verification(id)] != nil, let data = try await target.get(BackupKeys.verification(id)) {
                verification = try? BackupJSON.decoder().decode(BackupVerification.self, from: data)
            }
            entries.append(BackupEntry(manifest: manifest, verification: verification))
        }
        return entries.sorted(by: BackupEntry.isOlder)
    }

    /// The backup named `id`, or the newest one (`nil`), or the newest verified one.
    public func find(_ selector: Selector) async throws -> BackupEntry {
        let all = try await list()
        let entries = selectingHost.map { host in all.filter { $0.manifest.host == host } } ?? all
        switch selector {
        case .id(let id):
            guard let entry = all.first(where: { $0.id == id }) else { throw BackupError.notFound("`\(id)` in \(target.description)") }
            return entry
        case .latest:
            guard let entry = entries.last else { throw BackupError.notFound("\(selectingHost.map { "of host \($0) " } ?? "")in \(target.description)") }
            return entry
        case .latestVerified:
            guard let entry = entries.last(where: \.isVerified) else { throw BackupError.notFound("verified \(selectingHost.map { "of host \($0) " } ?? "")in \(target.description); run `emmyops backup verify --latest`") }
            return entry
        }
    }

    public enum Selector: Sendable, Equatable {
        case id(String), latest, latestVerified
    }

    /// Runs `body` with the path of a scratch file in the staging directory, holding the staging
    /// lock (one operation per data directory) after clearing what a killed run left; the file is
    /// removed afterwards, whatever happens.
    func inStaging<T>(_ name: String, _ body: (String) async throws -> T) async throws -> T {
        try prepareStaging()
        let lock = try StagingLock(stagingDirectory)
        defer { lock.release() }
        removeLeftovers()
        let path = stagingPath(name)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }

    /// Seconds since `start`, to the millisecond (restore times in sidecars and outcomes).
    static func seconds(since start: Date) -> Double {
        (Date().timeIntervalSince(start) * 1000).rounded() / 1000
    }

    /// Creates the staging directory, owner-only.
    func prepareStaging() throws {
        do {
            try FileManager.default.createDirectory(atPath: stagingDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw BackupError.io(path: stagingDirectory, reason: error.localizedDescription)
        }
    }
}

/// Where a long operation is: for a progress line (bytes, rate, ETA) or a JSON event.
public struct BackupProgress: Sendable, Codable {
    public var phase: String
    public var bytes: Int64
    /// 0 when the total is unknown.
    public var total: Int64
    public var elapsedSeconds: Double
}
