import Foundation

/// Where the monitoring page reads its charts and alerts when a monitoring stack runs:
/// Prometheus' query API and Alertmanager's. Either may be absent or down; the page then
/// falls back to the app's own rolling history (charts) or says so (alerts). The addresses
/// alone, free of the HTTP client, so the server's configuration stands on Foundation; the
/// fetching is in MonitoringFetch.swift.
public struct MonitoringBackends: Sendable {
    /// Base URLs, e.g. `http://127.0.0.1:9090`; nil when not configured.
    public var prometheus: String?
    public var alertmanager: String?

    public init(prometheus: String? = nil, alertmanager: String? = nil) {
        self.prometheus = prometheus.flatMap(Self.httpURL)
        self.alertmanager = alertmanager.flatMap(Self.httpURL)
    }

    /// Only http(s) base URLs are fetched; a trailing slash is dropped.
    static func httpURL(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let scheme = URL(string: trimmed)?.scheme?.lowercased(), scheme == "http" || scheme == "https" else { return nil }
        return trimmed.hasSuffix("/") ? String(trimmed.dropLast()) : trimmed
    }
}
