import Foundation

/// Everything `emmyops serve` needs, from the spec's `app` section and the command line.
public struct ServerConfig: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 5000
    public var dataDirectory: String = ".emmy"
    public var defaultRegion: String = "KE"
    /// Same number and text within this window count as a duplicate; 0 turns the check off.
    public var dedupeWindow: TimeInterval = 24 * 3600
    public var limits = Limits()
    public var connections = ConnectionLimits()
    public var rateLimits = RateLimits()
    /// When true, state-changing endpoints need `Authorization: Bearer <token>`.
    public var authRequired = false
    /// Peers whose X-Forwarded-For is believed: by default loopback, where the managed nginx
    /// connects from, so every client behind it does not share one rate-limit bucket.
    public var trustedProxies: Set<String> = ServerConfig.loopback
    public static let loopback: Set<String> = ["127.0.0.1", "::1", "::ffff:127.0.0.1"]
    /// The provider and the worker pool.
    public var sending = SendingConfig()
    /// Where `${SECRET}` references are read from.
    public var environment: [String: String] = ProcessInfo.processInfo.environment
    /// Where users reach the monitoring stack (the spec's `monitoring.*.external_url`), linked
    /// from /monitoring when set: name (Grafana, Prometheus, Alertmanager) → URL.
    public var dashboards: [String: String] = [:]
    /// Prometheus and Alertmanager, read by the monitoring page's charts and alert list.
    public var monitoring = MonitoringBackends()
    /// The engine the data lives in: SQLite under `dataDirectory`, or a shared PostgreSQL.
    public var database: DatabaseChoice = .sqlite

    public init() {}

    public struct Limits: Sendable {
        /// Largest JSON body accepted by POST /messages.
        public var jsonBodyBytes = 64 * 1024 * 1024
        /// Largest upload accepted by POST /upload.
        public var uploadBytes = 512 * 1024 * 1024
        public var contactsPerRequest = 100_000
        public var csvRows = 1_000_000
        /// Widest CSV row; a wider one refuses the file while it streams in (422).
        public var csvColumns = CSVParser.defaultMaxColumns
        /// Longest single field (a name, a company) in bytes.
        public var fieldBytes = 4096
        public var templateCharacters = MessageTemplate.maximumLength
        /// Previews waiting to be sent, kept on disk for an hour: at most this many, and this
        /// many bytes, for all clients together, so previews cannot fill the disk.
        public var drafts = 50
        public var draftBytes: Int64 = 1 << 30
        public init() {}
    }

    /// Token buckets: `count` requests per `period` seconds, per client.
    public struct RateLimits: Sendable {
        public var upload = Rate(count: 5, period: 60)
        public var messages = Rate(count: 1, period: 1)
        /// The web UI's preview: each one spools an upload (or re-reads a draft) to disk.
        public var preview = Rate(count: 20, period: 60)
        public init() {}

        /// The limit for a POST to `route` (as the router names it); nil when it has none.
        func rate(for route: String) -> Rate? {
            switch route {
            case "/upload", "/send": upload
            case "/preview", "/api/preview": preview
            case "/messages": messages
            default: nil
            }
        }
    }

    public struct Rate: Sendable, Hashable, CustomStringConvertible {
        public var count: Int
        public var period: TimeInterval
        public init(count: Int, period: TimeInterval) {
            self.count = count
            self.period = period
        }

        /// Parses `5/minute`, `1/second`, `100/hour` or `10/day`.
        public init?(parsing text: String) {
            let parts = text.split(separator: "/")
            guard parts.count == 2, let count = Int(parts[0].trimmingCharacters(in: .whitespaces)), count > 0 else { return nil }
            let periods: [String: TimeInterval] = ["second": 1, "minute": 60, "hour": 3600, "day": 86_400]
            guard let period = periods[parts[1].trimmingCharacters(in: .whitespaces).lowercased()] else { return nil }
            self.init(count: count, period: period)
        }

        public var description: String {
            let names: [TimeInterval: String] = [1: "second", 60: "minute", 3600: "hour", 86_400: "day"]
            return "\(count)/\(names[period] ?? "\(Int(period))s")"
        }
    }
}
