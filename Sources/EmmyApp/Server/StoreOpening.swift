import Foundation
import Logging

extension EmmyServer {
    /// Opens the engine `config.database` names for the duration of `body`: the SQLite file
    /// under the data directory, or a pool of connections to PostgreSQL, migrated (once for
    /// all replicas) before `body` runs and shut down however `body` ends. `password` is the
    /// PostgreSQL one, read by the caller from its file or the environment; it goes to the
    /// server only, never to a log.
    public static func withStore<Result: Sendable>(config: ServerConfig, password: String?, logger: Logger,
                                                   _ body: @Sendable (any AppStore) async throws -> Result) async throws -> Result {
        switch config.database {
        case .sqlite:
            return try await body(try AppDatabase.open(directory: config.dataDirectory))
        case .postgres(let settings):
            return try await PostgresEngine.withRunning(settings: settings, password: password, logger: logger) { engine in
                try await body(PostgresStore(engine: engine))
            }
        }
    }
}
