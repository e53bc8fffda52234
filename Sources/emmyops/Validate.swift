import ArgumentParser
import EmmyOpsKit
import Foundation

extension ToolChecks.Mode: ExpressibleByArgument {}

extension EmmyOps {
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "validate",
            abstract: "Check the spec, cross-check its renderings, and run the real checkers.",
            discussion: """
            Checks, in order: the spec (every problem with file:line:col); the renderings against \
            each other and EmmyApp's metric catalogue (metric names, alert tests, receivers, jobs \
            and ports); then promtool (config, rules with --lint=all, every generated rule test), \
            amtool (config, one route test per severity), docker-compose, and for the GitHub \
            workflows zizmor --offline, check-jsonschema, checkov and shellcheck (every run: \
            script), when on PATH. --tools required makes a missing tool an error (exit 2). \
            With --format github and GITHUB_STEP_SUMMARY set, a Markdown summary is appended \
            to that file.
            """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, json, github
        }

        @OptionGroup var specOptions: SpecOptions

        @Option(name: .long, help: "Run real tools: auto (those on PATH), off, or required.")
        var tools: ToolChecks.Mode = .auto

        @Option(name: .long, help: "text, json (one document), or github (workflow annotations). Default: github under GitHub Actions, else text.")
        var format: Format?

        @Option(name: .long, help: ArgumentHelp("python-hcl2's interpreter (default: $EMMY_HCL2_PYTHON, else emmy-hcl2-python on PATH).", valueName: "path"))
        var hcl2Python: String?

        @Option(name: .long, help: ArgumentHelp("Terraform provider mirror for `terraform init` (default: $EMMY_TF_PLUGIN_MIRROR, else /opt/tf-plugins).", valueName: "dir"))
        var tfPluginMirror: String?

        func run() throws {
            let format = format ?? (ProcessInfo.processInfo.environment["GITHUB_ACTIONS"] == "true" ? .github : .text)
            // A full run takes tens of seconds: a person at a terminal sees each check finish.
            let showsProgress = format == .text && Output.showsProgress
            let progress: (ToolChecks.Progress) -> Void = { check in if showsProgress { Output.progress(check) } }
            let report: Validator.Report
            do {
                var locations = ToolLocations(environment: ProcessInfo.processInfo.environment)
                if let hcl2Python { locations.hcl2Python = hcl2Python }
                if let tfPluginMirror { locations.pluginMirror = tfPluginMirror }
                report = try Validator(locations: locations).run(specPath: specOptions.spec, tools: tools, progress: progress)
            } catch {
                throw CommandFailure.environment("\(error)")
            }
            switch format {
            case .text:
                Output.printDiagnostics(report.diagnostics)
                for tool in report.missingTools {
                    Output.note("\(tools == .required ? "error" : "note"): \(tool) is not on PATH; its checks did not run")
                }
                let summary = "\(specOptions.spec): \(report.errorCount) error(s), \(report.diagnostics.count - report.errorCount) warning(s); \(report.filesChecked) rendered files cross-checked; \(report.toolsRan.count) tool checks ran"
                print(summary)
            case .json:
                print(try JSONOutput.render(report))
            case .github:
                print(GitHubOutput.annotations(report, toolsRequired: tools == .required), terminator: "")
                if let summary = ProcessInfo.processInfo.environment["GITHUB_STEP_SUMMARY"], !summary.isEmpty {
                    do {
                        try GitHubOutput.append(GitHubOutput.summary(report, spec: specOptions.spec, toolsRequired: tools == .required), to: summary)
                    } catch {
                        Output.note("warning: cannot append the job summary to \(summary): \(error.localizedDescription)")
                    }
                }
            }
            if tools == .required && !report.missingTools.isEmpty { throw CommandFailure.environment(nil) }
            if report.errorCount > 0 { throw CommandFailure.silentProblem }
        }
    }
}
