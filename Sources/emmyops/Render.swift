import ArgumentParser
import EmmyOpsKit
import Foundation

extension RenderTarget: ExpressibleByArgument {}

extension EmmyOps {
    struct Render: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "render",
            abstract: "Render configs from the spec.",
            discussion: """
            Targets: all (everything), monitoring (Prometheus, rules and rule tests, Alertmanager, \
            Grafana, RUNBOOK.md), compose (docker-compose.yml for the local stack), terraform (AWS, \
            from the infrastructure section), github (CI/CD workflows and the reusable action). \
            Output is deterministic; --check compares instead of writing and exits 1 with a \
            unified diff. Files emmyops rendered earlier that the spec no longer renders are \
            removed; files it never wrote are left alone.
            """)

        static let defaultTarget = RenderTarget.all

        @Argument(help: ArgumentHelp("What to render: \(RenderTarget.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "target"))
        var target: RenderTarget = Render.defaultTarget

        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var renderOptions: RenderOptions

        var request: RenderRequest { renderOptions.request(target, spec: specOptions) }

        func run() throws { try request.run() }
    }

    struct RenderMonitoring: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "render-monitoring", abstract: "Alias of `render monitoring`.")

        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var renderOptions: RenderOptions

        var request: RenderRequest { renderOptions.request(.monitoring, spec: specOptions) }

        func run() throws { try request.run() }
    }
}

struct RenderOptions: ParsableArguments {
    static let defaultOut = "."

    @Option(name: .long, help: ArgumentHelp("Output directory.", valueName: "dir"))
    var out: String = RenderOptions.defaultOut

    @Flag(name: .long, help: "Compare with the output directory instead of writing; exit 1 with a diff when they differ.")
    var check = false

    @OptionGroup var output: FormatOption

    func request(_ target: RenderTarget, spec: SpecOptions) -> RenderRequest {
        RenderRequest(target: target, spec: spec.spec, out: out, check: check, format: output.format)
    }
}

/// What `render` or `render-monitoring` was asked, as plain values: what ArgumentParser decodes
/// into the commands above, or `DirectDispatch` reads from plain arguments without it.
struct RenderRequest: Equatable {
    var target: RenderTarget
    var spec: String
    var out: String
    var check: Bool
    var format: FormatOption.Format

    /// `--format json`: what was written (or, with --check, what differs).
    struct Outcome: Encodable {
        var target: String
        var out: String
        var files: Int
        var changed: [String]?
        var removed: [String]?
        var differing: [String]?
    }

    func run() throws {
        let spec = try SpecOptions.load(path: self.spec)
        if target == .terraform, spec.infrastructure == nil {
            throw CommandFailure.problem("\(self.spec) has no infrastructure section, so there is no Terraform to render; add `infrastructure:` (see `emmyops schema`)")
        }
        let json = format == .json
        let files = target.render(spec)
        let writer = RenderWriter(root: URL(fileURLWithPath: out))
        if check {
            let differences = writer.check(files, owned: target.ownedFolders)
            if json {
                try FormatOption.printJSON(Outcome(target: target.rawValue, out: out, files: files.count, differing: differences.map(\.path)))
            } else {
                for difference in differences { print(difference.diff, terminator: "") }
            }
            if !differences.isEmpty {
                throw CommandFailure.problem("\(differences.count) of \(files.count) rendered files differ from \(out); run `emmyops render \(target.rawValue) --out \(out)`")
            }
            if !json { Output.note("\(files.count) files up to date in \(out)") }
            return
        }
        do {
            let outcome = try writer.write(files, owned: target.ownedFolders)
            if json {
                try FormatOption.printJSON(Outcome(target: target.rawValue, out: out, files: files.count, changed: outcome.changed, removed: outcome.removed))
                return
            }
            let removed = outcome.removed.isEmpty ? "" : ", \(outcome.removed.count) stale removed: \(outcome.removed.joined(separator: ", "))"
            Output.note("rendered \(files.count) files into \(out) (\(outcome.changed.count) changed\(removed))")
        } catch {
            throw CommandFailure.environment("cannot write into \(out): \(error.localizedDescription)")
        }
    }
}
