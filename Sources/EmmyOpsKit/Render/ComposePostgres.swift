import EmmyApp

/// What compose adds when `app.database` is a postgres:// URL: a PostgreSQL 15 service the app
/// waits for, and postgres_exporter beside Prometheus.
///
/// The database's user and name are the spec's; its host inside compose is the `postgres`
/// service, published on loopback only at the spec's port so `psql` on the machine reaches it.
/// The password is one compose secret file, mounted into the three services that need it: it is
/// never in the rendering, the environment or a command line.
struct ComposePostgres {
    static let service = "postgres"
    static let exporterService = "postgres-exporter"
    static let image = "postgres:15.10-bookworm"
    /// Where PostgreSQL listens inside its container.
    static let containerPort = 5432
    static let exporterImage = "quay.io/prometheuscommunity/postgres-exporter:v0.15.0"
    static let volume = "postgres-data"
    static let secret = "database_password"
    static let secretPath = "/run/secrets/\(secret)"
    /// The file under ./secrets/ holding the password, named like the variable the app reads.
    static let secretFile = PostgresSettings.passwordVariable

    let settings: PostgresSettings
    let bind: String

    /// nil when the spec keeps the embedded SQLite engine.
    init?(_ spec: Spec) {
        guard let settings = spec.app.postgres else { return nil }
        self.settings = settings
        bind = spec.monitoring.bindAddress
    }

    /// The DSN the app uses inside compose: the spec's user and database on the `postgres`
    /// service. TLS is off because the traffic never leaves the compose network.
    var appDSN: String { PostgresSettings(user: settings.user, host: Self.service, port: Self.containerPort, database: settings.database).dsn }

    /// `EMMY_DATABASE*` variables `serve` reads over the spec's `app.database*`.
    var appEnvironment: [YAMLValue] {
        [.string("EMMY_DATABASE=\(appDSN)"), .string("EMMY_DATABASE_TLS=\(PostgresSettings.TLSMode.disable.rawValue)"),
         .string("EMMY_DATABASE_PASSWORD_FILE=\(Self.secretPath)")]
    }

    /// The app starts only once PostgreSQL answers.
    var appDependency: YAMLValue { .object((Self.service, .object(("condition", "service_healthy")))) }

    func services() -> [YAMLValue.Pair] {
        let port = Self.containerPort
        return [
            .init(Self.service, .object(
                ("image", .string(Self.image)),
                ("environment", .strings(["POSTGRES_USER=\(settings.user)", "POSTGRES_DB=\(settings.database)",
                                          "POSTGRES_PASSWORD_FILE=\(Self.secretPath)"])),
                ("secrets", .strings([Self.secret])),
                ("ports", .strings(["127.0.0.1:\(settings.port):\(port)"])),
                ("volumes", .strings(["\(Self.volume):/var/lib/postgresql/data"])),
                ("healthcheck", .object(
                    ("test", .strings(["CMD", "pg_isready", "-h", "127.0.0.1", "-p", "\(port)", "-U", settings.user, "-d", settings.database])),
                    ("interval", "5s"), ("timeout", "5s"), ("retries", .int(12)))),
                ("restart", "unless-stopped")
            )),
            .init(Self.exporterService, .object(
                ("image", .string(Self.exporterImage)),
                ("environment", .strings(["DATA_SOURCE_URI=\(Self.service):\(port)/\(settings.database)?sslmode=disable",
                                          "DATA_SOURCE_USER=\(settings.user)", "DATA_SOURCE_PASS_FILE=\(Self.secretPath)"])),
                ("command", .strings(["--web.listen-address=:\(PostgresExporter.port)"])),
                ("secrets", .strings([Self.secret])),
                ("ports", .strings(["\(bind):\(PostgresExporter.port):\(PostgresExporter.port)"])),
                ("healthcheck", .object(
                    ("test", .strings(["CMD", "wget", "-q", "--spider", "http://127.0.0.1:\(PostgresExporter.port)/metrics"])),
                    ("interval", "10s"), ("timeout", "5s"), ("retries", .int(3)))),
                ("depends_on", appDependency),
                ("restart", "unless-stopped")
            )),
        ]
    }
}
