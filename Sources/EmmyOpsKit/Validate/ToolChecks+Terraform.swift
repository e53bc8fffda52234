import Foundation

extension ToolChecks {
    /// terraform fmt/validate, checkov, cloud-init and HCL parsing of `terraform/`.
    func terraformChecks(_ spec: Spec, files: [RenderedFile], _ session: ToolSession) {
        let tfFiles = files.map(\.path).filter { $0.hasPrefix(OutputPath.terraformFolder) && $0.hasSuffix(".tf") }.sorted()
        guard let first = tfFiles.first else { return }
        if let terraform = session.tool("terraform") {
            let environment = TerraformTooling.environment(scratch: session.scratch, pluginMirror: locations.pluginMirror)
            session.check(terraform, ["fmt", "-check", "-recursive", "-no-color", "terraform"], file: first,
                          label: "terraform fmt -check", environment: environment)
            session.check(terraform, ["-chdir=terraform", "init", "-backend=false", "-input=false", "-no-color"], file: first,
                          label: "terraform init -backend=false", environment: environment, timeout: 180)
            session.check(terraform, ["-chdir=terraform", "validate", "-no-color"], file: first,
                          label: "terraform validate", environment: environment)
        }
        if let checkov = session.tool("checkov") {
            checkovFindings(checkov, session, fallback: first)
        }
        if files.contains(where: { $0.path == OutputPath.cloudInit }), let cloudInit = session.tool("cloud-init") {
            session.check(cloudInit, ["schema", "--config-file", OutputPath.cloudInit], file: OutputPath.cloudInit,
                          label: "cloud-init schema terraform/cloud-init.yaml")
        }
        if let python = session.tool(locations.hcl2Python) {
            for file in tfFiles {
                session.check(python, ["-c", TerraformTooling.hcl2Parse, file], file: file, label: "python-hcl2 parses \(file)")
            }
        }
    }

    /// Runs checkov and turns each failed check into a diagnostic on the file and line it names.
    private func checkovFindings(_ checkov: String, _ session: ToolSession, fallback: String) {
        // The findings need checkov's own file:line for each check, not the first line:col of its output.
        let label = "checkov -d terraform"
        let arguments = ["-d", "terraform", "--framework", "terraform", "--skip-download", "--quiet", "--compact"]
        guard let output = session.run(checkov, arguments, file: fallback, label: label, timeout: 300) else { return }
        let findings = TerraformTooling.checkovFailures(output.stdout)
        for finding in findings {
            session.note(Diagnostic(.error, at: SourceLocation(file: OutputPath.terraform(finding.file), line: finding.line, column: 1), path: "",
                                    "checkov \(finding.id) failed for \(finding.resource): \(finding.title)",
                                    hint: "fix the rendering, or skip it inline with `#checkov:skip=\(finding.id):reason`"))
        }
        if output.status != 0 && findings.isEmpty {
            session.note(session.diagnostic(from: output.stdout + output.stderr, file: fallback, label: label))
        }
    }
}

/// How the Terraform checks call their tools; shared with the tests.
public enum TerraformTooling {
    /// python-hcl2's interpreter where the install script puts it.
    public static var hcl2Python: String { ToolLocations().hcl2Python }
    public static let hcl2Parse = "import hcl2,sys; hcl2.load(open(sys.argv[1]))"

    /// TF_IN_AUTOMATION, and a CLI config pointing `terraform init` at the provider mirror when
    /// it exists (written into `scratch`).
    public static func environment(scratch: URL, pluginMirror: String = ToolLocations().pluginMirror) -> [String: String] {
        var environment = ["TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"]
        if FileManager.default.fileExists(atPath: pluginMirror) {
            let config = scratch.appendingPathComponent("terraform-mirror.tfrc")
            let text = "provider_installation {\n  filesystem_mirror {\n    path = \"\(pluginMirror)\"\n  }\n}\n"
            if (try? text.write(to: config, atomically: true, encoding: .utf8)) != nil {
                environment["TF_CLI_CONFIG_FILE"] = config.path
            }
        }
        return environment
    }

    public struct CheckovFailure: Sendable, Hashable {
        public var id: String
        public var title: String
        public var resource: String
        /// Relative to the scanned folder.
        public var file: String
        public var line: Int
    }

    /// Parses checkov's compact text report: `Check: ID: "title"`, `FAILED for resource: R`,
    /// `File: /path.tf:FIRST-LAST`.
    public static func checkovFailures(_ text: String) -> [CheckovFailure] {
        var failures: [CheckovFailure] = []
        var id = "", title = "", resource: String?
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if let match = line.firstMatch(of: /^Check: (CKV2?_[A-Z0-9_]+): "?(.*?)"?$/) {
                id = String(match.1)
                title = String(match.2)
                resource = nil
            } else if let match = line.firstMatch(of: /^FAILED for resource: (.+)$/) {
                resource = String(match.1)
            } else if let resource, let match = line.firstMatch(of: /^File: \/?(.+?):(\d+)(-\d+)?$/) {
                failures.append(CheckovFailure(id: id, title: title, resource: resource, file: String(match.1), line: Int(match.2) ?? 1))
            }
            if line.hasPrefix("File:") { resource = nil }
        }
        return failures
    }
}
