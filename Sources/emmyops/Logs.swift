import ArgumentParser
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct Logs: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "logs",
            abstract: "Show the current release's log on each host, each line prefixed with its host.",
            discussion: """
            Without --host every app host. EmmyApp's JSON lines are shown readable on a terminal \
            and raw otherwise (--format json: always raw). --since keeps lines from that time on \
            (10m, 1h30m, or an ISO 8601 time) among the last --lines; --follow keeps printing \
            what the release writes next, until interrupted.
            """)

        @OptionGroup var fleet: FleetOptions

        @Flag(name: .shortAndLong, help: "Keep printing new lines.")
        var follow = false

        @Option(name: .long, help: ArgumentHelp("Only lines from this long ago on (10m, 1h) or since an ISO 8601 time.", valueName: "when"))
        var since: String?

        @Option(name: [.customShort("n"), .long], help: "Lines to read back from the end of each log (default 100; 10000 with --since).")
        var lines: Int?

        func validate() throws {
            if let since, Since.parse(since) == nil { throw ValidationError("--since `\(since)` is neither a duration such as 10m nor an ISO 8601 time") }
            if let lines, lines < 0 { throw ValidationError("--lines must not be negative") }
        }

        func run() throws {
            let (spec, targets) = try fleet.load(roles: [.app])
            let view = LogView(since: since.flatMap { Since.parse($0) }, readable: fleet.format == .text && isatty(STDOUT_FILENO) == 1)
            let count = lines ?? (since == nil ? 100 : 10_000)
            try fleet.withSSH(spec) { transport in
                if follow {
                    try followAll(targets, view: view, count: count, transport: transport)
                    return
                }
                let (logs, failure) = FleetAnswers.split(FleetQuery.each(targets) { target in
                    let result = try transport(target).run(FleetLogs.command(target.layout, lines: count, follow: false), timeout: 60)
                    guard result.status == 0 else {
                        throw RemoteError.failed(host: target.host.name, command: "tail the log", status: result.status, stderr: result.stderr)
                    }
                    return (target.host.name, result.stdout)
                })
                for (host, text) in logs {
                    for line in view.render(text.split(separator: "\n"), host: host) { print(line) }
                }
                if let failure { throw failure }
            }
        }

        /// One `tail -F` per host, lines printed as they come, until every stream ends or a signal stops us.
        private func followAll(_ targets: [DeployTarget], view: LogView, count: Int,
                               transport: @escaping @Sendable (DeployTarget) -> SSHTransport) throws {
            let printer = NSLock()
            let streams = try targets.map { target in
                let host = target.host.name
                let log = LockedLog(view.start(host: host))
                let argv = transport(target).arguments(for: FleetLogs.command(target.layout, lines: count, follow: true))
                return try LineStream(argv, onLine: { line in
                    guard let shown = log.show(line) else { return }
                    printer.withLock { FileHandle.standardOutput.write(Data((shown + "\n").utf8)) }
                }, onError: { line in printer.withLock { Output.error("\(host): \(line)") } })
            }
            // Stop the ssh clients on SIGINT/SIGTERM, so no `tail -F` outlives us on a host.
            let sources = [SIGINT, SIGTERM].map { signalNumber in
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler { streams.forEach { $0.stop() } }
                source.resume()
                return source
            }
            defer { sources.forEach { $0.cancel() } }
            let statuses = streams.map { $0.wait() }
            if statuses.contains(where: { $0 != 0 && $0 != SIGTERM && $0 != 143 }) { throw CommandFailure.silentProblem }
        }
    }
}

/// One host's log filter, shared by the thread that reads its stream.
private final class LockedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var log: LogView.HostLog
    init(_ log: LogView.HostLog) { self.log = log }
    func show(_ line: Substring) -> String? { lock.withLock { log.show(line) } }
}
