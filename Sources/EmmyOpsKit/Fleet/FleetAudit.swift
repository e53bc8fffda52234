import EmmyApp
import Foundation

/// `emmyops audit`: every host's audit log, merged into one timeline.
public enum FleetAudit {
    /// The remote command that prints a host's audit log (nothing when it has none yet).
    public static func readCommand(_ layout: ReleaseLayout) -> [String] {
        ["sh", "-c", #"[ ! -e "$1" ] || cat -- "$1""#, "emmyops-audit", layout.audit]
    }

    /// The entries of every host, oldest first, those before `since` left out. ISO 8601 UTC
    /// strings of one format sort as the times they spell.
    public static func merge(_ logs: [[AuditEntry]], since: Date?) -> [AuditEntry] {
        let cutoff = since.map(DateText.iso8601)
        return logs.joined().filter { entry in cutoff.map { entry.when >= $0 } ?? true }.sorted { ($0.when, $0.host) < ($1.when, $1.host) }
    }

    /// One line for people: `when host action from → to result (duration) by who`.
    public static func line(_ entry: AuditEntry) -> String {
        var text = "\(entry.when)  \(entry.host)  \(entry.action)"
        if let keys = entry.keys {
            text += " \(keys.joined(separator: ", "))"
        } else {
            text += " \(entry.from ?? "-") -> \(entry.to)"
        }
        text += "  \(entry.result) in \(String(format: "%.1f", entry.durationS))s by \(entry.who)"
        if let reason = entry.reason { text += ": \(reason)" }
        return text
    }
}
