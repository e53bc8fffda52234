import ArgumentParser
import EmmyOpsKit
import Foundation

/// `validate --format json`: one document with the counts and every diagnostic.
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

/// `--format text|json` for commands whose output is a result rather than progress.
struct FormatOption: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    static let defaultFormat = Format.text

    @Option(name: .long, help: "text, or json (one document on stdout).")
    var format: Format = FormatOption.defaultFormat

    var json: Bool { format == .json }

    /// Prints `value` as one sorted, pretty JSON document.
    func print(_ value: some Encodable) throws { try Self.printJSON(value) }

    /// One pretty document, or with `oneLine` one compact line: commands that print a result per
    /// host print a line each, as the fleet commands' `--format json` prints one event per line.
    static func printJSON(_ value: some Encodable, oneLine: Bool = false) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = oneLine ? [.sortedKeys, .withoutEscapingSlashes] : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
