import Foundation

/// One message as handed to a provider.
public struct OutgoingMessage: Sendable, Hashable {
    public var id: Int64
    public var to: String
    public var body: String
    public var segments: Int
    /// When it was queued; a provider lookup ignores anything older.
    public var queuedAt: Date

    public init(id: Int64, to: String, body: String, segments: Int, queuedAt: Date) {
        self.id = id
        self.to = to
        self.body = body
        self.segments = segments
        self.queuedAt = queuedAt
    }

    /// Stable across attempts and restarts, so a provider that honours it drops a resend.
    public var idempotencyKey: String { "emmy-\(id)" }
}

/// What one send attempt came to.
public enum SendResult: Sendable, Equatable {
    /// The provider took the message; `status` is how far it says it got (sent or delivered).
    case accepted(providerID: String, status: MessageStatus)
    /// Try again later (429, 5xx, connection errors). `ambiguous` means the request may have
    /// reached the provider (a timeout after sending), so look it up before resending.
    case retryable(code: String, reason: String, retryAfter: Double?, ambiguous: Bool)
    /// Never retry (invalid number, opted out, …).
    case permanent(code: String, reason: String)
}

/// A message the provider already has, found by `lookup`.
public struct ProviderMessage: Sendable, Equatable {
    public var providerID: String
    public var status: MessageStatus
}

/// Where messages go. Implementations never throw from `send`: every failure is a result.
public protocol SMSProvider: Sendable {
    /// The `provider` label on metrics.
    var name: String { get }
    func send(_ message: OutgoingMessage) async -> SendResult
    /// Asks the provider whether it already accepted this message (after a crash or a
    /// timeout); nil when it did not, or when the provider cannot be asked.
    func lookup(_ message: OutgoingMessage) async throws -> ProviderMessage?
    func shutdown() async
}

extension SMSProvider {
    public func lookup(_ message: OutgoingMessage) async throws -> ProviderMessage? { nil }
    public func shutdown() async {}
}
