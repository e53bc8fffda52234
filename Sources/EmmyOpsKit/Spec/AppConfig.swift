import EmmyApp
import Yams

// The `app:` section, whole: the model, its schema (defaults read off the model), how it is read
// from the YAML tree, and its checks. A new key is added here and nowhere else; `app.provider`
// and `app.sending` are in SendingConfig+Spec.swift.

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
    /// `sqlite` or a PostgreSQL DSN without password (AppDatabaseSpec.swift).
    public var database = "sqlite"
    public var databaseTLS: PostgresSettings.TLSMode = .prefer
    public var databasePasswordFile: String?

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
        // Validation refuses a DSN that does not parse, so a loaded spec never falls back here.
        config.database = (try? databaseChoice()) ?? .sqlite
        return config
    }
}

// MARK: - Schema

extension SpecSchema {
    static let app = SchemaField("app", .object([
        SchemaField("name", .string, "Service name; also the Prometheus job and the `service` alert label."),
        SchemaField("port", .port, "Port EmmyApp listens on (default \(AppConfig().port))."),
        SchemaField("runtime", .enumeration(AppRuntime.allCases.map(\.rawValue)), "native: emmyops binary under `emmyops supervise`; docker: a container."),
        SchemaField("image", .string, "Container image for the docker runtime."),
        SchemaField("health_path", .string, "Liveness path (default \(AppConfig().healthPath))."),
        SchemaField("ready_path", .string, "Readiness path (default \(AppConfig().readyPath))."),
        SchemaField("metrics_path", .string, "Prometheus exposition path (default \(AppConfig().metricsPath))."),
        SchemaField("default_region", .string, "ISO region used for numbers written without +country code (default \(AppConfig().defaultRegion))."),
        provider,
        sending,
        SchemaField("env", .map(.secretOrString), "Extra environment for the app; values may be ${SECRET} references."),
        SchemaField("secrets", .list(.string), "Names of secrets the app reads from its environment; values are never rendered."),
        SchemaField("rate_limits", .object([
            SchemaField("upload", .rate, "Uploads per client, e.g. 5/minute (default)."),
            SchemaField("messages", .rate, "JSON batches per client, e.g. 1/second (default)."),
        ]), "Token-bucket limits per client; /metrics, /health and /ready are never limited."),
        SchemaField("auth", .boolean, "Require `Authorization: Bearer` tokens (emmyops token create) on state-changing endpoints."),
        SchemaField("trusted_proxies", .list(.string), "Peer addresses whose X-Forwarded-For is believed."),
        SchemaField("dedupe_window", .duration, "The same text to the same number within this window is a duplicate (default \(Int(AppConfig().dedupeWindowSeconds / 3600))h; 0s disables)."),
        database, databasePasswordFile, databaseTLS,
    ]), "The SMS server.")
}

// MARK: - Reading

extension SpecBuilder {
    func app(_ node: CheckedNode?) -> AppConfig {
        var app = AppConfig()
        set(&app.name, R.string(R.value(node, "name")))
        set(&app.port, port(R.value(node, "port")))
        set(&app.runtime, R.string(R.value(node, "runtime")).flatMap(AppRuntime.init(rawValue:)))
        set(&app.image, R.string(R.value(node, "image")))
        set(&app.healthPath, R.string(R.value(node, "health_path")))
        set(&app.readyPath, R.string(R.value(node, "ready_path")))
        set(&app.metricsPath, R.string(R.value(node, "metrics_path")))
        set(&app.defaultRegion, R.string(R.value(node, "default_region")))
        set(&app.provider, R.string(R.value(R.value(node, "provider"), "kind")).flatMap(ProviderKind.init(rawValue:)))
        for (key, value) in R.pairs(R.value(node, "env")) {
            if let text = R.string(value) { app.env[key] = ConfigValue(parsing: text) }
        }
        set(&app.secrets, strings(R.value(node, "secrets")))
        for (key, value) in R.pairs(R.value(node, "rate_limits")) {
            if let rate = R.string(value).flatMap(ServerConfig.Rate.init(parsing:)) { app.rateLimits[key] = rate }
        }
        set(&app.authRequired, R.bool(R.value(node, "auth")))
        set(&app.trustedProxies, strings(R.value(node, "trusted_proxies")))
        set(&app.dedupeWindowSeconds, duration(R.value(node, "dedupe_window")).map(\.seconds))
        app.sending = sending(provider: R.value(node, "provider"), sending: R.value(node, "sending"))
        database(node, into: &app)
        return app
    }
}

// MARK: - Validation

extension SpecValidation {
    /// A name Prometheus takes as a job name, and paths that are paths.
    static func validateApp(_ spec: Spec, error: (String, String, String?) -> Void) {
        if !isLabelValue(spec.app.name) {
            error("app.name", "`\(spec.app.name)` cannot be a Prometheus job name", "use letters, digits, `-` and `_`")
        }
        for (index, path) in [spec.app.healthPath, spec.app.readyPath, spec.app.metricsPath].enumerated() where !path.hasPrefix("/") {
            error("app." + ["health_path", "ready_path", "metrics_path"][index], "`\(path)` must start with `/`", nil)
        }
        validateDatabase(spec.app, error: error)
    }

    /// Secret names that can be environment variables. (Checked last, after the other
    /// sections, as it always was.)
    static func validateAppSecrets(_ spec: Spec, error: (String, String, String?) -> Void) {
        for (index, name) in spec.app.secrets.enumerated() where ConfigValue.secretName(in: "${\(name)}") == nil {
            error("app.secrets[\(index)]", "`\(name)` is not a valid environment variable name", nil)
        }
    }
}
