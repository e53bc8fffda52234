import EmmyApp
import Yams

// The `slo:` section, whole: the model, its schema (defaults read off the model), how it is read
// from the YAML tree, and its checks. A new key is added here and nowhere else.

/// The `slo:` section: objectives that render multi-window, multi-burn-rate alerts.
public struct SLO: Sendable, Hashable {
    /// Share of requests that must not fail (5xx), e.g. 99.9%.
    public var availability: Ratio?
    /// Latency objective: `percentile` of requests finish within `threshold`.
    public var latency: Latency?
    /// Budget window the burn rates are computed against.
    public var window: PromDuration

    public struct Latency: Sendable, Hashable {
        public var percentile: Ratio
        public var threshold: PromDuration
        public init(percentile: Ratio, threshold: PromDuration) {
            self.percentile = percentile
            self.threshold = threshold
        }
    }

    public init(availability: Ratio? = Ratio(percent: "99.9%"), latency: Latency? = Latency(percentile: Ratio(percent: "95%")!, threshold: .seconds(2)), window: PromDuration = .days(30)) {
        self.availability = availability
        self.latency = latency
        self.window = window
    }
}

// MARK: - Schema

extension SpecSchema {
    static let slo = SchemaField("slo", .object([
        SchemaField("availability", .percent, "Share of requests that must not fail, e.g. 99.9%."),
        SchemaField("latency", .object(["p50", "p90", "p95", "p99", "p99.9"].map {
            SchemaField($0, .duration, "\($0.dropFirst())% of requests finish within this duration.")
        }), "Latency objective, e.g. `p95: 2s`."),
        SchemaField("window", .duration, "Error-budget window (default \(Int(SLO().window.seconds / 86_400))d)."),
    ]), "Service level objectives; each renders multi-window, multi-burn-rate alerts.")
}

// MARK: - Reading

extension SpecBuilder {
    func slo(_ node: CheckedNode?) -> SLO {
        var slo = SLO()
        if let availability = R.value(node, "availability") {
            slo.availability = percent(availability)
        }
        if let latency = R.value(node, "latency") {
            slo.latency = R.pairs(latency).compactMap { key, value -> SLO.Latency? in
                guard let percentile = Ratio(percent: String(key.dropFirst()) + "%"), let threshold = duration(value) else { return nil }
                return SLO.Latency(percentile: percentile, threshold: threshold)
            }.first
        }
        set(&slo.window, duration(R.value(node, "window")))
        return slo
    }
}

// MARK: - Validation

extension SpecValidation {
    /// Objectives the burn-rate alerts can work with: ratios inside (0%, 100%), a latency on a
    /// bucket bound of the request histogram, a window of at least a day.
    static func validateSLO(_ spec: Spec, error: (String, String, String?) -> Void, warning: (String, String, String?) -> Void) {
        if let availability = spec.slo.availability {
            if availability.value <= 0 || availability.value >= 1 {
                error("slo.availability", "objective \(availability.percentText) is outside (0%, 100%)", "a 100% objective leaves no error budget; try 99.9%")
            }
        }
        if let latency = spec.slo.latency {
            let path = "slo.latency"
            if latency.percentile.value <= 0 || latency.percentile.value >= 1 {
                error(path, "percentile \(latency.percentile.percentText) is outside (0%, 100%)", nil)
            }
            let buckets = MetricCatalogue.httpRequestDuration.buckets
            if !buckets.contains(latency.threshold.seconds) {
                let choices = buckets.map { "\(PromDuration(milliseconds: Int64(($0 * 1000).rounded())))" }.joined(separator: ", ")
                error(path, "\(latency.threshold) is not a bucket bound of \(MetricCatalogue.httpRequestDuration.name)", "use one of \(choices)")
            }
        }
        if spec.slo.window < PromDuration.days(1) {
            error("slo.window", "an error-budget window under 1d makes the 3d burn-rate window meaningless", nil)
        }
    }
}
