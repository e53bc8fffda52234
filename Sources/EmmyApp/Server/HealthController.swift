import Foundation
import HTTPTypes
import Hummingbird

/// Liveness, readiness and metrics: never rate limited, never behind auth.
struct HealthController: Sendable {
    let database: any AppStore
    let metrics: AppMetrics
    let started: Date
    /// Where `emmyops backup` leaves its status file.
    let dataDirectory: String

    func add(to router: Router<AppRequestContext>, paths: (health: String, ready: String, metrics: String)) {
        router.get(RouterPath(paths.health), use: health)
        router.get(RouterPath(paths.ready), use: ready)
        router.get(RouterPath(paths.metrics), use: exposition)
        router.get("/metrics_summary", use: summary)
    }

    struct Health: Encodable {
        var status: String
        var database: String
        var version: String
        var uptimeSeconds: Int
        var messages: [String: Int]
        var queueDepth: Int
    }

    /// 200 when the database answers, 503 only when it does not.
    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> Response {
        let uptime = Int(Date().timeIntervalSince(started))
        do {
            let counts = try await database.statusCounts()
            metrics.databaseProbe(up: true)
            let depth = MessageStatus.count(MessageStatus.waiting, in: counts)
            return try jsonResponse(Health(status: "healthy", database: "ok", version: EmmyAppVersion.current, uptimeSeconds: uptime,
                                           messages: counts, queueDepth: depth))
        } catch {
            metrics.databaseProbe(up: false)
            context.logger.error("health: database check failed", metadata: ["error": "\(error)"])
            return try jsonResponse(Health(status: "unhealthy", database: "error", version: EmmyAppVersion.current, uptimeSeconds: uptime,
                                           messages: [:], queueDepth: 0), status: .serviceUnavailable)
        }
    }

    struct Readiness: Encodable {
        var ready: Bool
        var migrations: Bool
        var writable: Bool
    }

    /// Ready once migrations are done and a write transaction commits.
    @Sendable func ready(_ request: Request, context: AppRequestContext) async throws -> Response {
        let migrated = (try? await database.isMigrated()) ?? false
        let writable = (try? await database.probeWrite()) != nil
        let ready = migrated && writable
        return try jsonResponse(Readiness(ready: ready, migrations: migrated, writable: writable), status: ready ? .ok : .serviceUnavailable)
    }

    @Sendable func exposition(_ request: Request, context: AppRequestContext) async throws -> Response {
        // One query both refreshes the queue gauges and proves the database answers.
        let queue = try? await database.queueState()
        if let queue { metrics.queue(depth: queue.depth, oldestAgeSeconds: queue.oldestAge) }
        metrics.databaseProbe(up: queue != nil)
        // Read at every scrape: `emmyops backup` runs as another process and only leaves a file.
        metrics.backups(BackupTimestamps.read(dataDirectory: dataDirectory))
        metrics.sendingPaused(SendingPause(dataDirectory: dataDirectory).isPaused)
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
    }

    struct Summary: Encodable {
        var totalMessages: Int
        var successfulMessages: Int
        var failedMessages: Int
        var pendingMessages: Int
        var rejectedContacts: Int
        var batches: Int
        var successRate: Double
    }

    /// The seed's summary: totals and a success rate over finished messages.
    @Sendable func summary(_ request: Request, context: AppRequestContext) async throws -> Response {
        let counts = try await database.statusCounts()
        let totals = try await database.totals()
        let successful = MessageStatus.count(MessageStatus.succeeded, in: counts)
        let failed = MessageStatus.count(MessageStatus.unsuccessful, in: counts)
        let pending = MessageStatus.count(MessageStatus.waiting, in: counts)
        let finished = successful + failed
        return try jsonResponse(Summary(totalMessages: counts.values.reduce(0, +), successfulMessages: successful, failedMessages: failed,
                                        pendingMessages: pending, rejectedContacts: totals.rejections, batches: totals.batches,
                                        successRate: finished == 0 ? 0 : (Double(successful) / Double(finished) * 10000).rounded() / 100))
    }
}
