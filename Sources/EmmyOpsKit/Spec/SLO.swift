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
