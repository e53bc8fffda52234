import EmmyApp
import EmmyOpsKit
import Foundation
import Logging
import NIOConcurrencyHelpers

/// The store the spec names, for the commands besides `serve` that read or write EmmyApp's data
/// (`token`): the SQLite file under the data directory, or the spec's PostgreSQL, which every
/// replica shares, so a token made here is one every replica accepts.
enum StoreAccess {
    /// The PostgreSQL password, from its file or the environment; nil for SQLite. It goes to the
    /// engine only, never to a log.
    static func password(for config: ServerConfig) throws -> String? {
        guard case .postgres(let settings) = config.database else { return nil }
        do {
            return try settings.password(environment: ProcessInfo.processInfo.environment)
        } catch {
            throw CommandFailure.environment("app.database: \(error)")
        }
    }

    /// Opens the store of `spec` (with the environment's overrides) for the length of `body`.
    static func with<Result: Sendable>(spec: Spec, dataDirectory: String,
                                       _ body: @Sendable (any AppStore) async throws -> Result) async throws -> Result {
        let app = try ServerEnvironment.current.app(spec.app)
        let config = app.serverConfig(host: "127.0.0.1", port: app.port, dataDirectory: dataDirectory)
        let password = try password(for: config)
        let logger = Logger(label: "emmyops") { _ in SwiftLogNoOpLogHandler() }
        // Set once the store is open, so only its own failures read as "cannot open" (as in serve).
        let opened = NIOLockedValueBox(false)
        do {
            return try await EmmyServer.withStore(config: config, password: password, logger: logger) { store in
                opened.withLockedValue { $0 = true }
                return try await body(store)
            }
        } catch where !opened.withLockedValue({ $0 }) {
            throw CommandFailure.environment("cannot open the database (\(config.database)): \(error)")
        }
    }
}
