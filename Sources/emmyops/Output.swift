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
        FileHandle.standardError.write(Data("emmyops: \(paint("error:", .red)) \(message)\n".utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    static func printDiagnostics(_ diagnostics: [Diagnostic]) {
        for diagnostic in diagnostics {
            let severity = diagnostic.severity.rawValue
            let text = diagnostic.description.replacingOccurrences(
                of: ": \(severity): ", with: ": \(paint("\(severity):", diagnostic.severity == .error ? .red : .yellow)) ",
                options: [], range: diagnostic.description.range(of: ": \(severity): "))
            FileHandle.standardError.write(Data("\(text)\n".utf8))
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
