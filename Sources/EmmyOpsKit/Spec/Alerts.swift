/// The nine alert kinds a spec can tune, named as in the seed.
public enum AlertKind: String, Sendable, Hashable, CaseIterable {
    case appDown = "app_down"
    case highErrorRate = "high_error_rate"
    case databaseDown = "database_down"
    case highCPU = "high_cpu"
    case highMemory = "high_memory"
    case lowDisk = "low_disk"
    case slowProcessing = "slow_processing"
    case rateLimitExceeded = "rate_limit_exceeded"
    case highFailureRate = "high_failure_rate"

    /// What the `threshold:` of this kind measures.
    public enum ThresholdKind: Sendable { case none, ratio, duration, count }

    /// Read off the default, the one place a kind's threshold unit is declared: the schema,
    /// the loader and the catalogue all follow it.
    public var thresholdKind: ThresholdKind {
        switch defaults.threshold {
        case nil: .none
        case .ratio?: .ratio
        case .duration?: .duration
        case .count?: .count
        }
    }

    /// The seed's thresholds (FACTS.md), with severities an on-call rotation can live with:
    /// resource pressure warns, an outage or a full disk pages. Each kind's threshold unit is
    /// declared here, by its default's case.
    public var defaults: AlertSettings {
        switch self {
        case .appDown: AlertSettings(threshold: nil, for: .seconds(30), severity: .critical)
        case .highErrorRate: AlertSettings(threshold: .ratio(Ratio(percent: "5%")!), for: .minutes(2), severity: .warning)
        case .databaseDown: AlertSettings(threshold: nil, for: .minutes(1), severity: .critical)
        case .highCPU: AlertSettings(threshold: .ratio(Ratio(percent: "85%")!), for: .minutes(5), severity: .warning)
        case .highMemory: AlertSettings(threshold: .ratio(Ratio(percent: "90%")!), for: .minutes(5), severity: .warning)
        case .lowDisk: AlertSettings(threshold: .ratio(Ratio(percent: "90%")!), for: .minutes(5), severity: .critical)
        case .slowProcessing: AlertSettings(threshold: .duration(.seconds(30)), for: .minutes(5), severity: .warning)
        case .rateLimitExceeded: AlertSettings(threshold: .count(10), for: .minutes(1), severity: .warning)
        case .highFailureRate: AlertSettings(threshold: .ratio(Ratio(percent: "10%")!), for: .minutes(5), severity: .warning)
        }
    }
}

/// A threshold in the unit its alert kind measures.
public enum AlertThreshold: Sendable, Hashable, CustomStringConvertible {
    case ratio(Ratio)
    case duration(PromDuration)
    case count(Int)

    public var description: String {
        switch self {
        case .ratio(let r): r.percentText
        case .duration(let d): d.description
        case .count(let n): "\(n)"
        }
    }
}

/// One alert's tunables.
public struct AlertSettings: Sendable, Hashable {
    public var enabled: Bool
    public var threshold: AlertThreshold?
    public var `for`: PromDuration
    public var severity: Severity

    public init(enabled: Bool = true, threshold: AlertThreshold?, for: PromDuration, severity: Severity) {
        self.enabled = enabled
        self.threshold = threshold
        self.for = `for`
        self.severity = severity
    }
}

/// The `alerts:` section: every kind, defaulted, possibly overridden or disabled.
public struct Alerts: Sendable, Hashable {
    public var settings: [AlertKind: AlertSettings]

    public init(overrides: [AlertKind: AlertSettings] = [:]) {
        var all: [AlertKind: AlertSettings] = [:]
        for kind in AlertKind.allCases { all[kind] = overrides[kind] ?? kind.defaults }
        settings = all
    }

    public subscript(kind: AlertKind) -> AlertSettings {
        get { settings[kind] ?? kind.defaults }
        set { settings[kind] = newValue }
    }

    /// Enabled kinds, in declaration order.
    public var enabledKinds: [AlertKind] { AlertKind.allCases.filter { self[$0].enabled } }
}
