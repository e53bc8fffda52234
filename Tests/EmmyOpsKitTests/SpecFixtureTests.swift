@testable import EmmyOpsKit
import Foundation
import Testing

/// Every invalid fixture states, on its first line, the diagnostic it must produce:
/// `# expect LINE:COL: message`. The loader must report exactly that location and message.
@Suite struct SpecFixtureTests {
    static let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/invalid")

    static var fixtures: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
    }

    @Test func thereAreAtLeastThirtyFixtures() {
        #expect(Self.fixtures.count >= 30)
    }

    @Test(arguments: fixtures)
    func fixtureProducesItsDiagnostic(_ name: String) throws {
        let url = Self.directory.appendingPathComponent(name)
        let text = try String(contentsOf: url, encoding: .utf8)
        let header = try #require(text.split(separator: "\n").first.map(String.init))
        let match = try #require(header.wholeMatch(of: /# expect (\d+):(\d+): (.+)/), "\(name) has no `# expect` line")
        let (line, column, message) = (Int(match.1)!, Int(match.2)!, String(match.3))

        let result = SpecLoader.load(data: Data(text.utf8), file: name)
        #expect(result.spec == nil, "\(name) should be rejected")
        let found = result.diagnostics.first { $0.description.contains(message) }
        let diagnostic = try #require(found, "\(name): no diagnostic contains \"\(message)\"; got:\n\(result.diagnostics.map(\.description).joined(separator: "\n"))")
        #expect(diagnostic.location.line == line && diagnostic.location.column == column,
                "\(name): expected \(line):\(column), got \(diagnostic.location.line):\(diagnostic.location.column)")
        #expect(diagnostic.location.file == name)
        #expect(diagnostic.description.hasPrefix("\(name):\(line):\(column): error: "))
    }

    @Test func allProblemsAreCollectedInOneRun() {
        let text = """
        version: 1
        app:
          port: 70000
        monitoring:
          scrape_interval: soon
        alerts:
          high_cpu: { treshold: 85% }
        """
        let result = SpecLoader.load(text: text, file: "emmy.yaml")
        let errors = result.diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 3)
        #expect(errors.map(\.path) == ["app.port", "monitoring.scrape_interval", "alerts.high_cpu.treshold"])
    }
}
