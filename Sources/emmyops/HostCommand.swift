import ArgumentParser
import EmmyOpsKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension EmmyOps {
    /// The host side of deploy and rollback, run over SSH by the release's own binary.
    struct HostCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "host", abstract: "Host-side steps of deploy and rollback (run over SSH).", shouldDisplay: false,
            subcommands: [Activate.self, Prune.self, Releases.self, Details.self, Monitoring.self])

        struct Activate: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "activate", abstract: "Start a release on the idle slot, gate on readiness, switch nginx and `current`.")
            @Option var root: String
            @Option var version: String
            @Option var host: String
            @Option var who: String
            @Option var action: String = "deploy"
            @Option(help: "After a good cut-over, delete the oldest releases beyond this many.") var keep: Int?

            func run() throws {
                // The deployer may vanish (killed, network gone): finish the cut-over regardless.
                signal(SIGPIPE, SIG_IGN)
                signal(SIGHUP, SIG_IGN)
                do {
                    let result = try HostActivation(layout: ReleaseLayout(root: root), hostName: host, version: version,
                                                    who: who, action: action).run()
                    print("\(host): \(result.summary)")
                    if let keep {
                        let removed = HostActivation.prune(ReleaseLayout(root: root), keep: max(2, keep))
                        if !removed.isEmpty { print("pruned \(removed.joined(separator: " "))") }
                    }
                } catch {
                    // Every activation failure is the release's problem (exit 1), whatever its type.
                    throw CommandFailure.problem("\(error)")
                }
            }
        }

        struct Monitoring: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "monitoring", abstract: "Install the uploaded monitoring configuration: check, switch, start or reload.")
            @Option var root: String
            @Option var host: String

            func run() throws {
                signal(SIGPIPE, SIG_IGN)
                signal(SIGHUP, SIG_IGN)
                do {
                    for line in try HostMonitoring(root: root, hostName: host).run() { print("\(host): \(line)") }
                } catch {
                    throw CommandFailure.problem("\(error)")
                }
            }
        }

        struct Prune: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "prune", abstract: "Delete the oldest releases beyond --keep.")
            @Option var root: String
            @Option var keep: Int

            func run() throws {
                let removed = HostActivation.prune(ReleaseLayout(root: root), keep: max(2, keep))
                if !removed.isEmpty { print("removed \(removed.joined(separator: " "))") }
            }
        }

        struct Releases: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "releases", abstract: "Installed releases and who deployed them, as JSON.")
            @Option var root: String

            func run() throws {
                let encoder = JSONEncoder()
                encoder.keyEncodingStrategy = .convertToSnakeCase
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(HostActivation.listing(ReleaseLayout(root: root))), as: UTF8.self))
            }
        }

        struct Details: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "details", abstract: "This host's release, slot, supervisor and readiness, as JSON (for `emmyops details`).")
            @Option var root: String
            @Option var host: String

            func run() throws {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(HostDetails.gather(layout: ReleaseLayout(root: root), hostName: host)), as: UTF8.self))
            }
        }
    }
}
