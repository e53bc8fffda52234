@testable import EmmyOpsKit
import Foundation
import Testing

/// Issue 18, defect 7, at the loader: aliases inside mapping keys.
@Suite struct SpecHostileInputTests {
    /// `a0` is a list of eight scalars and each `aN` a list of eight `*a(N-1)`: `*a7` expands to
    /// 8^8 nodes. Yams hashes a key's full expansion, so a key holding `*a7` took 19 s (issue 18).
    static let ladder: String = {
        var text = "version: 1\na0: &a0 [x, x, x, x, x, x, x, x]\n"
        for level in 1...7 {
            text += "a\(level): &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 8).joined(separator: ", "))]\n"
        }
        return text
    }()

    /// The ladder ends on line 9, so the key under test is on line 10 and later.
    static let aliasKeys: [(yaml: String, line: Int, column: Int)] = [
        ("x: {[*a7]: 1}\n", 10, 6),            // the issue's reproduction
        ("x: {*a7}\n", 10, 5),                 // a flow-mapping entry with no value is a key
        ("x: {[*a7]}\n", 10, 6),
        ("x: [[*a7]: 1]\n", 10, 6),            // a single-pair mapping inside a flow sequence
        ("x: {{k: *a7}: 1}\n", 10, 9),         // the alias is a value, but inside a key
        ("x: {[a, [b, *a7]]: 1}\n", 10, 13),
        ("[*a7]: 1\n", 10, 2),                 // a block mapping's implicit key
        ("x:\n- {[*a7]: 1}\n", 11, 5),          // a key inside a block sequence
        ("x: {?[*a7]: 1}\n", 10, 7),           // in flow context `?` needs no space after it
        ("x:\n  {\n    [*a7]: 1\n  }\n", 12, 6), // a flow mapping over several lines
        ("*a7 : 1\n", 10, 1),
    ]

    @Test(arguments: aliasKeys.indices)
    func anAliasInsideAKeyIsRefusedBeforeYamsHashesIt(_ index: Int) {
        let (yaml, line, column) = Self.aliasKeys[index]
        let start = ContinuousClock.now
        let result = SpecLoader.load(text: Self.ladder + yaml, file: "bomb.yaml")
        let elapsed = ContinuousClock.now - start
        #expect(elapsed < .seconds(3), "took \(elapsed) for \(yaml)")
        #expect(result.spec == nil)
        let diagnostic = result.diagnostics.first { $0.message.contains("cannot be used as a mapping key") }
        #expect(diagnostic?.location == SourceLocation(file: "bomb.yaml", line: line, column: column),
                "\(yaml): \(result.diagnostics.map(\.description))")
    }

    @Test func aliasesOutsideKeysAndStarsInTextStillLoad() throws {
        let result = SpecLoader.load(text: """
        version: 1
        # *not: an alias, {[*nor]: this}
        project: "a*b: {[*c]: 1}"
        monitoring: { scrape_interval: &every 10s, evaluation_interval: *every }
        hosts:
          - &web { name: web-1, address: 10.0.0.5 }
        """, file: "emmy.yaml")
        let spec = try #require(result.spec, "\(result.diagnostics)")
        #expect(spec.monitoring.evaluationInterval == .seconds(10))
        #expect(spec.project == "a*b: {[*c]: 1}")
    }

    @Test func anUndefinedAliasIsStillYamlsError() {
        let result = SpecLoader.load(text: "version: 1\nproject: *nowhere\n", file: "emmy.yaml")
        #expect(result.diagnostics.contains { $0.message.contains("undefined alias") }, "\(result.diagnostics)")
    }
}
