import ArgumentParser
import EmmyOpsKit
import Foundation

/// `--spec`, shared by every command that reads emmy.yaml.
struct SpecOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Path to the spec.", valueName: "file"))
    var spec: String = "emmy.yaml"

    init() {}
    init(spec: String) { self.spec = spec }

    /// Loads the spec, printing diagnostics to stderr. An unreadable file propagates as
    /// `SpecError.unreadable`; spec errors become a problem naming their count.
    func load() throws -> Spec {
        do {
            let (spec, diagnostics) = try SpecLoader.load(path: self.spec)
            Output.printDiagnostics(diagnostics)
            return spec
        } catch SpecError.invalid(let diagnostics) {
            Output.printDiagnostics(diagnostics)
            throw CommandFailure.problem("\(diagnostics.filter { $0.severity == .error }.count) error(s) in \(self.spec)")
        }
    }
}
