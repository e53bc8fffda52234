import EmmyOpsKit
import Foundation

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
