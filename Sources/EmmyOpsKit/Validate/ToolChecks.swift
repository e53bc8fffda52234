import EmmyApp
import Foundation

/// Runs the real checkers over a rendering written to a scratch folder and turns their
/// findings into diagnostics. Each family of renderings adds its checks in its own file.
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

    /// Where the tools that are not simply on PATH live.
    public var locations: ToolLocations

    public init(locations: ToolLocations = ToolLocations()) { self.locations = locations }

    /// Every tool some check may run (python-hcl2's interpreter at its default location).
    public static let tools = ["promtool", "amtool", "docker-compose", "terraform", "checkov", "cloud-init", ToolLocations().hcl2Python,
                               "zizmor", "check-jsonschema", "shellcheck"]

    /// One tool check finished: what ran, whether it exited 0, how long it took. The CLI shows
    /// these as they come (a full run takes tens of seconds); the library only reports them.
    public struct Progress: Sendable {
        public var label: String
        public var passed: Bool
        public var seconds: Double
    }

    public func run(_ spec: Spec, files: [RenderedFile], mode: Mode, progress: @escaping (Progress) -> Void = { _ in }) throws -> Report {
        guard mode != .off else { return Report() }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("emmyops-validate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try RenderWriter(root: scratch).write(files)
        let session = ToolSession(scratch: scratch, progress: progress)
        monitoringChecks(spec, files: files, session)
        terraformChecks(spec, files: files, session)
        githubChecks(spec, files: files, session)
        return session.report
    }

    private func monitoringChecks(_ spec: Spec, files: [RenderedFile], _ session: ToolSession) {
        let paths = files.map(\.path)
        let rules = paths.filter { $0.hasPrefix(OutputPath.rulesFolder) }
        let tests = paths.filter { $0.hasPrefix(OutputPath.ruleTestsFolder) }
        if let promtool = session.tool("promtool") {
            if paths.contains(OutputPath.prometheusConfig) {
                session.check(promtool, ["check", "config", OutputPath.prometheusConfig],
                              file: OutputPath.prometheusConfig, label: "promtool check config \(OutputPath.prometheusConfig)")
            }
            if paths.contains(OutputPath.composePrometheus) {
                // Its rule glob points inside the container; check the config's syntax alone.
                session.check(promtool, ["check", "config", "--syntax-only", OutputPath.composePrometheus],
                              file: OutputPath.composePrometheus, label: "promtool check config \(OutputPath.composePrometheus)")
            }
            if !rules.isEmpty {
                session.check(promtool, ["check", "rules", "--lint=all", "--lint-fatal"] + rules, file: rules[0], label: "promtool check rules")
            }
            for test in tests {
                session.check(promtool, ["test", "rules", test], file: test, label: "promtool test rules \(test)")
            }
            // The names every rule and panel was checked against must themselves follow the conventions.
            session.check(promtool, ["check", "metrics"], file: "Sources/EmmyApp/MetricCatalogue.swift",
                          label: "promtool check metrics (EmmyApp's catalogue)", input: Data(MetricCatalogue.sampleExposition().utf8))
        }
        if paths.contains(OutputPath.alertmanagerConfig), let amtool = session.tool("amtool") {
            let config = OutputPath.alertmanagerConfig
            session.check(amtool, ["check-config", config], file: config, label: "amtool check-config")
            for expectation in AlertmanagerRenderer.expectations(spec) {
                let labels = expectation.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                // amtool warns about --config.file on stderr; its verdict is on stdout.
                session.check(amtool, ["config", "routes", "test", "--config.file=\(config)",
                                       "--verify.receivers=\(expectation.receivers.joined(separator: ","))"] + labels,
                              file: OutputPath.alertmanagerRoutes,
                              label: "amtool config routes test \(labels.joined(separator: " "))", stdoutOnly: true)
            }
        }
        if paths.contains(OutputPath.compose), let compose = session.tool("docker-compose") {
            // Compose mounts ./secrets; the files need not hold real values for a config check.
            try? FileManager.default.createDirectory(at: session.scratch.appendingPathComponent(OutputPath.composeSecrets), withIntermediateDirectories: true)
            session.check(compose, ["-f", OutputPath.compose, "config", "-q"], file: OutputPath.compose, label: "docker-compose config")
        }
    }
}

/// One validation run's scratch folder, tool lookups and findings.
final class ToolSession {
    let scratch: URL
    private(set) var report = ToolChecks.Report()
    private let runner = ProcessRunner()
    private let progress: (ToolChecks.Progress) -> Void

    init(scratch: URL, progress: @escaping (ToolChecks.Progress) -> Void = { _ in }) {
        self.scratch = scratch
        self.progress = progress
    }

    /// The tool's path, or nil after noting it missing.
    func tool(_ name: String) -> String? {
        if name.contains("/") {
            if FileManager.default.isExecutableFile(atPath: name) { return name }
        } else if let path = ProcessRunner.which(name) {
            return path
        }
        if !report.missing.contains(name) { report.missing.append(name) }
        return nil
    }

    func note(_ diagnostic: Diagnostic) { report.diagnostics.append(diagnostic) }

    /// Runs a tool in the scratch folder and records that it ran; nil (after noting why) when
    /// it could not start or finish. Callers that parse a tool's own report use this.
    func run(_ executable: String, _ arguments: [String], file: String, label: String, input: Data? = nil,
             environment: [String: String]? = nil, timeout: TimeInterval = 120) -> ProcessRunner.Output? {
        report.ran.append(label)
        let started = ContinuousClock.now
        let output = attempt(executable, arguments, file: file, label: label, input: input, environment: environment, timeout: timeout)
        let elapsed = (ContinuousClock.now - started).components
        progress(.init(label: label, passed: output?.status == 0, seconds: Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18))
        return output
    }

    private func attempt(_ executable: String, _ arguments: [String], file: String, label: String, input: Data?,
                         environment: [String: String]?, timeout: TimeInterval) -> ProcessRunner.Output? {
        let location = SourceLocation(file: file, line: 1, column: 1)
        do {
            let output = try runner.run(executable, arguments, currentDirectory: scratch.path, input: input,
                                        environment: environment, timeout: timeout)
            if output.timedOut {
                note(Diagnostic(.error, at: location, path: "", "\(label) did not finish within \(Int(timeout))s"))
                return nil
            }
            return output
        } catch {
            note(Diagnostic(.error, at: location, path: "", "cannot run \(label): \(error)"))
            return nil
        }
    }

    /// Runs a checker whose verdict is its exit status; a failure becomes a diagnostic on `file`.
    func check(_ executable: String, _ arguments: [String], file: String, label: String, stdoutOnly: Bool = false,
               input: Data? = nil, environment: [String: String]? = nil, timeout: TimeInterval = 120) {
        guard let output = run(executable, arguments, file: file, label: label, input: input, environment: environment, timeout: timeout),
              output.status != 0 else { return }
        note(diagnostic(from: stdoutOnly ? output.stdout : output.stdout + output.stderr, file: file, label: label))
    }

    /// Turns a tool's complaint into a diagnostic, keeping the first `line:col` it names.
    func diagnostic(from text: String, file: String, label: String) -> Diagnostic {
        let cleaned = text.replacingOccurrences(of: scratch.path + "/", with: "")
        let lines = cleaned.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("Checking") && !$0.contains("SUCCESS") && !$0.hasPrefix("level=warn") }
        let message = lines.prefix(12).joined(separator: " | ")
        var line = 1, column = 1
        if let match = cleaned.firstMatch(of: /(\d+):(\d+)/) {
            line = Int(match.1) ?? 1
            column = Int(match.2) ?? 1
        }
        return Diagnostic(.error, at: SourceLocation(file: file, line: line, column: column), path: "",
                          "\(label) failed: \(message.isEmpty ? "exit status non-zero" : message)")
    }
}
