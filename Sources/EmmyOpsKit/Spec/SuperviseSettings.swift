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
