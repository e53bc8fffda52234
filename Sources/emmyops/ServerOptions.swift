import ArgumentParser
import EmmyApp
import EmmyOpsKit
import Foundation
import Hummingbird
import Logging

/// Flags of `serve`, `up` and `supervise` (which passes them on to its `serve` child).
struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Path to the spec (default: ./emmy.yaml when present, else the embedded default).", valueName: "file"))
    var spec: String?

    @Option(name: .long, help: "Address to listen on.")
    var host: String?

    @Option(name: .long, help: "Port to listen on (default: the spec's app.port).")
    var port: Int?

    @Option(name: .long, help: ArgumentHelp("Where the database and uploads live.", valueName: "dir"))
    var dataDir: String?

    /// Where the server listens and keeps its data: flags, else the environment, else defaults.
    func listen(_ spec: Spec) -> (host: String, port: Int, dataDirectory: String) {
        let environment = ServerEnvironment.current
        return (environment.host(host), environment.port(port, spec: spec), environment.dataDirectory(dataDir))
    }

    func run(announce: Bool) async throws {
        PrivateFiles.restrictUmask()
        let spec = try loadSpec()
        let app = spec.app
        let listen = listen(spec)
        var config = app.serverConfig(host: listen.host, port: listen.port, dataDirectory: listen.dataDirectory)
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
            throw CommandFailure.environment("cannot start EmmyApp: \(error)")
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
