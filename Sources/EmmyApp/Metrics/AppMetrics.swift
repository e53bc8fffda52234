import Foundation
import Prometheus

/// EmmyApp's Prometheus metrics, created only from `MetricCatalogue`, so `/metrics` can never
/// expose a name the alert rules and dashboards were not checked against.
public final class AppMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// The last hour per minute, for the monitoring page's charts.
    public let history = ActivityHistory()
    /// Claimed messages in the throttle or at the provider, for the batch page.
    public let sendActivity = SendActivity()

    public init() {
        // Series with a small, known label space exist from the start (at 0), so rates and
        // absent() behave before the first event.
        // `rejected` counts contacts refused at ingest, which never become messages.
        for status in MessageStatus.allCases.map(\.rawValue) + ["rejected"] {
            _ = counter(MetricCatalogue.messages, ["status": status])
        }
        for kind in RowError.Kind.allCases {
            _ = counter(MetricCatalogue.contactsRejected, ["reason": kind.rawValue])
        }
        gauge(MetricCatalogue.queueDepth).set(to: 0)
        gauge(MetricCatalogue.queueOldestAge).set(to: 0)
        gauge(MetricCatalogue.databaseUp).set(to: 0)
        gauge(MetricCatalogue.buildInfo, ["version": EmmyAppVersion.current]).set(to: 1)
        backups(BackupTimestamps())
        gauge(MetricCatalogue.sendingPaused).set(to: 0)
        _ = histogram(MetricCatalogue.batchProcessingDuration)
    }

    func counter(_ metric: MetricDescriptor, _ labels: [String: String] = [:]) -> Counter {
        registry.makeCounter(name: metric.name, labels: ordered(metric, labels), help: metric.help)
    }

    func gauge(_ metric: MetricDescriptor, _ labels: [String: String] = [:]) -> Gauge {
        registry.makeGauge(name: metric.name, labels: ordered(metric, labels), help: metric.help)
    }

    func histogram(_ metric: MetricDescriptor, _ labels: [String: String] = [:]) -> ValueHistogram {
        registry.makeValueHistogram(name: metric.name, labels: ordered(metric, labels), buckets: metric.buckets, help: metric.help)
    }

    /// Labels in the catalogue's order; a label the catalogue does not declare is a bug.
    private func ordered(_ metric: MetricDescriptor, _ labels: [String: String]) -> [(String, String)] {
        assert(Set(labels.keys) == Set(metric.labels), "\(metric.name) takes labels \(metric.labels), got \(labels.keys)")
        return metric.labels.map { ($0, labels[$0] ?? "") }
    }

    public func requestServed(method: String, route: String, status: Int, seconds: Double) {
        counter(MetricCatalogue.httpRequests, ["method": method, "route": route, "status": "\(status)"]).increment()
        histogram(MetricCatalogue.httpRequestDuration, ["method": method, "route": route]).record(seconds)
    }

    public func rateLimited(route: String) {
        counter(MetricCatalogue.httpRateLimited, ["route": route]).increment()
    }

    public func batchIngested(accepted: Int, rejections: [RowError.Kind: Int], seconds: Double) {
        counter(MetricCatalogue.messages, ["status": "queued"]).increment(by: Int64(accepted))
        let rejected = rejections.reduce(0) { $0 + $1.value }
        if rejected > 0 { counter(MetricCatalogue.messages, ["status": "rejected"]).increment(by: Int64(rejected)) }
        for (kind, count) in rejections where count > 0 {
            counter(MetricCatalogue.contactsRejected, ["reason": kind.rawValue]).increment(by: Int64(count))
        }
        histogram(MetricCatalogue.batchProcessingDuration).record(seconds)
    }

    public func databaseProbe(up: Bool) {
        gauge(MetricCatalogue.databaseUp).set(to: up ? 1 : 0)
    }

    public func queue(depth: Int, oldestAgeSeconds: Double) {
        gauge(MetricCatalogue.queueDepth).set(to: Double(depth))
        history.sampled(queueDepth: depth)
        gauge(MetricCatalogue.queueOldestAge).set(to: oldestAgeSeconds)
    }

    public func backups(_ timestamps: BackupTimestamps) {
        gauge(MetricCatalogue.backupLastSuccess).set(to: timestamps.lastSuccess ?? 0)
        gauge(MetricCatalogue.backupLastVerified).set(to: timestamps.lastVerified ?? 0)
    }

    /// The exposition: the registry plus process metrics read from /proc at scrape time.
    public func exposition() -> String {
        registry.emitToString() + ProcessMetrics.exposition()
    }
}

public enum EmmyAppVersion {
    public static let current = "0.1.0"
}
