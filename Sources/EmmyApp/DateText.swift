import Foundation

/// Every way emmyops writes or reads a date as text, in one place, always in UTC.
public enum DateText {
    /// `2026-11-23T07:00:00Z`: logs, the audit log, state files, anything a program reads.
    /// A duration as people say it: `12 s`, `4 min 10 s`, `2 h 5 min`, `3 d 4 h`.
    public static func humanDuration(_ seconds: TimeInterval) -> String {
        let total = max(0, Int(seconds))
        let (days, hours, minutes, rest) = (total / 86_400, total / 3600 % 24, total / 60 % 60, total % 60)
        if days > 0 { return "\(days) d \(hours) h" }
        if hours > 0 { return "\(hours) h \(minutes) min" }
        if minutes > 0 { return "\(minutes) min \(rest) s" }
        return "\(rest) s"
    }

    public static func iso8601(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }

    /// `2026-11-23 07:00:00 UTC`: for people (the web pages).
    public static func readable(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime]
        return formatter.string(from: date) + " UTC"
    }

    /// `20261123-070000`: sorts as it reads, and is safe in file names (release names).
    public static func compact(_ date: Date) -> String {
        let formatter = posix("yyyyMMdd-HHmmss")
        return formatter.string(from: date)
    }

    /// An HTTP date (`Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`), or nil.
    public static func httpDate(_ text: String) -> Date? {
        posix("EEE, dd MMM yyyy HH:mm:ss zzz").date(from: text)
    }

    /// A fixed-format formatter that ignores the machine's locale and time zone.
    private static func posix(_ format: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = format
        return formatter
    }
}
