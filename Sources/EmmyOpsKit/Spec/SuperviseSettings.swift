import Yams

// The `supervise:` section, whole: the model, its checks, its schema (defaults read off the
// model) and how it is read from the YAML tree. A new key is added here and nowhere else.

/// The `supervise:` section: how `emmyops supervise` restarts, probes and stops EmmyApp.
public struct SuperviseSettings: Sendable, Hashable {
    /// First restart delay after a crash; it doubles with each crash in a row.
    public var backoffInitial: PromDuration = PromDuration(milliseconds: 500)
    /// Cap on the restart delay.
    public var backoffMax: PromDuration = .seconds(30)
    /// More than this many restarts within `crashWindow` and the supervisor gives up (`failed`).
    public var crashRestarts: Int = 5
    public var crashWindow: PromDuration = .seconds(60)
    /// How often the child's health path is probed.
    public var healthInterval: PromDuration = .seconds(5)
    /// Consecutive failed probes after which the child is restarted.
    public var healthFailures: Int = 3
    /// How long a stopping child may drain in-flight requests before SIGKILL.
    public var drainTimeout: PromDuration = .seconds(30)

    public init() {}
}

extension SpecValidation {
    /// Values the schema's types allow but a supervisor cannot work with.
    static func validateSupervise(_ spec: Spec, error: (String, String, String?) -> Void) {
        let s = spec.supervise
        for (key, value) in [("backoff_initial", s.backoffInitial), ("crash_budget.window", s.crashWindow),
                             ("health_interval", s.healthInterval), ("drain_timeout", s.drainTimeout)] where value.milliseconds == 0 {
            error("supervise.\(key)", "must be longer than 0s", nil)
        }
        if s.backoffMax < s.backoffInitial {
            error("supervise.backoff_max", "\(s.backoffMax) is shorter than backoff_initial (\(s.backoffInitial))",
                  "the delay starts at backoff_initial and doubles up to backoff_max")
        }
    }
}

// MARK: - Schema

extension SpecSchema {
    static let supervise = SchemaField("supervise", .object([
        SchemaField("backoff_initial", .duration, "Delay before the first restart after a crash; doubles per crash in a row (default \(SuperviseSettings().backoffInitial))."),
        SchemaField("backoff_max", .duration, "Cap on the restart delay (default \(SuperviseSettings().backoffMax))."),
        SchemaField("crash_budget", .object([
            SchemaField("restarts", .integer(min: 1, max: 1000), "Restarts allowed within the window (default \(SuperviseSettings().crashRestarts))."),
            SchemaField("window", .duration, "Sliding window the restarts are counted in (default \(Int(SuperviseSettings().crashWindow.seconds))s)."),
        ]), "After this many restarts in the window the supervisor stops restarting and reports `failed`."),
        SchemaField("health_interval", .duration, "How often the app's health path is probed (default \(SuperviseSettings().healthInterval))."),
        SchemaField("health_failures", .integer(min: 1, max: 100), "Failed probes in a row that restart the app (default \(SuperviseSettings().healthFailures))."),
        SchemaField("drain_timeout", .duration, "How long a stopping app may finish in-flight requests before SIGKILL (default \(SuperviseSettings().drainTimeout))."),
    ]), "How `emmyops supervise` keeps EmmyApp running.")
}

// MARK: - Reading

extension SpecBuilder {
    func supervise(_ node: CheckedNode?) -> SuperviseSettings {
        var s = SuperviseSettings()
        set(&s.backoffInitial, duration(R.value(node, "backoff_initial")))
        set(&s.backoffMax, duration(R.value(node, "backoff_max")))
        let budget = R.value(node, "crash_budget")
        set(&s.crashRestarts, R.int(R.value(budget, "restarts")))
        set(&s.crashWindow, duration(R.value(budget, "window")))
        set(&s.healthInterval, duration(R.value(node, "health_interval")))
        set(&s.healthFailures, R.int(R.value(node, "health_failures")))
        set(&s.drainTimeout, duration(R.value(node, "drain_timeout")))
        return s
    }
}
