import Foundation

extension Backups {
    /// What `restore` did (or, with dryRun, would do).
    public struct RestoreOutcome: Sendable, Encodable {
        public var id: String
        public var dryRun: Bool
        /// Where the replaced database (with its -wal and -shm) was moved.
        public var replacedTo: String?
        public var restoreSeconds: Double
        public var tables: [String: Int]

        enum CodingKeys: String, CodingKey {
            case id, tables
            case dryRun = "dry_run", replacedTo = "replaced_to", restoreSeconds = "restore_seconds"
        }
    }

    /// Restores `selector`'s backup into a new file next to the database and verifies it like
    /// `verify` does; only then hands it to `swap` (which stops and starts the app around the
    /// rename). Any failure before the swap leaves the running database untouched.
    public func restore(_ selector: Selector, dryRun: Bool,
                        swap: (_ restored: String, _ id: String) async throws -> String) async throws -> RestoreOutcome {
        let entry = try await find(selector)
        return try await inStaging("\(entry.id).restore.sqlite") { restored in
            let started = Date()
            do {
                try await materialize(entry, into: restored)
            } catch let BackupError.verificationFailed(id, reason) {
                throw BackupError.restoreRefused("backup \(id) failed verification: \(reason)")
            }
            var outcome = RestoreOutcome(id: entry.id, dryRun: dryRun, replacedTo: nil, restoreSeconds: Self.seconds(since: started),
                                         tables: entry.manifest.tables)
            if !dryRun { outcome.replacedTo = try await swap(restored, entry.id) }
            return outcome
        }
    }
}

/// The rename that puts a restored database in place. Runs only while nothing has the database
/// open: directly when no app runs, or inside the supervisor between stopping and starting it.
public enum DatabaseSwap {
    static let suffixes = ["", "-wal", "-shm"]

    /// Moves `database` and its -wal/-shm into `replaced-<time>/` beside it, then renames
    /// `restored` over it. Returns the folder holding the replaced files. If the rename fails,
    /// the old files go back.
    public static func swap(restored: String, into database: String, now: Date = Date()) throws -> String {
        let directory = (database as NSString).deletingLastPathComponent
        let name = (database as NSString).lastPathComponent
        let stamp = BackupKeys.newID(now)
        let aside = (directory as NSString).appendingPathComponent("replaced-\(stamp)")
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: aside, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw BackupError.restoreRefused("cannot create \(aside): \(error.localizedDescription)")
        }
        var moved: [String] = []
        do {
            // The old WAL must leave with its database: replayed into the restored file it would corrupt it.
            for suffix in suffixes where fm.fileExists(atPath: database + suffix) {
                try rename(database + suffix, (aside as NSString).appendingPathComponent(name + suffix))
                moved.append(suffix)
            }
            try rename(restored, database)
            FileTarget.syncDirectory(directory)
        } catch {
            for suffix in moved { try? rename((aside as NSString).appendingPathComponent(name + suffix), database + suffix) }
            throw BackupError.restoreRefused("the swap failed and was undone: \(error)")
        }
        return aside
    }

    /// Processes other than this one with `path` open (Linux /proc): an app running without a
    /// supervisor, or a sqlite3 shell. Swapping under them would split their view of the data.
    public static func processesHolding(_ path: String) -> [Int32] {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let fm = FileManager.default
        var holders: [Int32] = []
        for entry in (try? fm.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid != getpid() else { continue }
            let fds = (try? fm.contentsOfDirectory(atPath: "/proc/\(entry)/fd")) ?? []
            if fds.contains(where: { (try? fm.destinationOfSymbolicLink(atPath: "/proc/\(entry)/fd/\($0)")) == target }) { holders.append(pid) }
        }
        return holders
    }

    private static func rename(_ from: String, _ to: String) throws {
        guard Foundation.rename(from, to) == 0 else { throw BackupError.io(path: from, reason: String(cString: strerror(errno))) }
    }
}
