import EmmyApp

/// How a monitoring host starts postgres_exporter for the spec's database: its arguments and
/// the environment it reads the connection from, built from the settings alone so a test can
/// run the real exporter with exactly what `deploy --monitoring` runs.
///
/// The password is only ever a file name here (`DATA_SOURCE_PASS_FILE`): the exporter reads
/// the file itself, so the password is in no argument, environment value or log line.
public struct PostgresExporterLaunch: Sendable, Hashable {
    public var arguments: [String]
    /// Added to the environment the exporter starts with.
    public var environment: [String: String]

    /// `listen` is the fleet endpoint Prometheus scrapes (FleetTopology); `passwordFile` the
    /// file whose first line is the password, nil to connect without one.
    public init(settings: PostgresSettings, listen: String, passwordFile: String?) {
        arguments = ["--web.listen-address=\(listen)"]
        environment = [
            "DATA_SOURCE_URI": "\(HostPort.join(settings.host, settings.port))/\(settings.database)?sslmode=\(Self.sslmode(settings.tls))",
            "DATA_SOURCE_USER": settings.user,
        ]
        if let passwordFile { environment["DATA_SOURCE_PASS_FILE"] = passwordFile }
    }

    /// The exporter's driver (Go's lib/pq) knows no `prefer`: it gets `require`, which still
    /// encrypts; against a server without TLS `pg_up` says 0 and the exporter's log says why,
    /// where falling back to plain text would hide it.
    static func sslmode(_ tls: PostgresSettings.TLSMode) -> String {
        switch tls {
        case .prefer: PostgresSettings.TLSMode.require.rawValue
        default: tls.rawValue
        }
    }
}
