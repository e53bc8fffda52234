import Foundation

/// The per-host switch that stops sending without stopping the app: a marker file in the data
/// directory. While it exists the send workers claim nothing, so every message stays in the
/// queue (uploads are still accepted) until it is removed. A file, not a setting or an API
/// call, because it must survive restarts and deploys (the data directory is shared by every
/// release), and because `emmyops incident pause-sending` flips it from another process, on
/// the host or over SSH, without a token for the app's API.
public struct SendingPause: Sendable {
    public static let fileName = "sending-paused.json"

    /// Who paused sending, when and why: what the runbook tells an operator to read first.
    public struct Marker: Codable, Sendable, Equatable {
        public var reason: String
        public var who: String
        /// ISO 8601, UTC.
        public var since: String

        public init(reason: String, who: String, since: String) {
            self.reason = reason
            self.who = who
            self.since = since
        }
    }

    public let path: String

    public init(dataDirectory: String) {
        path = (dataDirectory as NSString).appendingPathComponent(Self.fileName)
    }

    /// One stat: cheap enough for the workers to ask before every message they hand out.
    public var isPaused: Bool { FileManager.default.fileExists(atPath: path) }

    /// The marker, when paused; a marker that cannot be read still means paused (reason unknown).
    public func marker() -> Marker? {
        guard isPaused else { return nil }
        guard let data = FileManager.default.contents(atPath: path), let marker = try? JSONDecoder().decode(Marker.self, from: data) else {
            return Marker(reason: "unreadable \(Self.fileName)", who: "unknown", since: "unknown")
        }
        return marker
    }

    /// Pauses (or updates the reason of a pause). Written whole, then renamed into place.
    public func pause(_ marker: Marker) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try (encoder.encode(marker) + Data("\n".utf8)).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Resumes; false when sending was not paused.
    @discardableResult
    public func resume() throws -> Bool {
        guard isPaused else { return false }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch where !isPaused {
            return false  // someone else resumed it meanwhile
        }
        return true
    }
}
