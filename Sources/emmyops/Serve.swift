import ArgumentParser
import EmmyApp
import EmmyOpsKit
import Foundation
import Hummingbird
import Logging

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

struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Path to the spec (default: ./emmy.yaml when present, else the embedded default).", valueName: "file"))
    var spec: String?

    @Option(name: .long, help: "Address to listen on.")
    var host: String?

    @Option(name: .long, help: "Port to listen on (default: the spec's app.port).")
    var port: Int?

    @Option(name: .long, help: ArgumentHelp("Where the database and uploads live.", valueName: "dir"))
    var dataDir: String?

    func run(announce: Bool) async throws {
        PrivateFiles.restrictUmask()
        let environment = ProcessInfo.processInfo.environment
        let spec = try loadSpec()
        let app = spec.app
        var config = app.serverConfig(
            host: host ?? environment["EMMY_HOST"] ?? "127.0.0.1",
            port: port ?? environment["EMMY_PORT"].flatMap(Int.init),
            dataDirectory: dataDir ?? environment["EMMY_DATA_DIR"] ?? ".emmy")
        let monitoring = spec.monitoring
        for (name, url) in [("Grafana", monitoring.grafana.externalURL), ("Prometheus", monitoring.prometheus.externalURL),
                            ("Alertmanager", monitoring.alertmanager.externalURL)] where !url.isEmpty {
            config.dashboards[name] = url
        }
        LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        let logger = Logger(label: "emmyapp")
        let application: any ApplicationProtocol
        do {
            application = try await EmmyServer.buildApplication(
                config: config, paths: AppPaths(health: app.healthPath, ready: app.readyPath, metrics: app.metricsPath), logger: logger)
        } catch {
            Output.error("cannot start EmmyApp: \(error)")
            throw ExitCode(2)
        }
        if announce { Output.note("EmmyApp: http://\(config.host):\(config.port)/ (data in \(config.dataDirectory))") }
        try await application.runService()
    }

    /// --spec, else ./emmy.yaml when present, else the defaults; `supervise` reads the same one.
    func loadSpec() throws -> Spec {
        if let spec { return try SpecOptions(spec: spec).load() }
        if FileManager.default.fileExists(atPath: "emmy.yaml") { return try SpecOptions(spec: "emmy.yaml").load() }
        return Spec()
    }
}
