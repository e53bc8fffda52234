@testable import EmmyOpsKit
import Foundation

/// The repository's workflow files and the checkers the GitHub tests drive.
enum GitHubTooling {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static let tools = ["zizmor", "check-jsonschema", "checkov", "shellcheck"]

    /// Every checker is on PATH, or CI (EMMY_REQUIRE_TOOLS=1) wants the test to fail loudly without one.
    static var enabled: Bool { tools.allSatisfy { ProcessRunner.which($0) != nil } || CLI.toolsRequired }

    static func example() throws -> Spec {
        try SpecLoader.load(path: root.appendingPathComponent("examples/emmy.yaml").path).0
    }

    /// `.github/workflows/*.yml` as committed, by file name.
    static func committedWorkflows() throws -> [String: String] {
        let dir = root.appendingPathComponent(".github/workflows")
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            files[name] = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
        }
        return files
    }

    static func actionFile() throws -> String {
        try String(contentsOf: root.appendingPathComponent("action.yml"), encoding: .utf8)
    }

    /// Writes `files` under a fresh temporary folder.
    static func write(_ files: [RenderedFile]) throws -> URL {
        let dir = try CLI.temporaryDirectory()
        try RenderWriter(root: dir).write(files)
        return dir
    }

    /// Runs a checker by name; a missing one is a failure, not a skip.
    static func run(_ tool: String, _ arguments: [String], in directory: URL, timeout: TimeInterval = 300) throws -> ProcessRunner.Output {
        guard let path = ProcessRunner.which(tool) else { throw Missing(tool: tool) }
        return try ProcessRunner().run(path, arguments, currentDirectory: directory.path, timeout: timeout)
    }

    struct Missing: Error, CustomStringConvertible {
        var tool: String
        var description: String { "\(tool) is not on PATH" }
    }
}
