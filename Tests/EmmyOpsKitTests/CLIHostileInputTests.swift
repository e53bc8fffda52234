import EmmyOpsKit
import Foundation
import Testing

/// Issue 18 through the built binary: the alias bomb against `validate`, `render` and `serve`.
@Suite struct CLIHostileInputTests {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    @Test func anAliasBombInAKeyIsRefusedAtOnceByEveryCommandThatReadsTheSpec() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try (SpecHostileInputTests.ladder + "x: {[*a7]: 1}\n").write(to: dir.appendingPathComponent("bomb.yaml"), atomically: true, encoding: .utf8)
        let port = try LoopbackPorts.pick(1)[0]
        for arguments in [["validate", "--spec", "bomb.yaml"], ["render", "all", "--spec", "bomb.yaml", "--out", "r"],
                          ["serve", "--spec", "bomb.yaml", "--port", "\(port)", "--data-dir", "data"]] {
            let start = ContinuousClock.now
            let result = try CLI.run(arguments, in: dir)
            let elapsed = ContinuousClock.now - start
            #expect(elapsed < .seconds(10), "\(arguments[0]) took \(elapsed)")
            #expect(result.status == 1, "\(arguments[0]): \(result.stderr)")
            #expect(result.stderr.contains("bomb.yaml:10:6: error: an alias cannot be used as a mapping key or inside one"),
                    "\(arguments[0]): \(result.stderr)")
        }
    }
}
