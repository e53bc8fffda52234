import Foundation

/// `emmyops validate`: spec diagnostics, then cross-checks, then the real tools.
public struct Validator: Sendable {
    public struct Report: Sendable {
        public var diagnostics: [Diagnostic]
        public var missingTools: [String]
        public var toolsRan: [String]
        public var filesChecked: Int

        public var errorCount: Int { diagnostics.filter { $0.severity == .error }.count }
    }

    /// Where the checkers that are not simply on PATH live.
    public var locations: ToolLocations

    public init(locations: ToolLocations = ToolLocations()) { self.locations = locations }

    /// Validates the spec at `path`. Throws `SpecError.unreadable` when the file cannot be read.
    public func run(specPath: String, tools: ToolChecks.Mode, progress: @escaping (ToolChecks.Progress) -> Void = { _ in }) throws -> Report {
        let loaded = try SpecLoader.loadResult(path: specPath)
        guard let spec = loaded.spec else {
            return Report(diagnostics: loaded.diagnostics, missingTools: [], toolsRan: [], filesChecked: 0)
        }
        // Built once: the renderings and the cross-checks read the same alerts.
        let catalogue = AlertCatalogue(spec: spec)
        let files = RenderTarget.all.render(spec, catalogue: catalogue)
        var diagnostics = loaded.diagnostics + CrossChecks.run(spec, files: files, catalogue: catalogue)
        let toolReport = try ToolChecks(locations: locations).run(spec, files: files, mode: tools, progress: progress)
        diagnostics += toolReport.diagnostics
        return Report(diagnostics: diagnostics, missingTools: Array(Set(toolReport.missing)).sorted(),
                      toolsRan: toolReport.ran, filesChecked: files.count)
    }
}
