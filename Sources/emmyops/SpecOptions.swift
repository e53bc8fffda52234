import ArgumentParser
import EmmyOpsKit
import Foundation

/// `--spec`, shared by every command that reads emmy.yaml.
struct SpecOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Path to the spec.", valueName: "file"))
    var spec: String = "emmy.yaml"

    init() {}
    init(spec: String) { self.spec = spec }

    /// Loads the spec, printing diagnostics to stderr; exits 1 on spec errors, 2 when unreadable.
    func load() throws -> Spec {
        do {
            let (spec, diagnostics) = try SpecLoader.load(path: self.spec)
            Output.printDiagnostics(diagnostics)
            return spec
        } catch let error as SpecError {
            switch error {
            case .unreadable:
                Output.error("\(error)")
                throw ExitCode(2)
            case .invalid(let diagnostics):
                Output.printDiagnostics(diagnostics)
                Output.error("\(diagnostics.filter { $0.severity == .error }.count) error(s) in \(self.spec)")
                throw ExitCode(1)
            }
        }
    }
}

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
