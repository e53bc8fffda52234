/// postgres_exporter, which Prometheus scrapes when the app keeps its data in PostgreSQL. The
/// app's own `emmy_database_up` says whether the app reaches its database; the exporter says how
/// the server itself is (`pg_up`, connections, locks), whichever host or compose service runs it.
public enum PostgresExporter {
    public static let job = "postgres_exporter"
    /// postgres_exporter's default listen port.
    public static let port = 9187

    /// Whether the spec's app uses PostgreSQL, so the exporter is part of what is scraped.
    public static func enabled(_ spec: Spec) -> Bool { spec.app.postgres != nil }
}
