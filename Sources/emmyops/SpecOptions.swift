import ArgumentParser
import EmmyOpsKit
import Foundation

/// `--spec`, shared by every command that reads emmy.yaml.
struct SpecOptions: ParsableArguments {
    static let defaultPath = "emmy.yaml"

    @Option(name: .long, help: ArgumentHelp("Path to the spec.", valueName: "file"))
    var spec: String = SpecOptions.defaultPath

    init() {}
    init(spec: String) { self.spec = spec }

    /// Loads the spec, printing diagnostics to stderr. An unreadable file propagates as
    /// `SpecError.unreadable`; spec errors become a problem naming their count.
    func load() throws -> Spec { try Self.load(path: spec) }

    /// `load()` of the spec at `path`, for a command that reads `--spec` without ArgumentParser.
    static func load(path: String) throws -> Spec {
        do {
            let (spec, diagnostics) = try SpecLoader.load(path: path)
            Output.printDiagnostics(diagnostics)
            return spec
        } catch SpecError.invalid(let diagnostics) {
            Output.printDiagnostics(diagnostics)
            throw CommandFailure.problem("\(diagnostics.filter { $0.severity == .error }.count) error(s) in \(path)")
        }
    }
}
