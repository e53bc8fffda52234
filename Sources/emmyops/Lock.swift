import ArgumentParser
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct Lock: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lock",
            abstract: "Show or release the deploy lock.",
            discussion: """
            A deploy takes its lock on the first host it works on (the first app host for --all). \
            Without --host these commands look at every app host.
            """,
            subcommands: [Status.self, Release.self])

        struct Status: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "status", abstract: "Who holds the deploy lock, since when, until when, and whether their process lives.")

            @OptionGroup var fleet: FleetOptions

            func run() throws {
                let reports = try Lock.inspect(fleet) { try $0.report() }
                try Lock.show(reports, fleet.format)
            }
        }

        struct Release: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "release",
                abstract: "Remove a deploy lock left by a run that is gone.",
                discussion: "Refuses while the holder's process is alive (or runs on another machine and the lock has not expired) unless --force.")

            @OptionGroup var fleet: FleetOptions

            @Flag(name: .long, help: "Release even if the holder may still be deploying.")
            var force = false

            func run() throws {
                let force = self.force
                let reports = try Lock.inspect(fleet) { try $0.release(force: force) }
                for report in reports where report.state != "free" {
                    Output.note("released the lock on \(report.host) (was \(report.state) by \(report.holder ?? "no holder"))")
                }
                if reports.allSatisfy({ $0.state == "free" }) { Output.note("no deploy lock is held") }
            }
        }

        /// `body` on each selected app host's lock; any host's failure fails the command after all answered.
        static func inspect(_ fleet: FleetOptions, _ body: @escaping @Sendable (LockInspection) throws -> LockReport) throws -> [LockReport] {
            let (spec, targets) = try fleet.load(roles: [.app])
            let answers = try fleet.withTransports(spec) { runner in
                FleetQuery.each(targets) { target in try body(LockInspection(runner: runner(target), target: target)) }
            }
            let (reports, failure) = FleetAnswers.split(answers)
            if let failure { throw failure }
            return reports
        }

        static func show(_ reports: [LockReport], _ format: FleetOptions.EventFormat) throws {
            if format == .json {
                let encoder = JSONEncoder()
                encoder.keyEncodingStrategy = .convertToSnakeCase
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(reports), as: UTF8.self))
            } else {
                for report in reports { Swift.print(report.summary) }
            }
        }
    }
}
