import Foundation

/// Which engine holds EmmyApp's data: the embedded SQLite file (one host, needs nothing) or a
/// PostgreSQL server that several replicas share.
public enum DatabaseChoice: Sendable, Hashable, CustomStringConvertible {
    case sqlite
    case postgres(PostgresSettings)

    /// What the spec writes: `sqlite` or the DSN (never with a password).
    public var description: String {
        switch self {
        case .sqlite: "sqlite"
        case .postgres(let settings): settings.dsn
        }
    }
}

/// Where a PostgreSQL server is and how to reach it. The password is not part of it: it is
/// read at start from `passwordFile` or the environment, so it is never in the spec, a
/// rendering or a log line that prints these settings.
public struct PostgresSettings: Sendable, Hashable {
    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode
    /// A file whose first line is the password; without it, `EMMY_DATABASE_PASSWORD`.
    public var passwordFile: String?

    /// The environment variable the password is read from when no file is given.
    public static let passwordVariable = "EMMY_DATABASE_PASSWORD"

    public init(user: String, host: String, port: Int = 5432, database: String, tls: TLSMode = .prefer, passwordFile: String? = nil) {
        self.user = user
        self.host = host
        self.port = port
        self.database = database
        self.tls = tls
        self.passwordFile = passwordFile
    }

    /// libpq's `sslmode` words, with libpq's meaning: `prefer` and `require` encrypt without
    /// checking the certificate, `verify-full` checks it and the host name.
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    /// Why a DSN was refused; the spec reports it at the value's line and column.
    public enum DSNError: Error, Sendable, Hashable, CustomStringConvertible {
        /// Not `postgres://` or `postgresql://`.
        case scheme(String)
        /// The DSN carries a password, which belongs in a secret file or the environment.
        case password
        /// A part the server cannot be reached without (user, host, database) is missing.
        case missing(String)
        case port(String)
        /// Query parameters (`?sslmode=…`): settings have their own keys.
        case parameters

        public var description: String {
            switch self {
            case .scheme(let scheme): "`\(scheme)` is neither `sqlite` nor a postgres:// URL"
            case .password: "the database URL carries a password; it must not be written in the spec"
            case .missing(let part): "the database URL has no \(part)"
            case .port(let port): "`\(port)` is not a port"
            case .parameters: "the database URL has query parameters; write TLS as app.database_tls"
            }
        }
    }

    /// Parses `postgres://user@host:5432/database`.
    public init(dsn text: String, tls: TLSMode = .prefer, passwordFile: String? = nil) throws(DSNError) {
        guard let schemeEnd = text.range(of: "://") else { throw .scheme(text) }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else { throw .scheme(String(scheme)) }
        let rest = text[schemeEnd.upperBound...]
        guard !rest.contains("?"), !rest.contains("#") else { throw .parameters }
        guard let at = rest.lastIndex(of: "@") else { throw .missing("user (postgres://USER@host/db)") }
        let userInfo = rest[..<at]
        guard !userInfo.contains(":") else { throw .password }
        let user = userInfo.removingPercentEncoding ?? String(userInfo)
        guard !user.isEmpty else { throw .missing("user (postgres://USER@host/db)") }
        let location = rest[rest.index(after: at)...]
        let (authority, path) = location.firstIndex(of: "/").map { (location[..<$0], location[location.index(after: $0)...]) } ?? (location, "")
        let database = path.removingPercentEncoding ?? String(path)
        guard !database.isEmpty, !database.contains("/") else { throw .missing("database name (postgres://user@host/DB)") }
        var host = String(authority)
        var port = 5432
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            let portText = authority[authority.index(after: colon)...]
            guard let value = Int(portText), (1...65535).contains(value) else { throw .port(String(portText)) }
            port = value
            host = String(authority[..<colon])
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw .missing("host") }
        self.init(user: user, host: host, port: port, database: database, tls: tls, passwordFile: passwordFile)
    }

    /// The DSN back, as the spec writes it.
    public var dsn: String {
        let hostText = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(hostText):\(port)/\(database)"
    }

    public struct PasswordError: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot read the database password from \(path): \(reason)" }
    }

    /// The password: the first line of `passwordFile` when set, else the environment
    /// variable, else nil (trust or peer authentication).
    public func password(environment: [String: String]) throws(PasswordError) -> String? {
        guard let passwordFile else { return environment[Self.passwordVariable] }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: passwordFile)) } catch {
            throw PasswordError(path: passwordFile, reason: (error as NSError).localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else { throw PasswordError(path: passwordFile, reason: "not UTF-8") }
        // "\r\n" is one Character, a newline like "\n".
        let password = text.split(maxSplits: 1, omittingEmptySubsequences: false, whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard !password.isEmpty else { throw PasswordError(path: passwordFile, reason: "the file is empty") }
        return password
    }
}
