@testable import EmmyOpsKit
import Foundation
import Testing

/// No input may crash or hang the loader: junk, huge, deep and self-referential YAML all come
/// back as diagnostics, quickly.
@Suite struct SpecRobustnessTests {
    private func rejectsQuickly(_ data: Data, containing message: String? = nil, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let start = ContinuousClock.now
        let result = SpecLoader.load(data: data, file: "junk.yaml")
        let elapsed = ContinuousClock.now - start
        #expect(result.spec == nil, sourceLocation: sourceLocation)
        #expect(!result.diagnostics.isEmpty, sourceLocation: sourceLocation)
        #expect(elapsed < .seconds(5), "took \(elapsed)", sourceLocation: sourceLocation)
        if let message {
            #expect(result.diagnostics.contains { $0.message.contains(message) },
                    "\(result.diagnostics.map(\.description))", sourceLocation: sourceLocation)
        }
    }

    @Test func randomBytes() {
        var generator = SeededGenerator(seed: 42)
        for length in [1, 7, 100, 4096, 65536] {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let result = SpecLoader.load(data: Data(bytes), file: "random.yaml")
                #expect(!result.diagnostics.isEmpty || result.spec != nil)
            }
        }
    }

    @Test func randomPrintableText() {
        var generator = SeededGenerator(seed: 7)
        let alphabet = Array("version: 1\n-[]{}:,&*!|>'\"%@`#  abc\t")
        for _ in 0..<300 {
            let text = String((0..<Int.random(in: 0...400, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            _ = SpecLoader.load(text: text, file: "random.yaml")
        }
    }

    @Test func notUTF8() {
        rejectsQuickly(Data([0x76, 0x65, 0x72, 0x0A, 0xFF, 0xFE, 0x00]), containing: "not valid UTF-8")
    }

    @Test func hugeFile() {
        let line = "# " + String(repeating: "x", count: 1000) + "\n"
        rejectsQuickly(Data(String(repeating: line, count: 1100).utf8), containing: "larger than")
    }

    @Test func deepFlowNesting() {
        rejectsQuickly(Data(("version: 1\nx: " + String(repeating: "[", count: 100_000)).utf8), containing: "nesting is deeper")
    }

    @Test func deepBlockSequenceOnOneLine() {
        rejectsQuickly(Data(("version: 1\nx: " + String(repeating: "- ", count: 200_000) + "a\n").utf8), containing: "nesting is deeper")
    }

    @Test func deepIndentation() {
        var text = "version: 1\n"
        for depth in 0..<200 { text += String(repeating: " ", count: depth * 2) + "k\(depth):\n" }
        rejectsQuickly(Data(text.utf8), containing: "nesting is deeper")
    }

    @Test func aliasBomb() {
        var text = "version: 1\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1..<12 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(refs)]\n"
        }
        text += "app: *a11\n"
        rejectsQuickly(Data(text.utf8))
    }

    @Test func onlyComments() {
        rejectsQuickly(Data("# nothing here\n".utf8), containing: "empty")
    }

    @Test func topLevelList() {
        rejectsQuickly(Data("- version: 1\n".utf8), containing: "expected a mapping")
    }

    @Test func fiveLineSpecIsValid() throws {
        let result = SpecLoader.load(text: """
        version: 1
        project: tiny
        app:
          name: sms
          port: 8080
        """, file: "emmy.yaml")
        let spec = try #require(result.spec, "\(result.diagnostics)")
        #expect(spec.app.port == 8080)
        #expect(spec.monitoring.prometheus.port == 9090)
        #expect(spec.alerts[.highErrorRate].threshold == .ratio(Ratio(percent: "5%")!))
    }
}

/// A small deterministic generator (SplitMix64) so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SpecRobustnessTests {
    @Test func aliasBombAsKey() {
        var text = "version: 1\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1..<12 {
            text += "a\(level): &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", "))]\n"
        }
        rejectsQuickly(Data((text + "? *a11\n: 1\n").utf8), containing: "cannot be used as a mapping key")
        rejectsQuickly(Data((text + "*a11 : 1\n").utf8), containing: "cannot be used as a mapping key")
        rejectsQuickly(Data((text + "x: {*a11 : 1}\n").utf8), containing: "cannot be used as a mapping key")
    }

    @Test func aliasesAsValuesStillWork() throws {
        let result = SpecLoader.load(text: """
        version: 1
        monitoring:
          scrape_interval: &every 10s
          evaluation_interval: *every
        """, file: "emmy.yaml")
        let spec = try #require(result.spec, "\(result.diagnostics)")
        #expect(spec.monitoring.evaluationInterval == .seconds(10))
    }
}
