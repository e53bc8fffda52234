import Foundation
import Hummingbird
import NIOCore
import Logging

/// The composition root of EmmyApp.
public enum EmmyServer {
    /// Builds the application: storage, metrics, middleware and routes. `onRunning` is called
    /// once the server listens (announcing the URL earlier would lie when the port is taken).
    public static func buildApplication(config: ServerConfig, paths: AppPaths = AppPaths(), database: (any AppStore)? = nil,
                                        logger: Logger,
                                        onRunning: @escaping @Sendable () async -> Void = {}) async throws -> some ApplicationProtocol {
        let database: any AppStore = try database ?? AppDatabase.open(directory: config.dataDirectory)
        let interrupted = try await database.closeInterruptedBatches()
        if interrupted > 0 { logger.warning("closed batches a previous run left open", metadata: ["batches": .stringConvertible(interrupted)]) }
        let metrics = AppMetrics()
        let router = try buildRouter(config: config, paths: paths, database: database, metrics: metrics)
        let provider = try config.sending.makeProvider(dataDirectory: config.dataDirectory, environment: config.environment)
        let sender = SendWorkerPool(database: database, provider: provider, config: config.sending, metrics: metrics, logger: logger,
                                    pause: SendingPause(dataDirectory: config.dataDirectory))
        let descriptors = ConnectionLimits.raiseDescriptorLimit()
        return Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: config.connections.idleTimeAmount)),
            configuration: ApplicationConfiguration(
                address: .hostname(config.host, port: config.port), serverName: "EmmyApp",
                availableConnectionsDelegate: .maximum(config.connections.connectionCap(descriptorLimit: descriptors), logger: logger)),
            services: [sender, QueueSampler(database: database, metrics: metrics)],
            onServerRunning: { _ in await onRunning() },
            logger: logger
        )
    }

    /// The router on its own, for `app.test(.router)` tests.
    public static func buildRouter(config: ServerConfig, paths: AppPaths = AppPaths(), database: any AppStore,
                                   metrics: AppMetrics) throws -> Router<AppRequestContext> {
        let router = Router(context: AppRequestContext.self)
        let web = WebPages(templates: try WebTemplates(), secret: WebSecret(), config: config)
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: RequestLogMiddleware())
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        // Its 100 Continue goes out only when a handler reads the body, so whatever refuses a
        // request earlier (the guards below included) answers without one.
        router.add(middleware: ExpectContinueMiddleware(maxBodyBytes: max(config.limits.uploadBytes, config.limits.jsonBodyBytes)))
        // Forged requests are refused before they spend the rate-limit tokens of the operator
        // whose browser was made to send them.
        router.add(middleware: WebGuardMiddleware(pages: web))
        router.add(middleware: RateLimitMiddleware(limiter: RateLimiter(), config: config, metrics: metrics))
        router.add(middleware: AuthMiddleware(database: database, required: config.authRequired, secret: web.secret, probes: paths))
        HealthController(database: database, metrics: metrics, started: Date(), dataDirectory: config.dataDirectory)
            .add(to: router, paths: (paths.health, paths.ready, paths.metrics))
        let ingest = IngestService(store: database, config: config, metrics: metrics)
        MessagesController(ingest: ingest).add(to: router)
        BatchesController(database: database).add(to: router)
        SendingController(database: database, config: config).add(to: router)
        WebhooksController(database: database, config: config, metrics: metrics).add(to: router)
        WebController(database: database, config: config, pages: web, started: Date(), history: metrics.history, activity: metrics.sendActivity).add(to: router)
        PreviewController(ingest: ingest, pages: web,
                          drafts: DraftStore(dataDirectory: config.dataDirectory, maxCount: config.limits.drafts,
                                             maxBytes: config.limits.draftBytes)).add(to: router)
        return router
    }
}

/// Paths of the probe endpoints, from the spec's `app` section.
public struct AppPaths: Sendable {
    public var health = "/health"
    public var ready = "/ready"
    public var metrics = "/metrics"
    public init(health: String = "/health", ready: String = "/ready", metrics: String = "/metrics") {
        self.health = health
        self.ready = ready
        self.metrics = metrics
    }
}

extension ConnectionLimits {
    /// The idle timeout as NIO counts time (kept here so ConnectionLimits needs no NIO, and the
    /// fuzz package can compile ServerConfig alone).
    var idleTimeAmount: TimeAmount {
        let (seconds, attoseconds) = idleTimeout.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
