import ArgumentParser
import EmmyOpsKit
import Foundation

extension ToolChecks.Mode: ExpressibleByArgument {}

extension EmmyOps {
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the spec, cross-check its renderings, and run the real checkers.",
            discussion: """
            Checks, in order: the spec (every problem with file:line:col); the renderings against \
            each other and EmmyApp's metric catalogue (metric names, alert tests, receivers, jobs \
            and ports); then promtool (config, rules with --lint=all, every generated rule test), \
            amtool (config, one route test per severity) and docker-compose, when on PATH. \
            --tools required makes a missing tool an error (exit 2).
            """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, json, github
        }

        @OptionGroup var specOptions: SpecOptions

        @Option(name: .long, help: "Run real tools: auto (those on PATH), off, or required.")
        var tools: ToolChecks.Mode = .auto

        @Option(name: .long, help: "text, json (one document), or github (workflow annotations). Default: github under GitHub Actions, else text.")
        var format: Format?

        func run() throws {
            let report: Validator.Report
            do {
                report = try Validator().run(specPath: specOptions.spec, tools: tools)
            } catch {
                Output.error("\(error)")
                throw ExitCode(2)
            }
            let format = format ?? (ProcessInfo.processInfo.environment["GITHUB_ACTIONS"] == "true" ? .github : .text)
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
                for diagnostic in report.diagnostics {
                    let kind = diagnostic.severity == .error ? "error" : "warning"
                    let location = diagnostic.location
                    print("::\(kind) file=\(location.file),line=\(location.line),col=\(location.column)::\(GitHubEscape.escape(diagnostic.description))")
                }
                for tool in report.missingTools { print("::\(tools == .required ? "error" : "notice")::\(tool) is not on PATH") }
            }
            if tools == .required && !report.missingTools.isEmpty { throw ExitCode(2) }
            if report.errorCount > 0 { throw ExitCode(1) }
        }
    }
}

enum GitHubEscape {
    /// Workflow commands need %, CR and LF escaped in their message.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(of: "\n", with: "%0A")
    }
}

enum JSONOutput {
    struct Document: Encodable {
        var ok: Bool
        var errors: Int
        var warnings: Int
        var diagnostics: [Diagnostic]
        var missingTools: [String]
        var toolChecks: [String]
    }

    static func render(_ report: Validator.Report) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let document = Document(ok: report.errorCount == 0, errors: report.errorCount,
                                warnings: report.diagnostics.count - report.errorCount,
                                diagnostics: report.diagnostics, missingTools: report.missingTools, toolChecks: report.toolsRan)
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }
}
