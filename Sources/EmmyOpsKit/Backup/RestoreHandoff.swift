import Foundation

/// How `restore` swaps the database of an app that `emmyops supervise` runs: it leaves the
/// verified file and a marker in the data directory and sends SIGHUP; the supervisor stops the
/// child (draining it), and before it starts the next one `applyPending` swaps the files, so
/// nothing has the database open during the rename. The outcome is left for `restore` to read.
public enum RestoreHandoff {
    public struct Result: Codable, Sendable, Equatable {
        public var id: String
        public var ok: Bool
        public var replacedTo: String?
        public var problem: String?
        enum CodingKeys: String, CodingKey { case id, ok, problem, replacedTo = "replaced_to" }
    }

    struct Marker: Codable { var id: String }

    public static func pendingDatabase(_ dataDirectory: String) -> String { path(dataDirectory, "restore-pending.sqlite") }
    static func marker(_ dataDirectory: String) -> String { path(dataDirectory, "restore-pending.json") }
    public static func result(_ dataDirectory: String) -> String { path(dataDirectory, "restore-result.json") }

    private static func path(_ directory: String, _ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// Puts `restored` in place as the pending database, then the marker (last, atomically).
    public static func offer(_ restored: String, id: String, dataDirectory: String) throws {
        try? FileManager.default.removeItem(atPath: result(dataDirectory))
        try? FileManager.default.removeItem(atPath: pendingDatabase(dataDirectory))
        guard rename(restored, pendingDatabase(dataDirectory)) == 0 else {
            throw BackupError.io(path: pendingDatabase(dataDirectory), reason: String(cString: strerror(errno)))
        }
        try BackupJSON.encoder().encode(Marker(id: id)).write(to: URL(fileURLWithPath: marker(dataDirectory)), options: .atomic)
    }

    /// Takes the offer back (a supervisor that did not act in time): nothing is swapped later.
    public static func withdraw(dataDirectory: String) {
        try? FileManager.default.removeItem(atPath: marker(dataDirectory))
        try? FileManager.default.removeItem(atPath: pendingDatabase(dataDirectory))
    }

    /// Called by the supervisor while no child runs: swaps in a pending restore, if any, and
    /// writes the result. Returns a line for the supervisor's log, nil when nothing was pending.
    public static func applyPending(dataDirectory: String) -> String? {
        guard let data = FileManager.default.contents(atPath: marker(dataDirectory)),
              let marker = try? BackupJSON.decoder().decode(Marker.self, from: data) else { return nil }
        var outcome = Result(id: marker.id, ok: false)
        do {
            outcome.replacedTo = try DatabaseSwap.swap(restored: pendingDatabase(dataDirectory),
                                                       into: (dataDirectory as NSString).appendingPathComponent("emmy.sqlite"))
            outcome.ok = true
        } catch {
            outcome.problem = "\(error)"
        }
        try? FileManager.default.removeItem(atPath: self.marker(dataDirectory))
        try? BackupJSON.encoder().encode(outcome).write(to: URL(fileURLWithPath: result(dataDirectory)), options: .atomic)
        return outcome.ok ? "restored backup \(marker.id); the replaced database is in \(outcome.replacedTo ?? "?")"
                          : "restore of backup \(marker.id) failed, the database is unchanged: \(outcome.problem ?? "?")"
    }

    public static func readResult(dataDirectory: String) -> Result? {
        FileManager.default.contents(atPath: result(dataDirectory)).flatMap { try? BackupJSON.decoder().decode(Result.self, from: $0) }
    }
}
