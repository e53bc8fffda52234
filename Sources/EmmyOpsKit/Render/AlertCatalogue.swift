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
    var appInstance: String { "\(spec.hosts.first?.address ?? "127.0.0.1"):\(spec.app.port)" }
    var nodeInstance: String { "\(spec.hosts.first?.address ?? "127.0.0.1"):\(spec.monitoring.nodeExporter.port)" }
    var job: String { spec.appJob }

    private func buildAlerts() -> [AlertDefinition] {
        var out: [AlertDefinition] = []
        for kind in spec.alerts.enabledKinds {
            if !spec.monitoring.nodeExporter.enabled, [.highCPU, .highMemory, .lowDisk].contains(kind) { continue }
            out.append(alert(kind))
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

    private func alert(_ kind: AlertKind) -> AlertDefinition {
        let settings = spec.alerts[kind]
        let j = "job=\"\(job)\""
        let nodeJ = "job=\"\(AlertCatalogue.nodeJob)\""
        let appLabels = [("job", job), ("instance", appInstance)]
        let nodeLabels = [("job", AlertCatalogue.nodeJob), ("instance", nodeInstance)]
        func definition(_ name: String, _ group: String, _ expr: String, _ summary: String, _ description: String,
                        _ runbook: RunbookEntry, _ scenario: AlertScenario) -> AlertDefinition {
            AlertDefinition(name: name, group: group, expr: expr, for: settings.for, severity: settings.severity,
                            extraLabels: [:], summary: summary, description: description, runbook: runbook, scenario: scenario)
        }
        let threshold = settings.threshold
        switch kind {
        case .appDown:
            return definition("EmmyAppDown", "emmy-app", "\(sel("up", j)) == 0",
                "EmmyApp is not answering Prometheus scrapes.",
                "{{ $labels.instance }} of job {{ $labels.job }} has failed every scrape for more than \(settings.for).",
                Runbooks.appDown(spec),
                gaugeScenario("up", appLabels, holdFor: settings.for, bad: "0", good: "1", output: ["job": job, "instance": appInstance]))
        case .databaseDown:
            return definition("EmmyDatabaseDown", "emmy-app", "\(sel(MetricCatalogue.databaseUp.name, j)) == 0",
                "EmmyApp cannot reach its database.",
                "The database probe of {{ $labels.instance }} has failed for more than \(settings.for).",
                Runbooks.databaseDown(spec),
                gaugeScenario(MetricCatalogue.databaseUp.name, appLabels, holdFor: settings.for, bad: "0", good: "1", output: ["job": job, "instance": appInstance]))
        case .highErrorRate:
            let t = ratio(threshold)
            let m = MetricCatalogue.httpRequests.name
            let expr = "sum by (job) (rate(\(sel(m, j, "status=~\"5..\""))[5m])) / sum by (job) (rate(\(sel(m, j))[5m])) > \(t)"
            let labels = appLabels + [("method", "POST"), ("route", "/messages")]
            return definition("EmmyHighErrorRate", "emmy-app", expr,
                "EmmyApp answers too many requests with a server error.",
                "More than \(t.percentText) of requests to {{ $labels.job }} failed with a 5xx status over the last 5 minutes.",
                Runbooks.highErrorRate(spec),
                ratioScenario(threshold: t, holdFor: settings.for, output: ["job": job]) { bad, good, n in
                    [InputSeries(m, labels + [("status", "500")], counter(bad, n)), InputSeries(m, labels + [("status", "200")], counter(good, n))]
                })
        case .highFailureRate:
            let t = ratio(threshold)
            let m = MetricCatalogue.messages.name
            let expr = "sum by (job) (rate(\(sel(m, j, "status=~\"failed|undelivered\""))[15m])) / sum by (job) (rate(\(sel(m, j, "status=~\"sent|failed\""))[15m])) > \(t)"
            return definition("EmmyHighMessageFailureRate", "emmy-app", expr,
                "Too many messages fail to send or to be delivered.",
                "More than \(t.percentText) of the messages {{ $labels.job }} handed to its provider failed or were undelivered over the last 15 minutes.",
                Runbooks.highFailureRate(spec),
                ratioScenario(threshold: t, holdFor: settings.for, output: ["job": job]) { bad, good, n in
                    [InputSeries(m, appLabels + [("status", "failed")], counter(bad, n)), InputSeries(m, appLabels + [("status", "sent")], counter(good, n))]
                })
        case .slowProcessing:
            guard case .duration(let t)? = threshold else { preconditionFailure("validated threshold") }
            let m = MetricCatalogue.batchProcessingDuration
            let expr = "histogram_quantile(0.95, sum by (job, le) (rate(\(sel(m.name + "_bucket", j))[5m]))) > \(Ratio.format(Decimal(t.milliseconds) / 1000))"
            return definition("EmmySlowBatchProcessing", "emmy-app", expr,
                "Uploaded batches take too long to process.",
                "The 95th percentile of batch processing time of {{ $labels.job }} has been above \(t) for more than \(settings.for).",
                Runbooks.slowProcessing(spec), histogramScenario(m, threshold: t.seconds, holdFor: settings.for, labels: appLabels, output: ["job": job]))
        case .rateLimitExceeded:
            guard case .count(let n)? = threshold else { preconditionFailure("validated threshold") }
            let m = MetricCatalogue.httpRateLimited.name
            let expr = "sum by (job) (increase(\(sel(m, j))[5m])) > \(n)"
            let labels = appLabels + [("route", "/upload")]
            return definition("EmmyRateLimitExceeded", "emmy-app", expr,
                "Clients are hitting EmmyApp's rate limits.",
                "{{ $labels.job }} refused more than \(n) requests with 429 in the last 5 minutes.",
                Runbooks.rateLimit(spec),
                AlertScenario(firing: [InputSeries(m, labels, "0+\(n + 1)x\(steps(settings.for, firstTrue: 1))")],
                              silent: [InputSeries(m, labels, "0+\(n / 30)x\(steps(settings.for, firstTrue: 1))")],
                              firstTrueStep: 1, outputLabels: ["job": job]))
        case .highCPU:
            let t = ratio(threshold)
            let m = "node_cpu_seconds_total"
            let expr = "1 - avg by (instance) (rate(\(sel(m, nodeJ, "mode=\"idle\""))[5m])) > \(t)"
            let step = Decimal(AlertCatalogue.testStep.milliseconds) / 1000
            let labels = nodeLabels + [("cpu", "0"), ("mode", "idle")]
            let n = steps(settings.for, firstTrue: 1)
            return definition("EmmyHostHighCPU", "emmy-host", expr,
                "A host's CPU is nearly saturated.",
                "CPU usage on {{ $labels.instance }} has been above \(t.percentText) for more than \(settings.for).",
                Runbooks.highCPU(spec),
                AlertScenario(firing: [InputSeries(m, labels, "0+\(Ratio.format(step * (1 - t.value) / 2))x\(n)")],
                              silent: [InputSeries(m, labels, "0+\(Ratio.format(step * (1 - t.value / 2)))x\(n)")],
                              firstTrueStep: 1, outputLabels: ["instance": nodeInstance]))
        case .highMemory:
            let t = ratio(threshold)
            let (available, total) = ("node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes")
            let expr = "1 - (\(sel(available, nodeJ)) / \(sel(total, nodeJ))) > \(t)"
            return definition("EmmyHostHighMemory", "emmy-host", expr,
                "A host is running out of memory.",
                "Memory usage on {{ $labels.instance }} has been above \(t.percentText) for more than \(settings.for).",
                Runbooks.highMemory(spec),
                usageScenario(available: available, total: total, capacity: 8_000_000_000, labels: nodeLabels, threshold: t,
                              holdFor: settings.for, output: ["job": AlertCatalogue.nodeJob, "instance": nodeInstance]))
        case .lowDisk:
            let t = ratio(threshold)
            let fs = "fstype!~\"tmpfs|overlay|squashfs|ramfs\""
            let (available, size) = ("node_filesystem_avail_bytes", "node_filesystem_size_bytes")
            let expr = "1 - (\(sel(available, nodeJ, fs)) / \(sel(size, nodeJ, fs))) > \(t)"
            let disk = [("device", "/dev/vda1"), ("fstype", "ext4"), ("mountpoint", "/")]
            return definition("EmmyHostLowDisk", "emmy-host", expr,
                "A filesystem is nearly full.",
                "{{ $labels.mountpoint }} on {{ $labels.instance }} has been more than \(t.percentText) full for more than \(settings.for).",
                Runbooks.lowDisk(spec),
                usageScenario(available: available, total: size, capacity: 100_000_000_000, labels: nodeLabels + disk, threshold: t,
                              holdFor: settings.for,
                              output: ["job": AlertCatalogue.nodeJob, "instance": nodeInstance, "device": "/dev/vda1", "fstype": "ext4", "mountpoint": "/"]))
        }
    }

    /// Two gauges, available and total, whose used share is halfway between the threshold
    /// and 100% (firing) or half the threshold (silent).
    private func usageScenario(available: String, total: String, capacity: Decimal, labels: [(String, String)], threshold: Ratio,
                               holdFor: PromDuration, output: [String: String]) -> AlertScenario {
        let n = steps(holdFor, firstTrue: 0)
        func series(_ free: Decimal) -> [InputSeries] {
            [InputSeries(available, labels, "\(Ratio.format(free))x\(n)"), InputSeries(total, labels, "\(Ratio.format(capacity))x\(n)")]
        }
        return AlertScenario(firing: series(capacity * (1 - threshold.value) / 2), silent: series(capacity * (1 - threshold.value / 2)),
                             firstTrueStep: 0, outputLabels: output)
    }

    private func ratio(_ threshold: AlertThreshold?) -> Ratio {
        guard case .ratio(let r)? = threshold else { preconditionFailure("validated threshold") }
        return r
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
                       series: (_ bad: Decimal, _ good: Decimal, _ samples: Int) -> [InputSeries]) -> AlertScenario {
        let total: Decimal = 10_000
        let firingBad = ceil(total * (1 + threshold.value) / 2)
        let silentBad = floor(total * threshold.value / 2)
        let n = steps(holdFor, firstTrue: 1)
        return AlertScenario(firing: series(firingBad, total - firingBad, n), silent: series(silentBad, total - silentBad, n),
                             firstTrueStep: 1, outputLabels: output)
    }

    /// A counter's promtool notation: starts at 0, grows by `perStep`, `samples` more samples.
    func counter(_ perStep: Decimal, _ samples: Int) -> String { "0+\(Ratio.format(perStep))x\(samples)" }

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

    private func ceil(_ value: Decimal) -> Decimal { rounded(value, .up) }
    private func floor(_ value: Decimal) -> Decimal { rounded(value, .down) }
    private func rounded(_ value: Decimal, _ mode: NSDecimalNumber.RoundingMode) -> Decimal {
        var copy = value
        var out = Decimal()
        NSDecimalRound(&out, &copy, 0, mode)
        return out
    }
}
