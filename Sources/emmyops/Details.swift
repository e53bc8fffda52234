import ArgumentParser
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct Details: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "details",
            abstract: "Show every app host: its release, slot, supervisor state, /ready answer and uptime.",
            discussion: """
            Each host's current binary reports on itself over SSH (one round trip per host). \
            Exit 0 when every host serves a release that is running and ready; 1 otherwise; 2 when \
            a host cannot be reached.
            """)

        @OptionGroup var fleet: FleetOptions

        func run() throws {
            let (spec, targets) = try fleet.load(roles: [.app])
            let answers = try fleet.withTransports(spec) { runner in
                FleetQuery.each(targets) { target in try Self.details(target, runner(target)) }
            }
            let (all, failure) = FleetAnswers.split(answers)
            if fleet.format == .json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(all), as: UTF8.self))
            } else {
                print(HostDetails.table([HostDetails.header] + all.map(\.row)))
            }
            if let failure { throw failure }
            if !all.allSatisfy(\.isHealthy) { throw CommandFailure.silentProblem }
        }

        /// The host's report; a host with no release yet has no binary to ask, and says so.
        static func details(_ target: DeployTarget, _ runner: any CommandRunner) throws -> HostDetails {
            let result = try runner.run(HostDetails.command(target.layout, hostName: target.host.name), timeout: 30)
            if result.status == 127 || result.status == 126 { return HostDetails(host: target.host.name) }
            guard result.status == 0 else {
                throw RemoteError.failed(host: target.host.name, command: "emmyops host details", status: result.status, stderr: result.stderr)
            }
            return try JSONDecoder().decode(HostDetails.self, from: Data(result.stdout.utf8))
        }
    }
}
