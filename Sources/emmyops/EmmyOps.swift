import ArgumentParser
import EmmyOpsKit

/// The emmyops command: a dispatch table of subcommands, one per file.
@main
struct EmmyOps: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emmyops",
        abstract: "Render, prove and operate an SMS service described by one emmy.yaml.",
        discussion: """
        Exit codes: 0 ok; 1 the operation or validation found a problem; 2 the environment is \
        unusable (missing tool, unreadable file); 64 bad command-line usage. \
        `emmyops --version` prints the version; `--no-color` (or NO_COLOR) turns colour off.
        """,
        subcommands: [Init.self, Validate.self, Render.self, RenderMonitoring.self, Schema.self, Serve.self, Up.self, Token.self, Probe.self,
                      Supervise.self, Status.self, Deploy.self, Rollback.self, Releases.self, HostCommand.self,
                      Logs.self, Details.self, Lock.self, Audit.self, Secrets.self, Hosts.self, IncidentCommand.self, BackupCommand.self]
    )

    /// Parses (ArgumentParser answers help, version and usage errors itself; `DirectDispatch`
    /// reads the plain arguments of the render commands), runs, and sends whatever the command
    /// threw through `ExitCodeMap`, the only place exit codes are chosen.
    static func main() async {
        var command: any ParsableCommand
        let arguments: [String]
        switch CommandLineFront.settle(Array(CommandLine.arguments.dropFirst())) {
        case .parse(let settled): arguments = settled
        case .render(let request):
            do {
                try request.run()
            } catch {
                exit(withError: ExitCodeMap.exit(for: error))
            }
            return
        case .version:
            print(EmmyOpsVersion.line)
            return
        case .unknownCommand(let message):
            Output.error(message)
            exit(withError: ExitCode(ExitCodeMap.usage))
        }
        do {
            command = try parseAsRoot(arguments)
        } catch {
            exit(withError: error)
        }
        do {
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: ExitCodeMap.exit(for: error))
        }
    }
}

enum EmmyOpsVersion {
    static let current = "0.1.0"

    /// What `--version` prints: the version, then the commit and build time `scripts/release.sh`
    /// stamped into a release artifact, so a host's binary can be traced to its source.
    static var line: String {
        guard let stamp = BuildStamp.current() else { return "\(current) (development build, not stamped by scripts/release.sh)" }
        return "\(current) (commit \(stamp.commit), built \(stamp.built))"
    }
}
