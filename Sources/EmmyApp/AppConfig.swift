/// How EmmyApp runs on a host: the emmyops binary under `emmyops supervise`, or a container.
public enum AppRuntime: String, Sendable, Codable, CaseIterable {
    case native, docker
}

/// Which provider EmmyApp sends through.
public enum ProviderKind: String, Sendable, Codable, CaseIterable {
    case log, twilio, webhook
}

/// A value that is either written in the spec or names a secret to read at run time.
///
/// `${TWILIO_AUTH_TOKEN}` stays a reference everywhere: renderings point at an environment
/// variable or a file named after it, never at its value.
public enum ConfigValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case literal(String)
    case secret(name: String)

    /// Parses `${NAME}` as a secret reference and anything else as a literal.
    public init(parsing text: String) {
        if let name = ConfigValue.secretName(in: text) {
            self = .secret(name: name)
        } else {
            self = .literal(text)
        }
    }

    /// The variable name inside `${NAME}`, when the whole text is one such reference.
    public static func secretName(in text: String) -> String? {
        guard text.hasPrefix("${"), text.hasSuffix("}"), text.count > 3 else { return nil }
        let name = text.dropFirst(2).dropLast()
        let valid = name.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } ?? false
            && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        return valid ? String(name) : nil
    }

    public var description: String {
        switch self {
        case .literal(let text): text
        case .secret(let name): "${\(name)}"
        }
    }
}

/// The `app:` section of emmy.yaml: what EmmyApp needs to run.
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
    /// Proxies whose X-Forwarded-For header is believed; loopback by default, where the
    /// managed nginx (Templates/nginx) connects from.
    public var trustedProxies: [String]
    /// Seconds within which the same text to the same number is a duplicate; 0 disables.
    public var dedupeWindowSeconds: Double
    /// Provider settings (`app.provider`) and the worker pool (`app.sending`); `provider`
    /// above is the kind, copied in by `serverConfig`.
    public var sending: SendingConfig

    public init(
        name: String = "sms-api",
        port: Int = 5000,
        runtime: AppRuntime = .native,
        image: String = "ghcr.io/emmyops/emmyops:latest",
        healthPath: String = "/health",
        readyPath: String = "/ready",
        metricsPath: String = "/metrics",
        defaultRegion: String = "KE",
        provider: ProviderKind = .log,
        env: [String: ConfigValue] = [:],
        secrets: [String] = [],
        rateLimits: [String: ServerConfig.Rate] = ["upload": .init(count: 5, period: 60), "messages": .init(count: 1, period: 1)],
        authRequired: Bool = false,
        trustedProxies: [String] = ServerConfig.loopback.sorted(),
        dedupeWindowSeconds: Double = 86_400,
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
