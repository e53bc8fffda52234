import EmmyApp

// The `app.database*` keys, whole: their schema, how they are read, their checks, and the
// engine choice they make. The model fields are AppConfig's (`database`, `databaseTLS`,
// `databasePasswordFile`); the password itself never appears in the spec.

extension AppConfig {
    /// The engine `app.database` names: `sqlite`, or PostgreSQL at the DSN with the TLS mode
    /// and password file beside it. Throws what is wrong with the DSN.
    public func databaseChoice() throws(PostgresSettings.DSNError) -> DatabaseChoice {
        guard database != "sqlite" else { return .sqlite }
        return .postgres(try PostgresSettings(dsn: database, tls: databaseTLS, passwordFile: databasePasswordFile))
    }

    /// A variable of `overridingDatabase(from:)` whose value cannot be used.
    public struct DatabaseVariableError: Error, Sendable, CustomStringConvertible {
        public var variable: String
        public var problem: String
        public var description: String { "\(variable): \(problem)" }
    }

    /// This section with EMMY_DATABASE, EMMY_DATABASE_TLS and EMMY_DATABASE_PASSWORD_FILE from
    /// `environment` over its `database*` keys, as the app reads them at start (the rendered
    /// compose file points the app at its own `postgres` service this way); what reads the
    /// app's data beside it must read the same ones to find the same store.
    public func overridingDatabase(from environment: [String: String]) throws(DatabaseVariableError) -> AppConfig {
        var app = self
        if let dsn = environment["EMMY_DATABASE"] { app.database = dsn }
        if let text = environment["EMMY_DATABASE_TLS"] {
            guard let mode = PostgresSettings.TLSMode(rawValue: text) else {
                throw DatabaseVariableError(variable: "EMMY_DATABASE_TLS",
                                            problem: "`\(text)` is not one of \(PostgresSettings.TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            app.databaseTLS = mode
        }
        if let file = environment["EMMY_DATABASE_PASSWORD_FILE"] { app.databasePasswordFile = file }
        do { _ = try app.databaseChoice() } catch { throw DatabaseVariableError(variable: "EMMY_DATABASE", problem: "\(error)") }
        return app
    }
}

// MARK: - Schema

extension SpecSchema {
    static let database = SchemaField("database", .string,
        "`sqlite` (default: one file under the data directory) or `postgres://user@host:5432/db` for replicas sharing one PostgreSQL; never with a password.")
    static let databasePasswordFile = SchemaField("database_password_file", .string,
        "File whose first line is the PostgreSQL password; without it, the \(PostgresSettings.passwordVariable) environment variable.")
    static let databaseTLS = SchemaField("database_tls", .enumeration(PostgresSettings.TLSMode.allCases.map(\.rawValue)),
        "TLS to PostgreSQL, as libpq's sslmode (default \(AppConfig().databaseTLS.rawValue)); only verify-full checks the certificate.")
}

// MARK: - Reading

extension SpecBuilder {
    func database(_ node: CheckedNode?, into app: inout AppConfig) {
        set(&app.database, R.string(R.value(node, "database")))
        app.databasePasswordFile = R.string(R.value(node, "database_password_file"))
        set(&app.databaseTLS, R.string(R.value(node, "database_tls")).flatMap(PostgresSettings.TLSMode.init(rawValue:)))
    }
}

// MARK: - Validation

extension SpecValidation {
    /// A DSN that cannot be used, or that carries the password, is refused at its line.
    static func validateDatabase(_ app: AppConfig, error: (String, String, String?) -> Void) {
        do {
            _ = try app.databaseChoice()
        } catch .password {
            error("app.database", PostgresSettings.DSNError.password.description,
                  "remove it from the URL; put it in app.database_password_file or \(PostgresSettings.passwordVariable)")
        } catch let problem {
            error("app.database", problem.description, "write `sqlite` or `postgres://user@host:5432/db`")
        }
    }
}
