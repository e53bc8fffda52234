import Foundation

/// What `emmyops supervise` writes to its state file on every change, and `emmyops status` reads.
public struct SupervisorState: Codable, Sendable, Equatable {
    public enum Phase: String, Codable, Sendable {
        case starting, running, backoff, failed, stopping, stopped
    }

    public enum Health: String, Codable, Sendable {
        case ok, failing, unknown
    }

    /// How the last child ended: an exit code or the signal that killed it.
    public struct Exit: Codable, Sendable, Equatable {
        public var status: ChildExit
        public var at: Date

        public init(_ status: ChildExit, at: Date) {
            self.status = status
            self.at = at
        }

        private enum CodingKeys: String, CodingKey { case code, signal, at }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let signal = try c.decodeIfPresent(Int32.self, forKey: .signal) {
                status = .signal(signal)
            } else {
                status = .code(try c.decode(Int32.self, forKey: .code))
            }
            at = try c.decode(Date.self, forKey: .at)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            switch status {
            case .code(let code): try c.encode(code, forKey: .code)
            case .signal(let signal): try c.encode(signal, forKey: .signal)
            }
            try c.encode(at, forKey: .at)
        }
    }

    public var pid: Int32
    public var childPID: Int32?
    public var state: Phase
    /// Restarts since the supervisor started (crashes and failed health checks, not SIGHUP).
    public var restarts: Int
    public var restartsInWindow: Int
    public var lastExit: Exit?
    public var health: Health
    public var consecutiveHealthFailures: Int
    public var startedAt: Date
    public var version: String

    public init(pid: Int32, startedAt: Date, version: String) {
        self.pid = pid
        childPID = nil
        state = .starting
        restarts = 0
        restartsInWindow = 0
        lastExit = nil
        health = .unknown
        consecutiveHealthFailures = 0
        self.startedAt = startedAt
        self.version = version
    }

    private enum CodingKeys: String, CodingKey {
        case pid, childPID = "child_pid", state, restarts, restartsInWindow = "restarts_in_window", lastExit = "last_exit"
        case health, consecutiveHealthFailures = "consecutive_health_failures", startedAt = "started_at", version
    }

    // Written by hand so absent values appear as `null` rather than missing keys.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pid, forKey: .pid)
        try c.encode(childPID, forKey: .childPID)
        try c.encode(state, forKey: .state)
        try c.encode(restarts, forKey: .restarts)
        try c.encode(restartsInWindow, forKey: .restartsInWindow)
        try c.encode(lastExit, forKey: .lastExit)
        try c.encode(health, forKey: .health)
        try c.encode(consecutiveHealthFailures, forKey: .consecutiveHealthFailures)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(version, forKey: .version)
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> SupervisorState {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(SupervisorState.self, from: data)
    }

    /// Writes the file whole or not at all: a temporary file in the same directory, then
    /// rename(2) over the old one, so a reader never sees half a document.
    public func write(to path: String) throws {
        let temporary = "\(path).tmp-\(getpid())"
        let url = URL(fileURLWithPath: temporary)
        try json().write(to: url)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: url)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: "rename to \(path): \(reason)"])
        }
    }
}

/// How a child process ended.
public enum ChildExit: Sendable, Equatable, CustomStringConvertible {
    case code(Int32)
    case signal(Int32)

    /// Decodes a waitpid(2) status (the WIFEXITED/WTERMSIG macros are not visible from Swift).
    public init(waitStatus status: Int32) {
        let signal = status & 0x7f
        self = signal == 0 ? .code((status >> 8) & 0xff) : .signal(signal)
    }

    public var description: String {
        switch self {
        case .code(let code): "exit code \(code)"
        case .signal(let signal): "signal \(signal)" + (ChildExit.names[signal].map { " (\($0))" } ?? "")
        }
    }

    private static let names: [Int32: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGABRT: "SIGABRT", SIGKILL: "SIGKILL",
        SIGSEGV: "SIGSEGV", SIGTERM: "SIGTERM", SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
    ]
}
