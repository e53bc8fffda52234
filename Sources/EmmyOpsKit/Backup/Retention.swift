import Foundation

/// restic-style retention: keep the newest `last`, then the newest backup of each of the last
/// `daily` UTC days, `weekly` ISO weeks and `monthly` months that have one; the rules are ORed.
/// The newest verified backup is always kept, whatever the rules say.
public enum Retention {
    public struct Decision: Sendable, Equatable, Encodable {
        public var id: String
        public var keep: Bool
        /// Why it is kept (`last`, `daily 2026-12-01`, …); empty for a backup to delete.
        public var reasons: [String]
    }

    public static func decide(_ entries: [BackupEntry], keep: Backup.Keep) -> [Decision] {
        let newestFirst = entries.sorted(by: BackupEntry.isOlder).reversed()
        var reasons: [String: [String]] = [:]
        for entry in newestFirst.prefix(keep.last) { reasons[entry.id, default: []].append("last") }
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let buckets: [(String, Int, (Date) -> String)] = [
            ("daily", keep.daily, { let c = calendar.dateComponents([.year, .month, .day], from: $0); return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!) }),
            ("weekly", keep.weekly, { let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: $0); return String(format: "%04d-W%02d", c.yearForWeekOfYear!, c.weekOfYear!) }),
            ("monthly", keep.monthly, { let c = calendar.dateComponents([.year, .month], from: $0); return String(format: "%04d-%02d", c.year!, c.month!) }),
        ]
        for (rule, count, period) in buckets where count > 0 {
            var seen: [String] = []
            for entry in newestFirst {
                let key = period(entry.manifest.created)
                if seen.contains(key) { continue }
                if seen.count == count { break }
                seen.append(key)
                reasons[entry.id, default: []].append("\(rule) \(key)")
            }
        }
        if let newestVerified = newestFirst.first(where: \.isVerified) {
            reasons[newestVerified.id, default: []].append("newest verified")
        }
        return newestFirst.map { Decision(id: $0.id, keep: reasons[$0.id] != nil, reasons: reasons[$0.id] ?? []) }
    }
}

extension Backups {
    /// Deletes what `Retention` does not keep: the manifest first (so it stops being a backup
    /// at once), then the object and its sidecar.
    public func prune(keep: Backup.Keep, dryRun: Bool) async throws -> [Retention.Decision] {
        let decisions = Retention.decide(try await list(), keep: keep)
        guard !dryRun else { return decisions }
        for decision in decisions where !decision.keep {
            try await target.delete(BackupKeys.manifest(decision.id))
            try await target.delete(BackupKeys.object(decision.id))
            try await target.delete(BackupKeys.verification(decision.id))
        }
        return decisions
    }
}
