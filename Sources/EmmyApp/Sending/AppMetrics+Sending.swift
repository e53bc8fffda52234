import Foundation

/// The sending side of the catalogue: statuses entered, attempts, retries, provider latency
/// and throttle waits.
extension AppMetrics {
    func messagesEntered(_ counts: [MessageStatus: Int]) {
        for (status, count) in counts where count > 0 {
            counter(MetricCatalogue.messages, ["status": status.rawValue]).increment(by: Int64(count))
            history.entered(status, count: count)
        }
    }

    func sendAttempted(provider: String, outcome: String, retry: Bool, seconds: Double) {
        counter(MetricCatalogue.sendAttempts, ["provider": provider, "outcome": outcome]).increment()
        history.attempted(success: outcome == "success")
        if retry { counter(MetricCatalogue.sendRetries, ["provider": provider]).increment() }
        histogram(MetricCatalogue.providerRequestDuration, ["provider": provider]).record(seconds)
    }

    func throttled(sender: String, seconds: Double) {
        counter(MetricCatalogue.throttleWait, ["sender": sender]).increment(by: seconds)
    }

    /// Read from the switch at every scrape: `emmyops incident` flips it from another process.
    public func sendingPaused(_ paused: Bool) {
        gauge(MetricCatalogue.sendingPaused).set(to: paused ? 1 : 0)
    }

    /// Series at 0 from the start, so rates work before the first send.
    func prepareSending(provider: String, sender: String) {
        for outcome in ["success", "retryable", "permanent"] {
            _ = counter(MetricCatalogue.sendAttempts, ["provider": provider, "outcome": outcome])
        }
        _ = counter(MetricCatalogue.sendRetries, ["provider": provider])
        _ = histogram(MetricCatalogue.providerRequestDuration, ["provider": provider])
        _ = counter(MetricCatalogue.throttleWait, ["sender": sender])
    }
}
