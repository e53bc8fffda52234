extension SpecSchema {
    static let supervise = SchemaField("supervise", .object([
        SchemaField("backoff_initial", .duration, "Delay before the first restart after a crash; doubles per crash in a row (default 500ms)."),
        SchemaField("backoff_max", .duration, "Cap on the restart delay (default 30s)."),
        SchemaField("crash_budget", .object([
            SchemaField("restarts", .integer(min: 1, max: 1000), "Restarts allowed within the window (default 5)."),
            SchemaField("window", .duration, "Sliding window the restarts are counted in (default 60s)."),
        ]), "After this many restarts in the window the supervisor stops restarting and reports `failed`."),
        SchemaField("health_interval", .duration, "How often the app's health path is probed (default 5s)."),
        SchemaField("health_failures", .integer(min: 1, max: 100), "Failed probes in a row that restart the app (default 3)."),
        SchemaField("drain_timeout", .duration, "How long a stopping app may finish in-flight requests before SIGKILL (default 30s)."),
    ]), "How `emmyops supervise` keeps EmmyApp running.")
}
