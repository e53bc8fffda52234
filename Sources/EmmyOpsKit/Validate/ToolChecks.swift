import EmmyApp
import Foundation

/// Runs the real checkers over a rendering written to a scratch folder and turns their
/// findings into diagnostics: promtool, amtool and docker-compose.
public struct ToolChecks: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Run the tools found on PATH; note the missing ones.
        case auto
        case off
        /// A missing tool is an environment error.
        case required
    }

    public struct Report: Sendable {
        public var diagnostics: [Diagnostic] = []
        /// Tools the checks wanted but could not find.
        public var missing: [String] = []
        /// Tool invocations that ran, for the summary.
        public var ran: [String] = []
    }

    let runner = ProcessRunner()

    public init() {}

    public static let tools = ["promtool", "amtool", "docker-compose"]

    public func run(_ spec: Spec, files: [RenderedFile], mode: Mode) throws -> Report {
        var report = Report()
        guard mode != .off else { return report }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("emmyops-validate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try RenderWriter(root: scratch).write(files)
        // Compose mounts ./secrets; the files need not hold real values for a config check.
        try FileManager.default.createDirectory(at: scratch.appendingPathComponent("compose/secrets"), withIntermediateDirectories: true)

        func tool(_ name: String) -> String? {
            if let path = ProcessRunner.which(name) { return path }
            report.missing.append(name)
            return nil
        }
        func check(_ executable: String, _ arguments: [String], file: String, label: String, stdoutOnly: Bool = false, input: Data? = nil) {
            report.ran.append(label)
            do {
                let output = try runner.run(executable, arguments, currentDirectory: scratch.path, input: input, timeout: 120)
                if output.timedOut {
                    report.diagnostics.append(Diagnostic(.error, at: SourceLocation(file: file, line: 1, column: 1), path: "",
                                                         "\(label) did not finish within 120s"))
                } else if output.status != 0 {
                    let text = stdoutOnly ? output.stdout : output.stdout + output.stderr
                    report.diagnostics += diagnostics(from: text, file: file, label: label, scratch: scratch.path)
                }
            } catch {
                report.diagnostics.append(Diagnostic(.error, at: SourceLocation(file: file, line: 1, column: 1), path: "",
                                                     "cannot run \(label): \(error)"))
            }
        }

        let rules = files.map(\.path).filter { $0.hasPrefix("monitoring/prometheus/rules/") }
        let tests = files.map(\.path).filter { $0.hasPrefix("monitoring/prometheus/tests/") }
        if let promtool = tool("promtool") {
            for config in ["monitoring/prometheus/prometheus.yml", "compose/prometheus/prometheus.yml"] where files.contains(where: { $0.path == config }) {
                // The compose config's rule glob is relative to the container; check its syntax alone.
                check(promtool, ["check", "config", "--syntax-only", config], file: config, label: "promtool check config \(config)")
            }
            check(promtool, ["check", "rules", "--lint=all", "--lint-fatal"] + rules, file: rules.first ?? "", label: "promtool check rules")
            for test in tests {
                check(promtool, ["test", "rules", test], file: test, label: "promtool test rules \(test)")
            }
            // The names every rule and panel was checked against must themselves follow the conventions.
            check(promtool, ["check", "metrics"], file: "Sources/EmmyApp/MetricCatalogue.swift",
                  label: "promtool check metrics (EmmyApp's catalogue)", input: Data(MetricCatalogue.sampleExposition().utf8))
        }
        if let amtool = tool("amtool") {
            let config = "monitoring/alertmanager/alertmanager.yml"
            check(amtool, ["check-config", config], file: config, label: "amtool check-config")
            for expectation in AlertmanagerRenderer.expectations(spec) {
                let labels = expectation.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                check(amtool, ["config", "routes", "test", "--config.file=\(config)",
                               "--verify.receivers=\(expectation.receivers.joined(separator: ","))"] + labels,
                      file: "monitoring/alertmanager/routes.expected.yml",
                      label: "amtool config routes test \(labels.joined(separator: " "))", stdoutOnly: true)
            }
        }
        if let compose = tool("docker-compose") {
            check(compose, ["-f", "compose/docker-compose.yml", "config", "-q"], file: "compose/docker-compose.yml", label: "docker-compose config")
        }
        return report
    }

    /// Turns a tool's complaint into diagnostics, keeping any `line:col` it names.
    func diagnostics(from text: String, file: String, label: String, scratch: String) -> [Diagnostic] {
        let cleaned = text.replacingOccurrences(of: scratch + "/", with: "")
        let lines = cleaned.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("Checking") && !$0.contains("SUCCESS") && !$0.hasPrefix("level=warn") }
        let message = lines.prefix(12).joined(separator: " | ")
        var line = 1, column = 1
        if let match = cleaned.firstMatch(of: /(\d+):(\d+)/) {
            line = Int(match.1) ?? 1
            column = Int(match.2) ?? 1
        }
        return [Diagnostic(.error, at: SourceLocation(file: file, line: line, column: column), path: "",
                           "\(label) failed: \(message.isEmpty ? "exit status non-zero" : message)")]
    }
}
