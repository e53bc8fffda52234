import Foundation
import Yams

extension ToolChecks {
    /// zizmor, check-jsonschema, checkov and shellcheck over the rendered `.github/workflows/`.
    ///
    /// Every zizmor finding, failed checkov check and shellcheck finding becomes a diagnostic at
    /// the workflow line it names.
    func githubChecks(_ spec: Spec, files: [RenderedFile], _ session: ToolSession) {
        let workflows = files.filter { $0.path.hasPrefix(GitHubRenderer.folder + "/") && $0.path.hasSuffix(".yml") }
        guard !workflows.isEmpty else { return }
        let paths = workflows.map(\.path)
        let checks = GitHubToolChecks(session: session)
        if let zizmor = session.tool("zizmor") { checks.zizmor(zizmor, paths: paths) }
        if let checkJSONSchema = session.tool("check-jsonschema") {
            for path in paths {
                session.check(checkJSONSchema, ["--builtin-schema", "vendor.github-workflows", path], file: path,
                              label: "check-jsonschema --builtin-schema vendor.github-workflows \(path)")
            }
        }
        if let checkov = session.tool("checkov") { checks.checkov(checkov, workflows: workflows) }
        if let shellcheck = session.tool("shellcheck") {
            checks.shellcheck(shellcheck, scripts: workflows.flatMap { RunScript.extract(from: $0.contents, file: $0.path) })
        }
    }
}

/// A `run:` script found in a workflow or action file, and where its first line sits there.
struct RunScript: Sendable, Hashable {
    var file: String
    /// 1-based line of the script's first line in `file`.
    var line: Int
    /// 1-based column of the script's first character on each of its lines.
    var column: Int
    var script: String

    /// Every `run:` whose value is a script (a scalar), in the order written.
    static func extract(from yaml: String, file: String) -> [RunScript] {
        guard let root = try? Yams.compose(yaml: yaml) else { return [] }
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        var scripts: [RunScript] = []
        func walk(_ node: Node) {
            switch node {
            case .mapping(let mapping):
                for (key, value) in mapping {
                    if key.string == "run", case .scalar(let scalar) = value, let mark = scalar.mark {
                        scripts.append(locate(scalar, at: mark, lines: lines, file: file))
                    } else {
                        walk(value)
                    }
                }
            case .sequence(let sequence): sequence.forEach(walk)
            default: break
            }
        }
        walk(root)
        return scripts
    }

    private static func locate(_ scalar: Node.Scalar, at mark: Mark, lines: [Substring], file: String) -> RunScript {
        switch scalar.style {
        case .literal, .folded:
            // The mark is the `|` indicator; the block starts on the next line at its indentation.
            let first = mark.line < lines.count ? lines[mark.line] : ""
            let indent = first.prefix { $0 == " " }.count
            return RunScript(file: file, line: mark.line + 1, column: indent + 1, script: scalar.string)
        case .singleQuoted, .doubleQuoted:
            return RunScript(file: file, line: mark.line, column: mark.column + 1, script: scalar.string)
        default:
            return RunScript(file: file, line: mark.line, column: mark.column, script: scalar.string)
        }
    }
}

/// The GitHub family's checks that read a tool's JSON report rather than its exit status alone.
struct GitHubToolChecks {
    let session: ToolSession

    /// `zizmor --offline`: every finding, at any severity, is an error at its primary location.
    func zizmor(_ executable: String, paths: [String]) {
        let label = "zizmor --offline \(paths.joined(separator: " "))"
        guard let output = session.run(executable, ["--offline", "--no-config", "--no-progress", "--format", "json"] + paths,
                               file: paths[0], label: label) else { return }
        guard let findings = try? JSONDecoder().decode([ZizmorFinding].self, from: Data(output.stdout.utf8)) else {
            session.note(session.diagnostic(from: output.stdout + output.stderr, file: paths[0], label: label))
            return
        }
        for finding in findings {
            let primary = finding.locations.first { $0.symbolic.kind == "Primary" } ?? finding.locations.first
            let file = primary?.symbolic.key.local?.verbatimPath ?? paths[0]
            let point = primary?.concrete.location.startPoint
            var message = "zizmor \(finding.ident) (\(finding.determinations.severity.lowercased())): \(finding.desc)"
            if let annotation = primary?.symbolic.annotation, !annotation.isEmpty { message += ": \(annotation)" }
            session.note(Diagnostic(.error, at: SourceLocation(file: file, line: (point?.row ?? 0) + 1, column: (point?.column ?? 0) + 1),
                                    path: "", message, hint: finding.url.map { "see \($0)" }))
        }
        if findings.isEmpty && output.status != 0 {
            session.note(session.diagnostic(from: output.stderr, file: paths[0], label: label))
        }
    }

    /// checkov's github_actions framework only reads `.github/workflows/`, so the rendering is
    /// staged under that name in the scratch folder; a scan that finds nothing is an error too.
    func checkov(_ executable: String, workflows: [RenderedFile]) {
        let stage = ".emmyops-checkov"
        let label = "checkov --framework github_actions (\(GitHubRenderer.folder))"
        do {
            try RenderWriter(root: session.scratch.appendingPathComponent(stage)).write(workflows.map {
                RenderedFile(path: ".github/workflows/" + ($0.path as NSString).lastPathComponent, contents: $0.contents)
            })
        } catch {
            session.note(Diagnostic(.error, at: SourceLocation(file: workflows[0].path, line: 1, column: 1), path: "", "cannot stage workflows for checkov: \(error)"))
            return
        }
        guard let output = session.run(executable, ["-d", stage, "--framework", "github_actions", "--skip-download", "--quiet", "--compact", "-o", "json"],
                               file: workflows[0].path, label: label, timeout: 300) else { return }
        let reports = CheckovReport.decode(output.stdout)
        guard let reports else {
            session.note(session.diagnostic(from: output.stdout + output.stderr, file: workflows[0].path, label: label))
            return
        }
        if reports.allSatisfy({ $0.summary.passed + $0.summary.failed == 0 }) {
            session.note(Diagnostic(.error, at: SourceLocation(file: workflows[0].path, line: 1, column: 1), path: "", "\(label) checked nothing"))
        }
        for failed in reports.flatMap({ $0.results?.failedChecks ?? [] }) {
            let name = (failed.filePath as NSString).lastPathComponent
            session.note(Diagnostic(.error, at: SourceLocation(file: "\(GitHubRenderer.folder)/\(name)", line: failed.fileLineRange.first ?? 1, column: 1),
                                    path: "", "checkov \(failed.checkID): \(failed.checkName) (\(failed.resource))"))
        }
    }

    /// shellcheck over each `run:` script, saved with a bash shebang; findings point into the workflow.
    func shellcheck(_ executable: String, scripts: [RunScript]) {
        guard !scripts.isEmpty else { return }
        let folder = ".emmyops-shellcheck"
        var byPath: [String: RunScript] = [:]
        do {
            let dir = session.scratch.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for (index, script) in scripts.enumerated() {
                let path = "\(folder)/\(index + 1).sh"
                try Data("#!/usr/bin/env bash\n\(script.script)\n".utf8).write(to: session.scratch.appendingPathComponent(path))
                byPath[path] = script
            }
        } catch {
            session.note(Diagnostic(.error, at: SourceLocation(file: scripts[0].file, line: 1, column: 1), path: "", "cannot write run scripts for shellcheck: \(error)"))
            return
        }
        let label = "shellcheck -s bash (\(scripts.count) run scripts)"
        guard let output = session.run(executable, ["-s", "bash", "-f", "json"] + byPath.keys.sorted(), file: scripts[0].file, label: label) else { return }
        guard let findings = try? JSONDecoder().decode([ShellcheckFinding].self, from: Data(output.stdout.utf8)) else {
            session.note(session.diagnostic(from: output.stdout + output.stderr, file: scripts[0].file, label: label))
            return
        }
        for finding in findings {
            guard let script = byPath[finding.file] else { continue }
            // Line 1 of the saved file is the shebang.
            let line = script.line + max(finding.line - 2, 0)
            let severity: Diagnostic.Severity = ["error", "warning"].contains(finding.level) ? .error : .warning
            session.note(Diagnostic(severity, at: SourceLocation(file: script.file, line: line, column: script.column + finding.column - 1),
                                    path: "", "shellcheck SC\(finding.code) (\(finding.level)): \(finding.message)"))
        }
        if findings.isEmpty && output.status != 0 {
            session.note(session.diagnostic(from: output.stderr, file: scripts[0].file, label: label))
        }
    }
}

/// The parts of zizmor's JSON (v1) report a diagnostic needs.
private struct ZizmorFinding: Decodable {
    var ident: String
    var desc: String
    var url: String?
    var determinations: Determinations
    var locations: [Location]

    struct Determinations: Decodable { var severity: String }

    struct Location: Decodable {
        var symbolic: Symbolic
        var concrete: Concrete
    }

    struct Symbolic: Decodable {
        var key: Key
        var annotation: String?
        var kind: String?
    }

    struct Key: Decodable {
        var local: Local?
        enum CodingKeys: String, CodingKey { case local = "Local" }
    }

    struct Local: Decodable {
        var verbatimPath: String
        enum CodingKeys: String, CodingKey { case verbatimPath = "verbatim_path" }
    }

    struct Concrete: Decodable { var location: Span }

    struct Span: Decodable {
        var startPoint: Point
        enum CodingKeys: String, CodingKey { case startPoint = "start_point" }
    }

    /// 0-based row and column.
    struct Point: Decodable {
        var row: Int
        var column: Int
    }
}

/// checkov's JSON report: one object, or a list of them when several frameworks ran.
private struct CheckovReport: Decodable {
    var summary: Summary
    var results: Results?

    struct Summary: Decodable {
        var passed: Int
        var failed: Int
    }

    struct Results: Decodable {
        var failedChecks: [Failed]
        enum CodingKeys: String, CodingKey { case failedChecks = "failed_checks" }
    }

    struct Failed: Decodable {
        var checkID: String
        var checkName: String
        var filePath: String
        var fileLineRange: [Int]
        var resource: String
        enum CodingKeys: String, CodingKey {
            case checkID = "check_id", checkName = "check_name", filePath = "file_path", fileLineRange = "file_line_range", resource
        }
    }

    /// With nothing to scan checkov prints the summary alone.
    private struct BareSummary: Decodable {
        var passed: Int
        var failed: Int
    }

    static func decode(_ text: String) -> [CheckovReport]? {
        let data = Data(text.utf8)
        let decoder = JSONDecoder()
        if let one = try? decoder.decode(CheckovReport.self, from: data) { return [one] }
        if let many = try? decoder.decode([CheckovReport].self, from: data) { return many }
        if let bare = try? decoder.decode(BareSummary.self, from: data) {
            return [CheckovReport(summary: Summary(passed: bare.passed, failed: bare.failed), results: nil)]
        }
        return nil
    }
}

/// One finding of `shellcheck -f json`.
private struct ShellcheckFinding: Decodable {
    var file: String
    var line: Int
    var column: Int
    var level: String
    var code: Int
    var message: String
}
