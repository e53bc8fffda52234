import EmmyApp
import Foundation

/// One line of `<root>/shared/audit.log`: who moved a host from which release to which.
public struct AuditEntry: Codable, Sendable, Hashable {
    public var who: String
    /// ISO 8601, UTC.
    public var when: String
    public var host: String
    public var from: String?
    public var to: String
    /// deploy | rollback | secrets
    public var action: String
    /// ok | failed
    public var result: String
    public var durationS: Double
    public var reason: String?
    /// For `secrets`: the names of the secrets written (never their values).
    public var keys: [String]?

    enum CodingKeys: String, CodingKey {
        case who, when, host, from, to, action, result, reason, keys
        case durationS = "duration_s"
    }

    public init(who: String, when: Date, host: String, from: String?, to: String, action: String, result: String,
                durationS: Double, reason: String? = nil, keys: [String]? = nil) {
        self.who = who
        self.when = DateText.iso8601(when)
        self.host = host
        self.from = from
        self.to = to
        self.action = action
        self.result = result
        self.durationS = (durationS * 1000).rounded() / 1000
        self.reason = reason
        self.keys = keys
    }
}

/// Appends and reads JSON lines. Appends are one `write` of one line with O_APPEND, so
/// concurrent writers never interleave within a line.
public enum AuditLog {
    public static func append(_ entry: some Encodable, to path: String) throws {
        let line = try encode(entry)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(fd) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }

    /// One line of the log, newline included.
    public static func encode(_ entry: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(entry)
        line.append(0x0A)
        return line
    }

    /// Every readable entry, oldest first; a torn or foreign line is skipped.
    public static func read(_ path: String) -> [AuditEntry] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return parse(text)
    }

    /// The entries of a log's text; torn or foreign lines are skipped.
    public static func parse(_ text: String) -> [AuditEntry] {
        text.split(separator: "\n").compactMap { try? JSONDecoder().decode(AuditEntry.self, from: Data($0.utf8)) }
    }
}
