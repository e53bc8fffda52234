import EmmyApp
import Foundation

/// A Prometheus recording rule.
public struct RecordingRule: Sendable, Hashable {
    public var record: String
    public var expr: String
    public var group: String
}

/// One tier of the SRE workbook's multi-window, multi-burn-rate alerts.
struct BurnTier: Sendable {
    var name: String
    /// Burn-rate factor, exact ("14.4").
    var factor: ExactDecimal
    var long: PromDuration
    var short: PromDuration
    var holdFor: PromDuration
    var severity: Severity

    /// Page at 14.4× over 1h/5m (2% of a 30-day budget) and 6× over 6h/30m (5%); ticket at 1×
    /// over 3d/6h (10%).
    static let all: [BurnTier] = [
        BurnTier(name: "Fast", factor: ExactDecimal(units: 144, scale: 1), long: .hours(1), short: .minutes(5), holdFor: .minutes(2), severity: .critical),
        BurnTier(name: "Slow", factor: 6, long: .hours(6), short: .minutes(30), holdFor: .minutes(15), severity: .critical),
        BurnTier(name: "Ticket", factor: 1, long: .days(3), short: .hours(6), holdFor: .hours(1), severity: .warning),
    ]

    static var windows: [PromDuration] {
        Array(Set(all.flatMap { [$0.long, $0.short] })).sorted()
    }
}

extension AlertCatalogue {
    /// An objective the spec declares, with how to compute its bad-event ratio.
    struct Objective {
        var slo: String
        var title: String
        var budget: ExactDecimal
        var group: String
        var ratioExpr: (PromDuration) -> String
        var scenario: (Ratio, PromDuration) -> AlertScenario
    }

    func recordName(_ slo: String, _ window: PromDuration) -> String {
        "job:emmy_\(slo)_bad:ratio_rate\(window)"
    }

    var objectives: [Objective] {
        var out: [Objective] = []
        let m = MetricCatalogue.httpRequests.name
        let scope = "job=\"\(job)\",route!=\"/metrics\""
        let labels = [("job", job), ("instance", appInstance), ("method", "POST"), ("route", "/messages")]
        if let availability = spec.slo.availability {
            out.append(Objective(
                slo: "availability", title: "availability \(availability.percentText)", budget: 1 - availability.value,
                group: "emmy-slo-availability",
                ratioExpr: { w in
                    "sum by (job) (rate(\(m){\(scope),status=~\"5..\"}[\(w)])) / sum by (job) (rate(\(m){\(scope)}[\(w)]))"
                },
                scenario: { threshold, holdFor in
                    ratioScenario(threshold: threshold, holdFor: holdFor, output: ["job": job]) { bad, good, n in
                        [InputSeries(m, labels + [("status", "500")], counter(bad, n)), InputSeries(m, labels + [("status", "200")], counter(good, n))]
                    }
                }))
        }
        if let latency = spec.slo.latency {
            let h = MetricCatalogue.httpRequestDuration.name
            let le = MetricCatalogue.bucketLabel(latency.threshold.seconds)
            out.append(Objective(
                slo: "latency", title: "\(latency.percentile.percentText) of requests within \(latency.threshold)",
                budget: 1 - latency.percentile.value, group: "emmy-slo-latency",
                ratioExpr: { w in
                    "1 - sum by (job) (rate(\(h)_bucket{\(scope),le=\"\(le)\"}[\(w)])) / sum by (job) (rate(\(h)_count{\(scope)}[\(w)]))"
                },
                scenario: { threshold, holdFor in
                    // Slow requests are the share of the count that is not in the threshold's bucket.
                    ratioScenario(threshold: threshold, holdFor: holdFor, output: ["job": job]) { slow, fast, n in
                        [InputSeries(h + "_bucket", labels + [("le", le)], counter(fast, n)), InputSeries(h + "_count", labels, counter(slow + fast, n))]
                    }
                }))
        }
        return out
    }

    public var recordingRules: [RecordingRule] {
        objectives.flatMap { objective in
            BurnTier.windows.map { w in
                RecordingRule(record: recordName(objective.slo, w), expr: objective.ratioExpr(w), group: objective.group)
            }
        }
    }

    var sloAlerts: [AlertDefinition] {
        objectives.flatMap { objective in
            BurnTier.all.compactMap { tier -> AlertDefinition? in
                let threshold = tier.factor * objective.budget
                // An objective too loose for this tier (threshold ≥ 100%) could never fire.
                guard threshold < 1 else { return nil }
                let t = Ratio(threshold)
                let name = "Emmy\(objective.slo.prefix(1).uppercased())\(objective.slo.dropFirst())BudgetBurn\(tier.name)"
                let j = "{job=\"\(job)\"}"
                let expr = "\(recordName(objective.slo, tier.long))\(j) > \(t) and \(recordName(objective.slo, tier.short))\(j) > \(t)"
                let page = tier.severity == .critical
                return AlertDefinition(
                    name: name, group: objective.group, expr: expr, for: tier.holdFor, severity: tier.severity,
                    extraLabels: ["slo": objective.slo],
                    summary: page ? "The \(objective.slo) error budget is burning fast enough to page."
                                  : "The \(objective.slo) error budget is burning faster than it refills.",
                    description: "{{ $labels.job }} is spending its \(objective.title) error budget at more than \(Ratio.format(tier.factor))× the sustainable rate over \(tier.long) and \(tier.short).",
                    runbook: Runbooks.budgetBurn(spec, slo: objective.slo, tier: tier.name.lowercased(), factor: Ratio.format(tier.factor)),
                    scenario: objective.scenario(t, tier.holdFor))
            }
        }
    }
}
