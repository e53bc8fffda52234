import EmmyApp
import EmmyOpsKit
import Foundation

/// EMMY_HOST, EMMY_PORT and EMMY_DATA_DIR, and the defaults when neither a flag nor the
/// environment gives one: the one reading of them for serve, up, supervise, token and status,
/// so the supervisor probes the port its child binds and `status` finds its state file.
struct ServerEnvironment {
    static let defaultHost = "127.0.0.1"
    static let defaultDataDirectory = ".emmy"

    var variables: [String: String]

    static var current: ServerEnvironment { ServerEnvironment(variables: ProcessInfo.processInfo.environment) }

    func host(_ flag: String?) -> String { flag ?? variables["EMMY_HOST"] ?? Self.defaultHost }

    /// The flag, else EMMY_PORT, else the spec's `app.port`.
    func port(_ flag: Int?, spec: Spec) -> Int { flag ?? variables["EMMY_PORT"].flatMap(Int.init) ?? spec.app.port }

    func dataDirectory(_ flag: String? = nil) -> String { flag ?? variables["EMMY_DATA_DIR"] ?? Self.defaultDataDirectory }

    /// The spec's `app` section with EMMY_DATABASE* over its `database*` keys
    /// (`AppConfig.overridingDatabase`). A bad value stops the start (exit 2).
    func app(_ app: AppConfig) throws -> AppConfig {
        do { return try app.overridingDatabase(from: variables) } catch { throw CommandFailure.environment("\(error)") }
    }
}
