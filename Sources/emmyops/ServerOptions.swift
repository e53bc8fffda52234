import ArgumentParser
import EmmyApp
import EmmyOpsKit
import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

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
        let app = try ServerEnvironment.current.app(spec.app)
        let listen = listen(spec)
        var config = app.serverConfig(host: listen.host, port: listen.port, dataDirectory: listen.dataDirectory)
        let monitoring = spec.monitoring
        for (name, url) in [("Grafana", monitoring.grafana.externalURL), ("Prometheus", monitoring.prometheus.externalURL),
                            ("Alertmanager", monitoring.alertmanager.externalURL)] where !url.isEmpty {
            config.dashboards[name] = url
        }
        // The monitoring page reads charts and alerts from these (`up --stack` sets the variables).
        let environment = ProcessInfo.processInfo.environment
        config.monitoring = MonitoringBackends(
            prometheus: environment["EMMY_PROMETHEUS_URL"] ?? (monitoring.prometheus.externalURL.isEmpty ? nil : monitoring.prometheus.externalURL),
            alertmanager: environment["EMMY_ALERTMANAGER_URL"] ?? (monitoring.alertmanager.externalURL.isEmpty ? nil : monitoring.alertmanager.externalURL))
        let password = try StoreAccess.password(for: config)
        LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        let logger = Logger(label: "emmyapp")
        let listening = NIOLockedValueBox(false)
        let url = "http://\(config.host):\(config.port)/ (data in \(config.dataDirectory))"
        let paths = AppPaths(health: app.healthPath, ready: app.readyPath, metrics: app.metricsPath)
        let serverConfig = config
        let opened = NIOLockedValueBox(false)
        do {
            try await EmmyServer.withStore(config: serverConfig, password: password, logger: logger) { store in
                opened.withLockedValue { $0 = true }
                let application: any ApplicationProtocol
                do {
                    application = try await EmmyServer.buildApplication(config: serverConfig, paths: paths, database: store, logger: logger) {
                        listening.withLockedValue { $0 = true }
                        if announce { Output.note("EmmyApp: \(url)") }
                    }
                } catch {
                    throw CommandFailure.environment("cannot start EmmyApp: \(error)")
                }
                do {
                    try await application.runService()
                } catch where !listening.withLockedValue({ $0 }) {
                    throw CommandFailure.environment(Self.cannotListen(host: serverConfig.host, port: serverConfig.port, error))
                }
            }
        } catch let failure as CommandFailure {
            throw failure
        } catch where !opened.withLockedValue({ $0 }) {
            throw CommandFailure.environment("cannot open the database (\(serverConfig.database)): \(error)")
        }
    }

    /// One line that says why the server could not listen and what to do about it.
    static func cannotListen(host: String, port: Int, _ error: any Error) -> String {
        switch (error as? IOError)?.errnoCode {
        case EADDRINUSE: "cannot listen on \(host):\(port): the port is in use; stop what listens there or choose another with --port (or EMMY_PORT)"
        case EACCES: "cannot listen on \(host):\(port): permission denied; ports below 1024 need privileges, choose another with --port"
        case EADDRNOTAVAIL: "cannot listen on \(host):\(port): this machine has no such address; choose another with --host (or EMMY_HOST)"
        default: "cannot listen on \(host):\(port): \(error)"
        }
    }

    /// --spec, else ./emmy.yaml when present, else the defaults; `supervise` reads the same one.
    func loadSpec() throws -> Spec {
        if let spec { return try SpecOptions(spec: spec).load() }
        if FileManager.default.fileExists(atPath: "emmy.yaml") { return try SpecOptions(spec: "emmy.yaml").load() }
        return Spec()
    }
}
