import EmmyApp

/// How EmmyApp runs on a host: the emmyops binary under `emmyops supervise`, or a container.
public enum AppRuntime: String, Sendable, Codable, CaseIterable {
    case native, docker
}

/// The `app:` section of emmy.yaml: how EmmyApp is deployed (runtime, image, environment,
/// secrets) and served. The server itself receives only `serverConfig(…)`; the defaults of
/// what it uses are `ServerConfig`'s, read here rather than written again.
public struct AppConfig: Sendable, Hashable {
    public var name: String
    public var port: Int
    public var runtime: AppRuntime
    public var image: String
    public var healthPath: String
    public var readyPath: String
    public var metricsPath: String
    public var defaultRegion: String
    public var provider: ProviderKind
    /// Plain environment for the app; values may be secret references.
    public var env: [String: ConfigValue]
    /// Names of secrets the app reads from its environment (never their values).
    public var secrets: [String]
    /// Requests per period per client: `upload`, `messages`.
    public var rateLimits: [String: ServerConfig.Rate]
    /// Require bearer tokens on state-changing endpoints.
    public var authRequired: Bool
    /// Proxies whose X-Forwarded-For header is believed.
    public var trustedProxies: [String]
    /// Seconds within which the same text to the same number is a duplicate; 0 disables.
    public var dedupeWindowSeconds: Double
    /// Provider settings (`app.provider`) and the worker pool (`app.sending`); `provider`
    /// above is the kind, copied in by `serverConfig`.
    public var sending: SendingConfig

    public init(
        name: String = "sms-api",
        port: Int = AppConfig.serverDefaults.port,
        runtime: AppRuntime = .native,
        image: String = "ghcr.io/emmyops/emmyops:latest",
        healthPath: String = "/health",
        readyPath: String = "/ready",
        metricsPath: String = "/metrics",
        defaultRegion: String = AppConfig.serverDefaults.defaultRegion,
        provider: ProviderKind = .log,
        env: [String: ConfigValue] = [:],
        secrets: [String] = [],
        rateLimits: [String: ServerConfig.Rate] = ["upload": AppConfig.serverDefaults.rateLimits.upload, "messages": AppConfig.serverDefaults.rateLimits.messages],
        authRequired: Bool = AppConfig.serverDefaults.authRequired,
        trustedProxies: [String] = AppConfig.serverDefaults.trustedProxies.sorted(),
        dedupeWindowSeconds: Double = AppConfig.serverDefaults.dedupeWindow,
        sending: SendingConfig = SendingConfig()
    ) {
        self.name = name
        self.port = port
        self.runtime = runtime
        self.image = image
        self.healthPath = healthPath
        self.readyPath = readyPath
        self.metricsPath = metricsPath
        self.defaultRegion = defaultRegion
        self.provider = provider
        self.env = env
        self.secrets = secrets
        self.rateLimits = rateLimits
        self.authRequired = authRequired
        self.trustedProxies = trustedProxies
        self.dedupeWindowSeconds = dedupeWindowSeconds
        self.sending = sending
    }

    /// The server's own defaults.
    public static let serverDefaults = ServerConfig()

    /// The server settings this section implies; the command line adds host, port and data dir.
    public func serverConfig(host: String, port: Int? = nil, dataDirectory: String) -> ServerConfig {
        var config = ServerConfig()
        config.host = host
        config.port = port ?? self.port
        config.dataDirectory = dataDirectory
        config.defaultRegion = defaultRegion
        config.dedupeWindow = dedupeWindowSeconds
        config.authRequired = authRequired
        config.trustedProxies = Set(trustedProxies)
        if let upload = rateLimits["upload"] { config.rateLimits.upload = upload }
        if let messages = rateLimits["messages"] { config.rateLimits.messages = messages }
        config.sending = sending
        config.sending.provider = provider
        return config
    }
}
