import EmmyOpsKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The executable's only writer of human-facing text.
enum Output {
    /// `--no-color` on the command line; set once by `main` before any command runs.
    nonisolated(unsafe) static var colourOff = false

    /// Colour only for a person at a terminal, and never when NO_COLOR (no-color.org) is set.
    static func colours(_ descriptor: Int32) -> Bool {
        !colourOff && isatty(descriptor) == 1 && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
    }

    enum Colour: String { case red = "31", yellow = "33", green = "32", dim = "2" }

    static func paint(_ text: String, _ colour: Colour, on descriptor: Int32 = STDERR_FILENO) -> String {
        colours(descriptor) ? "\u{1B}[\(colour.rawValue)m\(text)\u{1B}[0m" : text
    }

    static func error(_ message: String) {
        writeStandardError("emmyops: \(paint("error:", .red)) \(message)\n")
    }

    static func note(_ message: String) {
        writeStandardError("\(message)\n")
    }

    static func printDiagnostics(_ diagnostics: [Diagnostic]) {
        for diagnostic in diagnostics {
            let severity = diagnostic.severity.rawValue
            let text = diagnostic.description.replacingOccurrences(
                of: ": \(severity): ", with: ": \(paint("\(severity):", diagnostic.severity == .error ? .red : .yellow)) ",
                options: [], range: diagnostic.description.range(of: ": \(severity): "))
            writeStandardError("\(text)\n")
        }
    }

    /// Writes all of `text` to stderr (write(2) may take part of it) straight from the string's
    /// bytes: FileHandle wanted a Data copy, and the first Data made from a sequence costs a
    /// scan of the binary's conformance records (1% of `render all`).
    private static func writeStandardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    /// Whether progress lines are wanted: only a person at a terminal reads them.
    static var showsProgress: Bool { isatty(STDERR_FILENO) == 1 }

    /// One finished tool check, as `validate` runs them.
    static func progress(_ check: ToolChecks.Progress) {
        let verdict = check.passed ? paint("ok  ", .green) : paint("fail", .red)
        note("  \(verdict) \(check.label) \(paint(String(format: "(%.1f s)", check.seconds), .dim))")
    }
}
