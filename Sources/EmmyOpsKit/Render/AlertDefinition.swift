/// One alerting rule as emmyops renders it, together with the data that proves it: input
/// series under which it must fire and series under which it must stay silent.
public struct AlertDefinition: Sendable, Hashable {
    public var name: String
    /// The rule group (and rules file) it belongs to.
    public var group: String
    public var expr: String
    public var `for`: PromDuration
    public var severity: Severity
    /// Labels besides `severity` and `service`.
    public var extraLabels: [String: String]
    /// A static sentence ending with a period.
    public var summary: String
    /// May use `{{ $labels.NAME }}` for any label in `outputLabels`.
    public var description: String
    public var runbook: RunbookEntry
    public var scenario: AlertScenario

    /// GitHub-style anchor of this alert's runbook section.
    public var anchor: String { name.lowercased() }
}

/// Test data for one alert: the series that make it fire, the series that keep it silent.
public struct AlertScenario: Sendable, Hashable {
    public var firing: [InputSeries]
    public var silent: [InputSeries]
    /// Evaluation steps before the expression first returns a result (rate() needs two samples).
    public var firstTrueStep: Int
    /// Labels the expression's result carries, which the alert keeps.
    public var outputLabels: [String: String]
}

/// A promtool input series: `metric{labels}` and an expanding notation such as `0+10x40`.
public struct InputSeries: Sendable, Hashable {
    public var metric: String
    public var labels: [(String, String)]
    public var values: String

    public init(_ metric: String, _ labels: [(String, String)], _ values: String) {
        self.metric = metric
        self.labels = labels
        self.values = values
    }

    public var selector: String {
        "\(metric){\(labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ", "))}"
    }

    public static func == (lhs: InputSeries, rhs: InputSeries) -> Bool { lhs.selector == rhs.selector && lhs.values == rhs.values }
    public func hash(into hasher: inout Hasher) { hasher.combine(selector); hasher.combine(values) }
}

/// What the runbook says about an alert.
public struct RunbookEntry: Sendable, Hashable {
    public var meaning: String
    public var firstSteps: [String]
}
