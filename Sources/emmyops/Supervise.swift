import ArgumentParser
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct Supervise: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "supervise",
            abstract: "Run `emmyops serve` as a child and keep it running.",
            discussion: """
            Restarts the child when it exits (exponential backoff), gives up after the spec's \
            crash budget and stays up reporting `failed`, and restarts it when its health path \
            fails several probes in a row (the `supervise:` section of the spec). SIGTERM or \
            SIGINT drains the child (SIGKILL after supervise.drain_timeout), then exits 0; SIGHUP \
            restarts the child gracefully, or retries a failed one. A SIGHUP restart is brief \
            downtime on this port: switching releases without dropping requests is the deploy's \
            job, through the proxy. State goes to --state-file on every change; read it with \
            `emmyops status`.
            """)

        /// Passed through to `serve` as given.
        @OptionGroup var server: ServerOptions

        @Option(name: .long, help: ArgumentHelp("Where the state is written (default: <data-dir>/supervise.json).", valueName: "path"))
        var stateFile: String?

        func run() throws {
            PrivateFiles.restrictUmask()
            let loaded = try server.loadSpec()
            // Resolved as `serve` resolves them, so the probe reaches the port the child binds.
            let (listenHost, listenPort, dataDirectory) = server.listen(loaded)

            var arguments = ["serve"]
            for (flag, value) in [("--spec", server.spec), ("--data-dir", server.dataDir), ("--host", server.host), ("--port", server.port.map(String.init))] {
                if let value { arguments += [flag, value] }
            }
            let stateFile = stateFile ?? "\(dataDirectory)/supervise.json"
            do {
                try FileManager.default.createDirectory(at: URL(fileURLWithPath: stateFile).deletingLastPathComponent(),
                                                        withIntermediateDirectories: true)
            } catch {
                throw CommandFailure.environment("cannot create the directory of \(stateFile): \(error.localizedDescription)")
            }
            let runner = SupervisorRunner(.init(
                executable: Self.ownExecutable(),
                arguments: arguments,
                healthURL: "http://\(Self.probeHost(listenHost)):\(listenPort)\(loaded.app.healthPath)",
                settings: loaded.supervise,
                stateFile: stateFile,
                version: EmmyOpsVersion.current,
                // `backup restore` hands over a verified database to swap in between two children.
                beforeStart: { RestoreHandoff.applyPending(dataDirectory: dataDirectory) })) { Output.note("emmyops supervise: \($0)") }
            let code: Int32
            do {
                code = try runner.run()
            } catch {
                throw CommandFailure.environment("cannot write the state file \(stateFile): \(error.localizedDescription)")
            }
            if code != 0 { throw CommandFailure.childStatus(code) }
        }

        /// argv[0] as an absolute path (relative to the working directory, or found on PATH),
        /// so the child runs the same binary; /proc/self/exe when argv[0] says nothing useful.
        static func ownExecutable() -> String {
            let argv0 = CommandLine.arguments[0]
            if argv0.hasPrefix("/") { return argv0 }
            if argv0.contains("/") {
                return URL(fileURLWithPath: argv0, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
            }
            return ProcessRunner.which(argv0) ?? (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? argv0
        }

        /// A wildcard listen address is probed on loopback.
        static func probeHost(_ host: String) -> String {
            switch host {
            case "0.0.0.0", "": "127.0.0.1"
            case "::": "[::1]"
            default: HostPort.host(host)
            }
        }
    }
}
