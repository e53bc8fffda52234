import Foundation
import ServiceLifecycle

/// Samples the queue every few seconds into the metrics (and so the rolling history the
/// monitoring page charts), whether or not anything scrapes /metrics.
struct QueueSampler: Service {
    let database: any AppStore
    let metrics: AppMetrics
    var every: Duration = .seconds(10)

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if let queue = try? await database.queueState() { metrics.queue(depth: queue.depth, oldestAgeSeconds: queue.oldestAge) }
                try await Task.sleep(for: every)
            }
        }
    }
}
