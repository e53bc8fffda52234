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
                print(GitHubOutput.annotations(report, toolsRequired: tools == .required), terminator: "")
                if let summary = ProcessInfo.processInfo.environment["GITHUB_STEP_SUMMARY"], !summary.isEmpty {
                    do {
                        try GitHubOutput.append(GitHubOutput.summary(report, spec: specOptions.spec, toolsRequired: tools == .required), to: summary)
                    } catch {
                        Output.note("warning: cannot append the job summary to \(summary): \(error.localizedDescription)")
                    }
                }
            }
            if tools == .required && !report.missingTools.isEmpty { throw ExitCode(2) }
            if report.errorCount > 0 { throw ExitCode(1) }
        }
    }
}

/// `--format github`: workflow-command annotations, and the Markdown job summary.
enum GitHubOutput {
    /// One `::error file=…,line=…,col=…::message` line per diagnostic (the location is in the
    /// properties, so the message leaves it out), then one line per missing tool.
    static func annotations(_ report: Validator.Report, toolsRequired: Bool) -> String {
        var out = ""
        for diagnostic in report.diagnostics {
            let location = diagnostic.location
            out += "::\(diagnostic.severity.rawValue) file=\(escapeProperty(location.file)),line=\(location.line),col=\(location.column)::\(escape(message(diagnostic)))\n"
        }
        for tool in report.missingTools { out += "::\(toolsRequired ? "error" : "notice")::\(tool) is not on PATH\n" }
        return out
    }

    /// The diagnostic without its location: `path: message; hint`.
    static func message(_ diagnostic: Diagnostic) -> String {
        var text = diagnostic.path.isEmpty ? "" : "\(diagnostic.path): "
        text += diagnostic.message
        if let hint = diagnostic.hint { text += "; \(hint)" }
        return text
    }

    /// A heading, the counts, and a table of every diagnostic, for `$GITHUB_STEP_SUMMARY`.
    static func summary(_ report: Validator.Report, spec: String, toolsRequired: Bool) -> String {
        let warnings = report.diagnostics.count - report.errorCount
        let failed = report.errorCount > 0 || (toolsRequired && !report.missingTools.isEmpty)
        var out = "## emmyops validate: \(cell(spec))\n\n"
        out += "**\(failed ? "Failed" : "Passed")**: \(report.errorCount) error(s), \(warnings) warning(s); "
        out += "\(report.filesChecked) rendered files cross-checked; \(report.toolsRan.count) tool checks ran.\n\n"
        if !report.diagnostics.isEmpty {
            out += "| Location | Severity | Message |\n| --- | --- | --- |\n"
            for diagnostic in report.diagnostics {
                out += "| \(cell(diagnostic.location.description)) | \(diagnostic.severity.rawValue) | \(cell(message(diagnostic))) |\n"
            }
            out += "\n"
        }
        if !report.missingTools.isEmpty {
            out += "Not on PATH, so their checks did not run: \(report.missingTools.map(cell).joined(separator: ", ")).\n\n"
        }
        return out
    }

    /// Appends to the summary file, creating it when missing.
    static func append(_ text: String, to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else { throw CocoaError(.fileWriteNoPermission) }
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// A Markdown table cell: `|` escaped, line breaks as `<br>`.
    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\r\n", with: "<br>").replacingOccurrences(of: "\n", with: "<br>")
    }

    /// Workflow commands need %, CR and LF escaped in their message.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(of: "\n", with: "%0A")
    }

    /// Property values (the file) also need `:` and `,` escaped.
    static func escapeProperty(_ text: String) -> String {
        escape(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
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
