import ArgumentParser

extension EmmyOps {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run EmmyApp, the SMS server, in the foreground.",
            discussion: """
            Reads the `app` section of --spec, or ./emmy.yaml when present, or the embedded \
            default (SQLite under the data directory, sandbox sending, no auth, 127.0.0.1). \
            EMMY_HOST, EMMY_PORT and EMMY_DATA_DIR override the spec; flags override both. \
            SIGTERM or SIGINT drains in-flight requests, then stops.
            """)

        @OptionGroup var server: ServerOptions

        func run() async throws {
            try await server.run(announce: false)
        }
    }

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start EmmyApp locally and print its URL.",
            discussion: "Uses ./emmy.yaml when present, else the embedded default spec; data goes under ./.emmy.")

        @OptionGroup var server: ServerOptions

        func run() async throws {
            try await server.run(announce: true)
        }
    }
}
