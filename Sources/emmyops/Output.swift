import EmmyOpsKit
import Foundation

/// The executable's only writer of human-facing text.
enum Output {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("emmyops: error: \(message)\n".utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    static func printDiagnostics(_ diagnostics: [Diagnostic]) {
        for diagnostic in diagnostics { FileHandle.standardError.write(Data("\(diagnostic)\n".utf8)) }
    }
}
