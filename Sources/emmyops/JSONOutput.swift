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
