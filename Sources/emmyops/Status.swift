import ArgumentParser
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show what `emmyops supervise` is doing.",
            discussion: """
            Reads the supervisor's state file and checks that its process is alive. Exit codes: \
            0 running and healthy; 1 failed, stopped (or a stale file) or unhealthy; 2 no state file.
            """)

        enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

        @Option(name: .long, help: ArgumentHelp("Data directory the supervisor uses (its state is <dir>/supervise.json).", valueName: "dir"))
        var dataDir: String?

        @Option(name: .long, help: ArgumentHelp("State file to read, instead of the one under --data-dir.", valueName: "path"))
        var stateFile: String?

        @Option(name: .long, help: "text or json.")
        var format: Format = .text

        func validate() throws {
            if dataDir != nil, stateFile != nil { throw ValidationError("pass --data-dir or --state-file, not both") }
        }

        func run() throws {
            let path = stateFile ?? "\(ServerEnvironment.current.dataDirectory(dataDir))/supervise.json"
            let status: SupervisorStatus
            do {
                guard let read = try SupervisorStatus.read(path) else {
                    throw CommandFailure.environment("no supervisor state at \(path); is `emmyops supervise` running with this data directory?")
                }
                status = read
            } catch let failure as CommandFailure {
                throw failure
            } catch {
                throw CommandFailure.environment("cannot read \(path): \(error)")
            }
            switch format {
            case .text: print(status.summary.joined(separator: "\n"))
            case .json: print(String(decoding: try status.json(), as: UTF8.self))
            }
            if !status.isHealthy { throw CommandFailure.silentProblem }
        }
    }
}
