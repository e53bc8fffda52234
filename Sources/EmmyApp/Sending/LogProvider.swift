import Foundation

/// The sandbox provider: appends one JSON line per message to a file and reports it
/// delivered. Nothing leaves the machine.
public actor LogProvider: SMSProvider {
    public nonisolated let name = "log"
    private let handle: FileHandle
    private let encoder: JSONEncoder

    public init(path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw SendingConfigError(description: "cannot create the send log \(path)")
            }
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    struct Line: Encodable {
        var id: Int64
        var idempotency_key: String
        var to: String
        var body: String
        var segments: Int
        var sent_at: Double
    }

    public func send(_ message: OutgoingMessage) async -> SendResult {
        let line = Line(id: message.id, idempotency_key: message.idempotencyKey, to: message.to, body: message.body,
                        segments: message.segments, sent_at: Date().timeIntervalSince1970)
        do {
            var data = try encoder.encode(line)
            data.append(0x0A)
            try handle.write(contentsOf: data)
            return .accepted(providerID: message.idempotencyKey, status: .delivered)
        } catch {
            return .retryable(code: "log_write", reason: "cannot append to the send log: \(error)", retryAfter: nil, ambiguous: false)
        }
    }

    public func shutdown() async {
        try? handle.close()
    }
}
