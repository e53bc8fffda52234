import EmmyApp
import Foundation

/// How `emmyops logs` shows a release's log: EmmyApp writes one JSON object per line
/// (`time`, `level`, `message`, `logger`, metadata), the supervisor plain text lines.
public struct LogView: Sendable {
    /// Lines older than this are left out; a plain line (no time of its own) goes with the
    /// JSON line before it, and plain lines before any dated line are left out too.
    public var since: Date?
    /// Readable (`time LEVEL message key=value…`) instead of the raw JSON.
    public var readable: Bool

    public init(since: Date? = nil, readable: Bool) {
        self.since = since
        self.readable = readable
    }

    /// Filters and formats `lines` of one host, each prefixed with `[host]`.
    public func render(_ lines: some Sequence<Substring>, host: String) -> [String] {
        var log = start(host: host)
        return lines.compactMap { log.show($0) }
    }

    /// One host's log read line by line (`--follow`): the `since` filter keeps its place.
    public func start(host: String) -> HostLog { HostLog(view: self, host: host, filter: SinceFilter(since: since)) }

    public struct HostLog: Sendable {
        let view: LogView
        let host: String
        var filter: SinceFilter

        /// The line as shown, prefixed with `[host]`, or nil when it is left out.
        public mutating func show(_ line: Substring) -> String? {
            filter.keeps(line) ? "[\(host)] " + view.format(line) : nil
        }
    }

    /// One line as shown: a JSON log line readable when asked, anything else as it is.
    public func format(_ line: Substring) -> String {
        guard readable, let fields = Self.fields(line) else { return String(line) }
        let time = fields["time"] ?? "-"
        let level = (fields["level"] ?? "info").uppercased()
        let message = fields["message"] ?? ""
        let extras = fields.keys.filter { !["time", "level", "message", "logger"].contains($0) }.sorted()
            .map { key in "\(key)=\(Self.quoted(fields[key] ?? ""))" }
        return ([time, level.padding(toLength: max(5, level.count), withPad: " ", startingAt: 0), message] + extras).joined(separator: " ")
    }

    /// The string fields of a JSON log line, or nil for a line that is not one.
    static func fields(_ line: Substring) -> [String: String]? {
        guard line.first == "{", let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
        return object.mapValues { "\($0)" }
    }

    /// A metadata value as `key=value`; quoted (JSON) when it holds a space, quote or `=`.
    static func quoted(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else { return value }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
    }

    /// Keeps the lines at or after `since`, following the times in the JSON lines.
    struct SinceFilter: Sendable {
        var since: Date?
        private var keeping: Bool

        init(since: Date?) {
            self.since = since
            keeping = since == nil
        }

        mutating func keeps(_ line: Substring) -> Bool {
            guard let since else { return true }
            if let text = LogView.fields(line)?["time"], let time = ISO8601DateFormatter().date(from: text) {
                keeping = time >= since
            }
            return keeping
        }
    }
}

/// Reading a release's log on a host.
public enum FleetLogs {
    /// The remote command: the last `lines` of the log of the release `current` points at, and
    /// with `follow` whatever it writes next (`tail -F` keeps reading across a rename or a
    /// truncation) until the command's input ends: then the client is gone, and the `tail`
    /// must not outlive it (without a terminal nothing else tells it). Paths are the shell's
    /// `$1` and `$2`, never spliced into the script.
    public static func command(_ layout: ReleaseLayout, lines: Int, follow: Bool) -> [String] {
        let find = #"v=$(readlink -- "$1") || { echo "no release is current ($1 is missing)" >&2; exit 3; }; f="$2/${v##*/}.log"; "#
        let read = follow ? #"tail -n "$3" -F -- "$f" & t=$!; cat > /dev/null; kill "$t""# : #"exec tail -n "$3" -- "$f""#
        return ["sh", "-c", find + read, "emmyops-logs", layout.current, layout.logs, String(max(0, lines))]
    }
}
