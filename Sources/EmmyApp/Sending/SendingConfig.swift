import Foundation

/// How EmmyApp sends: the provider's settings (`app.provider`) and the worker pool's
/// (`app.sending`). Secrets stay `${NAME}` references until `resolve` reads them at start.
public struct SendingConfig: Sendable, Hashable {
    public var provider: ProviderKind = .log
    /// Workers sending at the same time.
    public var workers = 8
    /// Attempts per message before it is marked failed.
    public var maxAttempts = 8
    /// A message still unsent this long after it was queued is marked failed.
    public var maxAgeSeconds: Double = 24 * 3600
    /// Segments per second per sender across all workers; 0 turns the throttle off.
    public var segmentsPerSecond: Double = 0
    /// First retry waits up to this long; each later one up to twice as long (full jitter).
    public var backoffBaseSeconds: Double = 1
    /// No retry waits longer than this (unless the provider's Retry-After says so).
    public var backoffMaxSeconds: Double = 300
    /// Public base URL of this server (`https://sms.example.com`): Twilio's StatusCallback and
    /// the URL its signatures are computed over.
    public var publicURL: String?
    /// Timeout of one provider request.
    public var requestTimeoutSeconds: Double = 30

    public var log = Log()
    public var twilio = Twilio()
    public var webhook = Webhook()

    public init() {}

    public struct Log: Sendable, Hashable {
        /// JSON-lines file; relative paths are under the data directory.
        public var path = "sent.jsonl"
        public init() {}
    }

    public struct Twilio: Sendable, Hashable {
        public var accountSID: ConfigValue = .secret(name: "TWILIO_ACCOUNT_SID")
        public var authToken: ConfigValue = .secret(name: "TWILIO_AUTH_TOKEN")
        /// Sender number (E.164) or messaging service SID (`MG…`).
        public var from = ""
        public var baseURL = "https://api.twilio.com"
        public init() {}
    }

    public struct Webhook: Sendable, Hashable {
        public var url = ""
        public var secret: ConfigValue = .secret(name: "EMMY_WEBHOOK_SECRET")
        public init() {}
    }

    /// The sender the throttle keys on.
    public var sender: String {
        switch provider {
        case .log: "log"
        case .twilio: twilio.from
        case .webhook: webhook.url
        }
    }
}

/// A missing or unusable sending setting, found when the server starts.
public struct SendingConfigError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

extension ConfigValue {
    /// The value itself: a literal, or the named environment variable (which must be set).
    public func resolve(in environment: [String: String]) throws -> String {
        switch self {
        case .literal(let text): return text
        case .secret(let name):
            guard let value = environment[name], !value.isEmpty else {
                throw SendingConfigError(description: "environment variable \(name) is not set")
            }
            return value
        }
    }
}
