import Yams

extension SpecBuilder {
    func supervise(_ node: Node?) -> SuperviseSettings {
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
