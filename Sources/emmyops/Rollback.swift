import ArgumentParser
import EmmyOpsKit

extension EmmyOps {
    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rollback",
            abstract: "Return hosts to an earlier release: its binary and its config, with the same gate and proxy switch.")

        @OptionGroup var fleet: FleetOptions

        @Option(name: .long, help: "Release to return to (default: the one installed before the current).")
        var to: String?

        func validate() throws {
            try fleet.validateSelection()
            if let to, !ReleaseLayout.isValidVersion(to) { throw ValidationError("--to `\(to)` is not a release name") }
        }

        func run() throws {
            let (spec, targets) = try fleet.load()
            try fleet.withTransports(spec) { runner in
                let deployer = FleetDeployer(targets: targets, options: FleetDeployer.Options(spec: spec, who: FleetOptions.who),
                                             runner: runner, onEvent: fleet.printer())
                try deployer.rollback(to: to)
            }
        }
    }
}
