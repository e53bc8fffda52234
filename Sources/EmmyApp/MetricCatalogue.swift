/// The kind of a Prometheus metric, as written on its `# TYPE` line.
public enum MetricType: String, Sendable, Codable, CaseIterable {
    case counter, gauge, histogram
}

/// One metric EmmyApp exposes on `/metrics`.
public struct MetricDescriptor: Sendable, Hashable, Codable {
    public let name: String
    public let type: MetricType
    public let labels: [String]
    public let help: String
    /// Upper bounds of a histogram's finite buckets, ascending; empty for other types.
    public let buckets: [Double]

    public init(name: String, type: MetricType, labels: [String] = [], help: String, buckets: [Double] = []) {
        self.name = name
        self.type = type
        self.labels = labels
        self.help = help
        self.buckets = buckets
    }

    /// The series names this metric produces: a histogram has `_bucket`, `_sum` and `_count`.
    public var seriesNames: [String] {
        type == .histogram ? [name + "_bucket", name + "_sum", name + "_count"] : [name]
    }
}

/// The single source of truth for what EmmyApp's `/metrics` exposes.
///
/// Alert rules, recording rules and dashboards take metric names from here (or from
/// node-exporter's list below) and nowhere else; `emmyops validate` checks that they do.
public enum MetricCatalogue {
    public static let httpRequests = MetricDescriptor(
        name: "emmy_http_requests_total", type: .counter, labels: ["method", "route", "status"],
        help: "HTTP requests answered, by method, route template and status code.")
    public static let httpRequestDuration = MetricDescriptor(
        name: "emmy_http_request_duration_seconds", type: .histogram, labels: ["method", "route"],
        help: "Time from receiving an HTTP request to sending the response head.",
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10])
    public static let httpRateLimited = MetricDescriptor(
        name: "emmy_http_rate_limited_total", type: .counter, labels: ["route"],
        help: "HTTP requests refused with 429 by a rate limit, by route template.")
    public static let databaseUp = MetricDescriptor(
        name: "emmy_database_up", type: .gauge,
        help: "1 when the last database probe succeeded, 0 when it failed.")
    public static let messages = MetricDescriptor(
        name: "emmy_messages_total", type: .counter, labels: ["status"],
        help: "Messages that entered a status (queued, sending, sent, delivered, undelivered, failed, rejected, canceled).")
    public static let contactsRejected = MetricDescriptor(
        name: "emmy_contacts_rejected_total", type: .counter, labels: ["reason"],
        help: "Contacts refused at ingest, by reason (invalid_number, missing_field, duplicate, opted_out, too_long).")
    public static let batchProcessingDuration = MetricDescriptor(
        name: "emmy_batch_processing_duration_seconds", type: .histogram,
        help: "Time to validate, store and queue one uploaded batch.",
        buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600])
    public static let queueDepth = MetricDescriptor(
        name: "emmy_queue_depth", type: .gauge,
        help: "Messages waiting in the send queue (queued or sending).")
    public static let queueOldestAge = MetricDescriptor(
        name: "emmy_queue_oldest_message_age_seconds", type: .gauge,
        help: "Age of the oldest message still waiting in the send queue; 0 when it is empty.")
    public static let sendAttempts = MetricDescriptor(
        name: "emmy_send_attempts_total", type: .counter, labels: ["provider", "outcome"],
        help: "Provider send attempts, by provider and outcome (success, retryable, permanent).")
    public static let sendRetries = MetricDescriptor(
        name: "emmy_send_retries_total", type: .counter, labels: ["provider"],
        help: "Send attempts that were retries of an earlier attempt.")
    public static let providerRequestDuration = MetricDescriptor(
        name: "emmy_provider_request_duration_seconds", type: .histogram, labels: ["provider"],
        help: "Duration of requests to the SMS provider's API.",
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])
    public static let throttleWait = MetricDescriptor(
        name: "emmy_throttle_wait_seconds_total", type: .counter, labels: ["sender"],
        help: "Time workers spent waiting for the per-sender segment throttle.")
    public static let buildInfo = MetricDescriptor(
        name: "emmy_build_info", type: .gauge, labels: ["version"],
        help: "Always 1; the version label names the running EmmyApp build.")
    public static let backupLastSuccess = MetricDescriptor(
        name: "emmy_backup_last_success_timestamp_seconds", type: .gauge,
        help: "Unix time of the last backup `emmyops backup create` stored from this data directory; 0 when none.")
    public static let backupLastVerified = MetricDescriptor(
        name: "emmy_backup_last_verified_timestamp_seconds", type: .gauge,
        help: "Unix time of the last backup `emmyops backup verify` restored and checked; 0 when none.")

    public static let sendingPaused = MetricDescriptor(
        name: "emmy_sending_paused", type: .gauge,
        help: "1 while sending is paused on this host (`emmyops incident pause-sending`): nothing is claimed, everything stays queued.")

    /// What `emmyops incident serve` exposes on its own `/metrics` (scraped as its own job).
    public static let incidentNotifications = MetricDescriptor(
        name: "emmy_incident_notifications_total", type: .counter, labels: ["result"],
        help: "Alerts received by the incident receiver, by result (firing, resolved, duplicate, rejected, unauthorized).")
    public static let incidentActions = MetricDescriptor(
        name: "emmy_incident_actions_total", type: .counter, labels: ["alert", "step", "outcome"],
        help: "Playbook steps taken or refused by incident automation, by alert kind, step and outcome.")
    public static let incidentFrozen = MetricDescriptor(
        name: "emmy_incident_automation_frozen", type: .gauge,
        help: "Alert and host pairs whose automation is frozen until `emmyops incident ack`.")
    public static let incidentMetrics: [MetricDescriptor] = [incidentNotifications, incidentActions, incidentFrozen]

    /// Every metric EmmyApp defines itself, in exposition order.
    public static let appMetrics: [MetricDescriptor] = [
        httpRequests, httpRequestDuration, httpRateLimited, databaseUp, messages, contactsRejected,
        batchProcessingDuration, queueDepth, queueOldestAge, sendAttempts, sendRetries,
        providerRequestDuration, throttleWait, buildInfo,
        backupLastSuccess, backupLastVerified,
        sendingPaused,
    ]

    /// Process metrics exposed next to the app's own (the Prometheus client conventions).
    public static let processMetrics: [MetricDescriptor] = [
        MetricDescriptor(name: "process_cpu_seconds_total", type: .counter,
                         help: "Total user and system CPU time spent in seconds."),
        MetricDescriptor(name: "process_resident_memory_bytes", type: .gauge,
                         help: "Resident memory size in bytes."),
        MetricDescriptor(name: "process_start_time_seconds", type: .gauge,
                         help: "Start time of the process since unix epoch in seconds."),
        MetricDescriptor(name: "process_open_fds", type: .gauge,
                         help: "Number of open file descriptors."),
    ]

    /// Everything `/metrics` exposes.
    public static let all: [MetricDescriptor] = appMetrics + processMetrics

    /// Series Prometheus itself attaches to every scrape target.
    public static let scrapeSeries: Set<String> = ["up", "scrape_duration_seconds", "scrape_samples_scraped"]

    /// The node-exporter series the rendered rules and dashboards may use.
    public static let nodeExporterSeries: Set<String> = [
        "node_cpu_seconds_total", "node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes",
        "node_filesystem_avail_bytes", "node_filesystem_size_bytes", "node_load1",
    ]

    /// postgres_exporter's `pg_up`: 1 when the exporter reached PostgreSQL at its last scrape.
    public static let postgresUp = "pg_up"

    /// Every series name a rule or panel may reference.
    public static let knownSeries: Set<String> = {
        var names = scrapeSeries.union(nodeExporterSeries).union([postgresUp])
        for metric in all + incidentMetrics { names.formUnion(metric.seriesNames) }
        return names
    }()

    /// The `le` label value EmmyApp writes for a bucket bound (Swift's shortest round-trip form).
    public static func bucketLabel(_ bound: Double) -> String { "\(bound)" }

    /// A text exposition with one sample per series (histograms get every bucket), used by
    /// tests and `emmyops validate` to feed `promtool check metrics` and stand in for a scrape.
    public static func sampleExposition(databaseHealthy: Bool = true) -> String {
        var out = ""
        for metric in all {
            out += "# HELP \(metric.name) \(metric.help)\n# TYPE \(metric.name) \(metric.type.rawValue)\n"
            let base = metric.labels.map { "\($0)=\"\(sampleLabelValue($0))\"" }
            func series(_ name: String, _ extra: [String], _ value: String) {
                let labels = base + extra
                out += labels.isEmpty ? "\(name) \(value)\n" : "\(name){\(labels.joined(separator: ","))} \(value)\n"
            }
            switch metric.type {
            case .counter: series(metric.name, [], "0")
            case .gauge:
                let value = metric.name == Self.databaseUp.name ? (databaseHealthy ? "1" : "0") : "1"
                series(metric.name, [], value)
            case .histogram:
                for bound in metric.buckets { series(metric.name + "_bucket", ["le=\"\(bucketLabel(bound))\""], "0") }
                series(metric.name + "_bucket", ["le=\"+Inf\""], "0")
                series(metric.name + "_sum", [], "0")
                series(metric.name + "_count", [], "0")
            }
        }
        return out
    }

    private static func sampleLabelValue(_ label: String) -> String {
        switch label {
        case "method": "GET"
        case "route": "/health"
        case "status": "200"
        case "provider": "log"
        case "outcome": "success"
        case "reason": "invalid_number"
        case "sender": "default"
        case "version": "0.0.0"
        default: "x"
        }
    }
}
