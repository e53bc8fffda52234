import ArgumentParser
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct Releases: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "releases", abstract: "List a host's releases, the current one, and who deployed each when.")

        @OptionGroup var fleet: FleetOptions

        func validate() throws { try fleet.validateSelection() }

        func run() throws {
            let (spec, targets) = try fleet.load()
            try fleet.withTransports(spec) { runner in
                let deployer = FleetDeployer(targets: targets, options: FleetDeployer.Options(spec: spec, who: FleetOptions.who),
                                             runner: runner, onEvent: { _ in })
                for target in targets {
                    guard let listing = try deployer.releases(target, runner(target)) else {
                        throw CommandFailure.problem("\(target.host.name): no release installed under \(target.layout.root)")
                    }
                    if fleet.format == .json {
                        let encoder = JSONEncoder()
                        encoder.keyEncodingStrategy = .convertToSnakeCase
                        encoder.outputFormatting = [.sortedKeys]
                        print(String(decoding: try encoder.encode(listing), as: UTF8.self))
                        continue
                    }
                    print("\(target.host.name):")
                    for release in listing.releases.reversed() {
                        let who = release.deployedBy.map { "deployed by \($0) at \(release.deployedAt ?? "?")" } ?? "installed \(release.installed)"
                        print("  \(release.current ? "*" : " ") \(release.version)  \(who)")
                    }
                }
            }
        }
    }
}
