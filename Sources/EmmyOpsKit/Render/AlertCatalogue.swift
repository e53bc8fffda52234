import EmmyApp
import Foundation

/// Builds every alerting and recording rule a spec asks for, with the scenarios that test them.
///
/// Metric names come only from `MetricCatalogue` (and node-exporter's list there).
public struct AlertCatalogue: Sendable {
    public let spec: Spec
    /// Every alert the spec asks for, built once: rules, tests, the runbook and the
    /// cross-checks all read it, and each definition carries its test scenario.
    public private(set) var alerts: [AlertDefinition] = []

    public init(spec: Spec) {
        self.spec = spec
        alerts = buildAlerts()
    }

    /// Sample interval of the generated rule tests.
    public static let testStep = PromDuration.seconds(15)
    /// The job name node-exporter is scraped under.
    public static let nodeJob = "node"

    /// Instance label used in test series for the app and the host.
    var appInstance: String { HostPort.join(spec.hosts.first?.address ?? "127.0.0.1", spec.app.port) }
    var nodeInstance: String { HostPort.join(spec.hosts.first?.address ?? "127.0.0.1", spec.monitoring.nodeExporter.port) }
    var job: String { spec.appJob }

    private func buildAlerts() -> [AlertDefinition] {
        var out: [AlertDefinition] = []
        for kind in spec.alerts.enabledKinds {
            if !spec.monitoring.nodeExporter.enabled, [.highCPU, .highMemory, .lowDisk].contains(kind) { continue }
            if kind == .backupStale, spec.backup.target == nil { continue }
            if let alert = alert(kind) { out.append(alert) }
        }
        // PostgreSQL's own health, beside the app's view of it, with database_down's settings.
        if PostgresExporter.enabled(spec), spec.alerts.enabledKinds.contains(.databaseDown) {
            out.append(postgresDown(spec.alerts[.databaseDown]))
        }
        out += sloAlerts
        return out
    }

    public var groups: [String] {
        var seen: [String] = []
        for alert in alerts where !seen.contains(alert.group) { seen.append(alert.group) }
        return seen
    }

    // MARK: - The nine kinds

    private func sel(_ metric: String, _ matchers: String...) -> String {
        "\(metric){\(matchers.joined(separator: ","))}"
    }

    /// The alert of `kind` with the spec's settings. A threshold always has the unit its kind
    /// declares (`AlertKind.defaults`; the loader reads `threshold:` in that unit only), so each
    /// kind's function receives it typed.
    private func alert(_ kind: AlertKind) -> AlertDefinition? {
        let settings = spec.alerts[kind]
        switch (kind, settings.threshold) {
        case (.appDown, _): return appDown(settings)
        case (.databaseDown, _): return databaseDown(settings)
        case (.highErrorRate, .ratio(let above)?): return highErrorRate(settings, above: above)
        case (.highFailureRate, .ratio(let above)?): return highFailureRate(settings, above: above)
        case (.slowProcessing, .duration(let above)?): return slowProcessing(settings, above: above)
        case (.rateLimitExceeded, .count(let above)?): return rateLimitExceeded(settings, above: above)
        case (.highCPU, .ratio(let above)?): return highCPU(settings, above: above)
        case (.highMemory, .ratio(let above)?): return highMemory(settings, above: above)
        case (.lowDisk, .ratio(let above)?): return lowDisk(settings, above: above)
        case (.backupStale, .age(let age)?): return backupStale(settings, olderThan: age)
        default: return nil
        }
    }

    private var appMatcher: String { "job=\"\(job)\"" }
    private var nodeMatcher: String { "job=\"\(AlertCatalogue.nodeJob)\"" }
    private var appLabels: [(String, String)] { [("job", job), ("instance", appInstance)] }
    private var nodeLabels: [(String, String)] { [("job", AlertCatalogue.nodeJob), ("instance", nodeInstance)] }

    private func definition(_ settings: AlertSettings, _ name: String, _ group: String, _ expr: String, _ summary: String,
                            _ description: String, _ runbook: RunbookEntry, _ scenario: AlertScenario) -> AlertDefinition {
        AlertDefinition(name: name, group: group, expr: expr, for: settings.for, severity: settings.severity,
                        extraLabels: [:], summary: summary, description: description, runbook: runbook, scenario: scenario)
    }

    private func appDown(_ settings: AlertSettings) -> AlertDefinition {
        definition(settings, "EmmyAppDown", "emmy-app", "\(sel("up", appMatcher)) == 0",
            "EmmyApp is not answering Prometheus scrapes.",
            "{{ $labels.instance }} of job {{ $labels.job }} has failed every scrape for more than \(settings.for).",
            Runbooks.appDown(spec),
            gaugeScenario("up", appLabels, holdFor: settings.for, bad: "0", good: "1", output: ["job": job, "instance": appInstance]))
    }

    /// Per instance: each host's `emmyops backup verify` leaves the time in its own data directory.
    private func backupStale(_ settings: AlertSettings, olderThan age: PromDuration) -> AlertDefinition {
        let metric = MetricCatalogue.backupLastVerified.name
        return definition(settings, "EmmyBackupStale", "emmy-app", "time() - \(sel(metric, appMatcher)) > \(Int(age.seconds))",
            "No backup of EmmyApp's database has been verified recently.",
            "The newest backup of {{ $labels.instance }} that `emmyops backup verify` restored and checked is older than \(age).",
            Runbooks.backupStale(spec),
            // Test time starts at 0: a timestamp far in the past is stale, one at 0 is fresh.
            gaugeScenario(metric, appLabels, holdFor: settings.for, bad: "-\(Int(age.seconds) * 2)", good: "0", output: ["job": job, "instance": appInstance]))
    }

    private func databaseDown(_ settings: AlertSettings) -> AlertDefinition {
        let metric = MetricCatalogue.databaseUp.name
        return definition(settings, "EmmyDatabaseDown", "emmy-app", "\(sel(metric, appMatcher)) == 0",
            "EmmyApp cannot reach its database.",
            "The database probe of {{ $labels.instance }} has failed for more than \(settings.for).",
            Runbooks.databaseDown(spec),
            gaugeScenario(metric, appLabels, holdFor: settings.for, bad: "0", good: "1", output: ["job": job, "instance": appInstance]))
    }

    /// postgres_exporter cannot reach PostgreSQL: the server itself is down or refusing it,
    /// whatever the app's probe says.
    private func postgresDown(_ settings: AlertSettings) -> AlertDefinition {
        let metric = MetricCatalogue.postgresUp
        let labels = [("job", PostgresExporter.job), ("instance", HostPort.join(spec.hosts.first?.address ?? "127.0.0.1", PostgresExporter.port))]
        return definition(settings, "PostgresDown", "emmy-app", "\(sel(metric, "job=\"\(PostgresExporter.job)\"")) == 0",
            "PostgreSQL does not answer postgres_exporter.",
            "postgres_exporter at {{ $labels.instance }} has not reached PostgreSQL for more than \(settings.for).",
            Runbooks.postgresDown(spec),
            gaugeScenario(metric, labels, holdFor: settings.for, bad: "0", good: "1", output: Dictionary(uniqueKeysWithValues: labels)))
    }

    private func highErrorRate(_ settings: AlertSettings, above threshold: Ratio) -> AlertDefinition {
        let metric = MetricCatalogue.httpRequests.name
        let expr = "sum by (job) (rate(\(sel(metric, appMatcher, "status=~\"5..\""))[5m])) / sum by (job) (rate(\(sel(metric, appMatcher))[5m])) > \(threshold)"
        let labels = appLabels + [("method", "POST"), ("route", "/messages")]
        return definition(settings, "EmmyHighErrorRate", "emmy-app", expr,
            "EmmyApp answers too many requests with a server error.",
            "More than \(threshold.percentText) of requests to {{ $labels.job }} failed with a 5xx status over the last 5 minutes.",
            Runbooks.highErrorRate(spec),
            ratioScenario(threshold: threshold, holdFor: settings.for, output: ["job": job]) { bad, good, n in
                [InputSeries(metric, labels + [("status", "500")], counter(bad, n)), InputSeries(metric, labels + [("status", "200")], counter(good, n))]
            })
    }

    private func highFailureRate(_ settings: AlertSettings, above threshold: Ratio) -> AlertDefinition {
        let metric = MetricCatalogue.messages.name
        let expr = "sum by (job) (rate(\(sel(metric, appMatcher, "status=~\"failed|undelivered\""))[15m])) / sum by (job) (rate(\(sel(metric, appMatcher, "status=~\"sent|failed\""))[15m])) > \(threshold)"
        return definition(settings, "EmmyHighMessageFailureRate", "emmy-app", expr,
            "Too many messages fail to send or to be delivered.",
            "More than \(threshold.percentText) of the messages {{ $labels.job }} handed to its provider failed or were undelivered over the last 15 minutes.",
            Runbooks.highFailureRate(spec),
            ratioScenario(threshold: threshold, holdFor: settings.for, output: ["job": job]) { bad, good, n in
                [InputSeries(metric, appLabels + [("status", "failed")], counter(bad, n)), InputSeries(metric, appLabels + [("status", "sent")], counter(good, n))]
            })
    }

    private func slowProcessing(_ settings: AlertSettings, above threshold: PromDuration) -> AlertDefinition {
        let metric = MetricCatalogue.batchProcessingDuration
        let expr = "histogram_quantile(0.95, sum by (job, le) (rate(\(sel(metric.name + "_bucket", appMatcher))[5m]))) > \(Ratio.format(ExactDecimal(units: Int128(threshold.milliseconds), scale: 3)))"
        return definition(settings, "EmmySlowBatchProcessing", "emmy-app", expr,
            "Uploaded batches take too long to process.",
            "The 95th percentile of batch processing time of {{ $labels.job }} has been above \(threshold) for more than \(settings.for).",
            Runbooks.slowProcessing(spec),
            histogramScenario(metric, threshold: threshold.seconds, holdFor: settings.for, labels: appLabels, output: ["job": job]))
    }

    private func rateLimitExceeded(_ settings: AlertSettings, above threshold: Int) -> AlertDefinition {
        let metric = MetricCatalogue.httpRateLimited.name
        let expr = "sum by (job) (increase(\(sel(metric, appMatcher))[5m])) > \(threshold)"
        let labels = appLabels + [("route", "/upload")]
        return definition(settings, "EmmyRateLimitExceeded", "emmy-app", expr,
            "Clients are hitting EmmyApp's rate limits.",
            "{{ $labels.job }} refused more than \(threshold) requests with 429 in the last 5 minutes.",
            Runbooks.rateLimit(spec),
            AlertScenario(firing: [InputSeries(metric, labels, "0+\(threshold + 1)x\(steps(settings.for, firstTrue: 1))")],
                          silent: [InputSeries(metric, labels, "0+\(threshold / 30)x\(steps(settings.for, firstTrue: 1))")],
                          firstTrueStep: 1, outputLabels: ["job": job]))
    }

    private func highCPU(_ settings: AlertSettings, above threshold: Ratio) -> AlertDefinition {
        let metric = "node_cpu_seconds_total"
        let expr = "1 - avg by (instance) (rate(\(sel(metric, nodeMatcher, "mode=\"idle\""))[5m])) > \(threshold)"
        let step = ExactDecimal(units: Int128(AlertCatalogue.testStep.milliseconds), scale: 3)
        let labels = nodeLabels + [("cpu", "0"), ("mode", "idle")]
        let samples = steps(settings.for, firstTrue: 1)
        return definition(settings, "EmmyHostHighCPU", "emmy-host", expr,
            "A host's CPU is nearly saturated.",
            "CPU usage on {{ $labels.instance }} has been above \(threshold.percentText) for more than \(settings.for).",
            Runbooks.highCPU(spec),
            AlertScenario(firing: [InputSeries(metric, labels, "0+\(Ratio.format((step * (1 - threshold.value)).halved))x\(samples)")],
                          silent: [InputSeries(metric, labels, "0+\(Ratio.format(step * (1 - threshold.value.halved)))x\(samples)")],
                          firstTrueStep: 1, outputLabels: ["instance": nodeInstance]))
    }

    private func highMemory(_ settings: AlertSettings, above threshold: Ratio) -> AlertDefinition {
        let (available, total) = ("node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes")
        let expr = "1 - (\(sel(available, nodeMatcher)) / \(sel(total, nodeMatcher))) > \(threshold)"
        return definition(settings, "EmmyHostHighMemory", "emmy-host", expr,
            "A host is running out of memory.",
            "Memory usage on {{ $labels.instance }} has been above \(threshold.percentText) for more than \(settings.for).",
            Runbooks.highMemory(spec),
            usageScenario(available: available, total: total, capacity: 8_000_000_000, labels: nodeLabels, threshold: threshold,
                          holdFor: settings.for, output: ["job": AlertCatalogue.nodeJob, "instance": nodeInstance]))
    }

    private func lowDisk(_ settings: AlertSettings, above threshold: Ratio) -> AlertDefinition {
        let realFilesystems = "fstype!~\"tmpfs|overlay|squashfs|ramfs\""
        let (available, size) = ("node_filesystem_avail_bytes", "node_filesystem_size_bytes")
        let expr = "1 - (\(sel(available, nodeMatcher, realFilesystems)) / \(sel(size, nodeMatcher, realFilesystems))) > \(threshold)"
        let disk = [("device", "/dev/vda1"), ("fstype", "ext4"), ("mountpoint", "/")]
        return definition(settings, "EmmyHostLowDisk", "emmy-host", expr,
            "A filesystem is nearly full.",
            "{{ $labels.mountpoint }} on {{ $labels.instance }} has been more than \(threshold.percentText) full for more than \(settings.for).",
            Runbooks.lowDisk(spec),
            usageScenario(available: available, total: size, capacity: 100_000_000_000, labels: nodeLabels + disk, threshold: threshold,
                          holdFor: settings.for,
                          output: ["job": AlertCatalogue.nodeJob, "instance": nodeInstance, "device": "/dev/vda1", "fstype": "ext4", "mountpoint": "/"]))
    }

    /// Two gauges, available and total, whose used share is halfway between the threshold
    /// and 100% (firing) or half the threshold (silent).
    private func usageScenario(available: String, total: String, capacity: ExactDecimal, labels: [(String, String)], threshold: Ratio,
                               holdFor: PromDuration, output: [String: String]) -> AlertScenario {
        let n = steps(holdFor, firstTrue: 0)
        func series(_ free: ExactDecimal) -> [InputSeries] {
            [InputSeries(available, labels, "\(Ratio.format(free))x\(n)"), InputSeries(total, labels, "\(Ratio.format(capacity))x\(n)")]
        }
        return AlertScenario(firing: series((capacity * (1 - threshold.value)).halved), silent: series(capacity * (1 - threshold.value.halved)),
                             firstTrueStep: 0, outputLabels: output)
    }

    /// Samples a scenario needs: up to the first firing evaluation, plus margin.
    func steps(_ holdFor: PromDuration, firstTrue: Int) -> Int {
        firstTrue + AlertCatalogue.stepsToFire(holdFor) + 3
    }

    static func stepsToFire(_ holdFor: PromDuration) -> Int {
        Int((holdFor.milliseconds + testStep.milliseconds - 1) / testStep.milliseconds)
    }

    private func gaugeScenario(_ metric: String, _ labels: [(String, String)], holdFor: PromDuration, bad: String, good: String, output: [String: String]) -> AlertScenario {
        let n = steps(holdFor, firstTrue: 0)
        return AlertScenario(firing: [InputSeries(metric, labels, "\(bad)x\(n)")], silent: [InputSeries(metric, labels, "\(good)x\(n)")],
                             firstTrueStep: 0, outputLabels: output)
    }

    /// Counters whose bad share is halfway between the threshold and 100% (firing) or half the
    /// threshold (silent), in whole increments per step out of 10,000. `series` turns the bad
    /// and good increments and the sample count into input series.
    func ratioScenario(threshold: Ratio, holdFor: PromDuration, output: [String: String],
                       series: (_ bad: ExactDecimal, _ good: ExactDecimal, _ samples: Int) -> [InputSeries]) -> AlertScenario {
        let total: ExactDecimal = 10_000
        let firingBad = (total * (1 + threshold.value)).halved.rounded(toScale: 0, .up)
        let silentBad = (total * threshold.value).halved.rounded(toScale: 0, .down)
        let n = steps(holdFor, firstTrue: 1)
        return AlertScenario(firing: series(firingBad, total - firingBad, n), silent: series(silentBad, total - silentBad, n),
                             firstTrueStep: 1, outputLabels: output)
    }

    /// A counter's promtool notation: starts at 0, grows by `perStep`, `samples` more samples.
    func counter(_ perStep: ExactDecimal, _ samples: Int) -> String { "0+\(Ratio.format(perStep))x\(samples)" }

    /// Cumulative buckets with every observation above the threshold (firing) or in the lowest
    /// bucket (silent).
    private func histogramScenario(_ metric: MetricDescriptor, threshold: Double, holdFor: PromDuration, labels: [(String, String)], output: [String: String]) -> AlertScenario {
        let n = steps(holdFor, firstTrue: 1)
        let lowerIndex = metric.buckets.firstIndex { $0 >= threshold } ?? metric.buckets.count - 1
        func series(_ filled: (Int) -> Bool) -> [InputSeries] {
            metric.buckets.enumerated().map { index, bound in
                InputSeries(metric.name + "_bucket", labels + [("le", MetricCatalogue.bucketLabel(bound))], filled(index) ? "0+10x\(n)" : "0x\(n)")
            } + [InputSeries(metric.name + "_bucket", labels + [("le", "+Inf")], "0+10x\(n)")]
        }
        return AlertScenario(firing: series { $0 > lowerIndex }, silent: series { _ in true }, firstTrueStep: 1, outputLabels: output)
    }
}
