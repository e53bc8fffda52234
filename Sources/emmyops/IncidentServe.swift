import ArgumentParser
import EmmyApp
import EmmyOpsKit
import Foundation
import Hummingbird
import Logging

extension EmmyOps {
    struct IncidentServe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Receive Alertmanager's webhook (payload version 4) and run the playbooks.",
            discussion: """
            Every request must carry `Authorization: Bearer <token>`, the token being the content \
            of `incident.token_file` (or --token-file); anything else gets 401. Bodies over 1 MiB \
            get 413, malformed ones 400, ones with no alert this spec renders 422, all as JSON \
            errors. An accepted notification is recorded in the ledger and answered 202 at once; \
            a worker then runs the playbook. The same (fingerprint, startsAt) twice starts one \
            playbook; a resolved alert cancels its pending steps and never restarts, rolls back or \
            cleans up. After a crash, a step that was running is recorded `unknown` and the app is \
            looked at again before anything is redone. GET /metrics exposes \
            emmy_incident_notifications_total, emmy_incident_actions_total and \
            emmy_incident_automation_frozen; GET /health answers 200. SIGTERM or SIGINT stops it.
            """)

        @OptionGroup var options: IncidentOptions

        @Option(name: .long, help: ArgumentHelp("host:port to listen on (default: incident.listen, else the webhook URL's).", valueName: "host:port"))
        var listen: String?

        @Option(name: .long, help: ArgumentHelp("File holding the bearer token (default: incident.token_file).", valueName: "file"))
        var tokenFile: String?

        func run() async throws {
            PrivateFiles.restrictUmask()
            let spec = try options.spec.load()
            guard let tokenPath = tokenFile ?? spec.incident.tokenFile else {
                throw CommandFailure.problem("no token file: set incident.token_file in the spec or pass --token-file (without a token nothing may act)")
            }
            guard let token = (try? String(contentsOfFile: tokenPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines),
                  !token.isEmpty else {
                throw CommandFailure.environment("cannot read a token from \(tokenPath)")
            }
            var settings = spec.incident
            if let listen { settings.listen = listen }
            let (host, port) = settings.listenAddress
            let engine = try options.engine(spec)
            LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
            let logger = Logger(label: "emmyops-incident")
            let app = IncidentServer.buildApplication(engine: engine, token: token, host: host, port: port,
                                                      path: settings.webhookPath, logger: logger)
            let worker = Task { await engine.runWorker() }
            defer { worker.cancel() }
            Output.note("emmyops incident: listening on http://\(host):\(port)\(settings.webhookPath), ledger in \(options.directory)")
            try await app.runService()
        }
    }
}
