import ArgumentParser

extension EmmyOps {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Run EmmyApp, the SMS server, in the foreground.",
            discussion: """
            Reads the `app` section of --spec, or ./emmy.yaml when present, or the embedded \
            default (SQLite under the data directory, sandbox sending, no auth, 127.0.0.1). \
            EMMY_HOST, EMMY_PORT and EMMY_DATA_DIR override the spec; flags override both. \
            The monitoring page charts from Prometheus and lists Alertmanager's alerts at \
            EMMY_PROMETHEUS_URL and EMMY_ALERTMANAGER_URL, else at monitoring.*.external_url, \
            else from the app's own history. SIGTERM or SIGINT drains in-flight requests, then stops.
            """)

        @OptionGroup var server: ServerOptions

        func run() async throws {
            try await server.run(announce: false)
        }
    }

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "up",
            abstract: "Start EmmyApp locally and print its URL; with --stack, its monitoring too.",
            discussion: """
            Uses ./emmy.yaml when present, else the embedded default spec; data goes under ./.emmy. \
            --stack runs the app under `supervise`, and natively Prometheus, Alertmanager and \
            node-exporter (Debian packages prometheus, prometheus-alertmanager, \
            prometheus-node-exporter) on the configuration `render` makes for this machine \
            (loopback targets, scrapes and evaluations at most 5 s apart), with \
            `incident serve` as Alertmanager's receiver; it prints every URL. A missing server is \
            named with its package and the rest still starts. One Ctrl-C stops everything.
            """)

        @OptionGroup var server: ServerOptions

        @Flag(name: .long, help: "Also run Prometheus, Alertmanager, node-exporter and the incident receiver.")
        var stack = false

        func run() async throws {
            if stack { return try UpStack.run(server) }
            try await server.run(announce: true)
        }
    }
}
