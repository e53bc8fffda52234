import EmmyApp
import Yams

// The `alerts:` section, whole: the kinds with their defaults (each kind's threshold unit is
// declared there, once), the schema, how overrides are read from the YAML tree, and their checks.
// A new key or kind is added here and nowhere else.

/// The alert kinds a spec can tune, named as in the seed (plus backup_stale).
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
    /// No backup verified for longer than the threshold (rendered only with a backup target).
    case backupStale = "backup_stale"

    /// What the `threshold:` of this kind measures.
    public enum ThresholdKind: Sendable { case none, ratio, duration, count, age }

    /// Read off the default, the one place a kind's threshold unit is declared: the schema,
    /// the loader and the catalogue all follow it.
    public var thresholdKind: ThresholdKind {
        switch defaults.threshold {
        case nil: .none
        case .ratio?: .ratio
        case .duration?: .duration
        case .count?: .count
        case .age?: .age
        }
    }

    /// The seed's thresholds (FACTS.md), with severities an on-call rotation can live with:
    /// resource pressure warns, an outage or a full disk pages. Each kind's threshold unit is
    /// declared here, by its default's case.
    public var defaults: AlertSettings { AlertKind.defaultSettings[self]! }

    /// Built once: the schema, the builder and every renderer ask for defaults many times, and
    /// each build parses its percentages.
    private static let defaultSettings = Dictionary(uniqueKeysWithValues: allCases.map { ($0, $0.seedDefaults) })

    private var seedDefaults: AlertSettings {
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
        // A daily backup plus two hours of slack, then a warning: a day without one is not a page.
        case .backupStale: AlertSettings(threshold: .age(.hours(26)), for: .minutes(10), severity: .warning)
        }
    }
}

/// A threshold in the unit its alert kind measures.
public enum AlertThreshold: Sendable, Hashable, CustomStringConvertible {
    case ratio(Ratio)
    case duration(PromDuration)
    case count(Int)
    /// How old something may get (the newest verified backup).
    case age(PromDuration)

    public var description: String {
        switch self {
        case .ratio(let r): r.percentText
        case .duration(let d), .age(let d): d.description
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

// MARK: - Schema

extension SpecSchema {
    static let alerts = SchemaField("alerts", .object(AlertKind.allCases.map(alert)), "Per-alert overrides; every alert is on by default.")

    static func alert(_ kind: AlertKind) -> SchemaField {
        var fields = [
            SchemaField("enabled", .boolean, "Set false to leave this alert out of the rules."),
            SchemaField("for", .duration, "How long the condition must hold before the alert fires (default \(kind.defaults.for))."),
            SchemaField("severity", .enumeration(Severity.allCases.map(\.rawValue)),
                        "Severity label; routes pick receivers by it (default \(kind.defaults.severity.rawValue))."),
        ]
        switch kind.thresholdKind {
        case .none: break
        case .ratio:
            fields.append(SchemaField("threshold", .percent, "Fires above this percentage (default \(kind.defaults.threshold!))."))
        case .duration:
            fields.append(SchemaField("threshold", .duration, "Fires when p95 batch processing time exceeds this (default \(kind.defaults.threshold!))."))
        case .count:
            fields.append(SchemaField("threshold", .integer(min: 0, max: 1_000_000_000), "Fires above this many events in 5 minutes (default \(kind.defaults.threshold!))."))
        case .age:
            fields.append(SchemaField("threshold", .duration, "Fires when the newest verified backup is older than this (default \(kind.defaults.threshold!))."))
        }
        return SchemaField(kind.rawValue, .object(fields), "Tunes the \(kind.rawValue) alert.")
    }
}

// MARK: - Reading

extension SpecBuilder {
    func alerts(_ node: CheckedNode?) -> Alerts {
        var alerts = Alerts()
        for kind in AlertKind.allCases {
            guard let entry = R.value(node, kind.rawValue) else { continue }
            var settings = kind.defaults
            set(&settings.enabled, R.bool(R.value(entry, "enabled")))
            set(&settings.for, duration(R.value(entry, "for")))
            set(&settings.severity, R.string(R.value(entry, "severity")).flatMap(Severity.init(rawValue:)))
            let threshold = R.value(entry, "threshold")
            switch kind.thresholdKind {
            case .none: break
            case .ratio: set(&settings.threshold, percent(threshold).map(AlertThreshold.ratio))
            case .duration: set(&settings.threshold, duration(threshold).map(AlertThreshold.duration))
            case .count: set(&settings.threshold, R.int(threshold).map(AlertThreshold.count))
            case .age: set(&settings.threshold, duration(threshold).map(AlertThreshold.age))
            }
            alerts[kind] = settings
        }
        return alerts
    }
}

// MARK: - Validation

extension SpecValidation {
    /// Thresholds the rules can cross and the app's histograms can measure.
    static func validateAlerts(_ spec: Spec, error: (String, String, String?) -> Void, warning: (String, String, String?) -> Void) {
        for kind in AlertKind.allCases {
            let settings = spec.alerts[kind]
            let path = "alerts.\(kind.rawValue)"
            switch settings.threshold {
            case .ratio(let ratio)?:
                if ratio.value <= 0 || ratio.value >= 1 {
                    error(path + ".threshold", "\(ratio.percentText) can never be crossed", "use a percentage between 0% and 100%, exclusive")
                }
            case .duration(let threshold)?:
                let buckets = MetricCatalogue.batchProcessingDuration.buckets
                if threshold.seconds < buckets.first! || threshold.seconds >= buckets.last! {
                    error(path + ".threshold", "\(threshold) is outside what \(MetricCatalogue.batchProcessingDuration.name) can measure",
                          "use a value from \(PromDuration(milliseconds: Int64(buckets.first! * 1000))) up to, but not including, \(PromDuration(milliseconds: Int64(buckets.last! * 1000)))")
                }
            case .age(let age)?:
                if age.milliseconds == 0 { error(path + ".threshold", "0s makes every backup stale", "the default is \(kind.defaults.threshold!)") }
            case .count, .none:
                break
            }
            if kind == .appDown, settings.enabled, settings.for.milliseconds > 0,
               settings.for < spec.monitoring.scrapeInterval * 2 {
                warning(path + ".for", "shorter than two scrape intervals (\(spec.monitoring.scrapeInterval * 2)); one slow scrape will page", nil)
            }
        }
    }
}
