import EmmyOpsKit
import Foundation
import Testing

/// The executable as users meet it: stdout, stderr and exit codes.
@Suite struct CLITests {
    @Test func initWritesAValidSpecAndRefusesToOverwrite() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try CLI.run(["init"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let second = try CLI.run(["init"], in: dir)
        #expect(second.status == 1)
        #expect(second.stderr.contains("already exists; pass --force"))
        #expect(try CLI.run(["init", "--force"], in: dir).status == 0)
        let validate = try CLI.run(["validate", "--tools", "off"], in: dir)
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(validate.stdout.contains("0 error(s)"))
    }

    @Test func invalidSpecPointsAtTheLine() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "version: 1\nalerts:\n  high_cpu:\n    treshold: 85%\n".write(to: dir.appendingPathComponent("emmy.yaml"), atomically: true, encoding: .utf8)
        let text = try CLI.run(["validate", "--tools", "off"], in: dir)
        #expect(text.status == 1)
        #expect(text.stderr.contains("emmy.yaml:4:5: error: alerts.high_cpu.treshold: unknown key `treshold`; did you mean `threshold`?"))

        let github = try CLI.run(["validate", "--tools", "off", "--format", "github"], in: dir)
        #expect(github.status == 1)
        #expect(github.stdout.contains("::error file=emmy.yaml,line=4,col=5::"))

        let json = try CLI.run(["validate", "--tools", "off", "--format", "json"], in: dir)
        #expect(json.status == 1)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(document["ok"] as? Bool == false)
        let diagnostics = try #require(document["diagnostics"] as? [[String: Any]])
        #expect((diagnostics.first?["location"] as? [String: Any])?["line"] as? Int == 4)
    }

    @Test func exitCodes() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = try CLI.run(["validate", "--spec", "nope.yaml"], in: dir)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("nope.yaml"))
        #expect(try CLI.run(["render", "--bogus"], in: dir).status == 64)
        #expect(try CLI.run(["render", "everything"], in: dir).status == 64)

        _ = try CLI.run(["init"], in: dir)
        let noTools = try CLI.run(["validate", "--tools", "required"], in: dir, environment: ["PATH": "/nonexistent"])
        #expect(noTools.status == 2)
        #expect(noTools.stderr.contains("promtool is not on PATH"))
    }

    /// Every failure goes through the one exit-code map: a name the command line got wrong is 64,
    /// a file that cannot be read is 2, and both say why on stderr.
    @Test func deployFailuresMapToExitCodes() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "version: 1\nhosts: [{ name: web-1, address: 10.0.0.5 }]\n".write(to: dir.appendingPathComponent("emmy.yaml"), atomically: true, encoding: .utf8)
        let unknown = try CLI.run(["deploy", "--host", "nope", "--dry-run"], in: dir)
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("emmyops: error: no host named `nope`"))
        let missing = try CLI.run(["deploy", "--host", "web-1", "--dry-run", "--artifact", "no-such-binary"], in: dir)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("emmyops: error: cannot read no-such-binary"))
        let dryRun = try CLI.run(["deploy", "--host", "web-1", "--dry-run", "--artifact", "emmy.yaml", "--version", "v1"], in: dir)
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        #expect(dryRun.stdout.contains("web-1 (") && dryRun.stdout.contains("-> v1"))
        let group = try CLI.run(["token"], in: dir)
        #expect(group.status == 0 && group.stdout.contains("create"), "a command group still prints its help")
        let help = try CLI.run(["help", "deploy"], in: dir)
        #expect(help.status == 0 && help.stdout.contains("--dry-run"), "ArgumentParser's own outcomes pass through the map")
    }

    @Test func renderCheckShowsADiff() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try CLI.run(["init"], in: dir)
        #expect(try CLI.run(["render", "all", "--out", "r"], in: dir).status == 0)
        let clean = try CLI.run(["render", "all", "--out", "r", "--check"], in: dir)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")

        let rules = dir.appendingPathComponent("r/monitoring/prometheus/rules/emmy-app.yml")
        let original = try String(contentsOf: rules, encoding: .utf8)
        try original.replacingOccurrences(of: "for: 30s", with: "for: 5m").write(to: rules, atomically: true, encoding: .utf8)
        let dirty = try CLI.run(["render", "all", "--out", "r", "--check"], in: dir)
        #expect(dirty.status == 1)
        #expect(dirty.stdout.contains("+++ "))
        #expect(dirty.stdout.contains("-    for: 5m\n"))
        #expect(dirty.stdout.contains("+    for: 30s\n"))
        #expect(dirty.stderr.contains("1 of"))

        // The alias renders the same monitoring files.
        #expect(try CLI.run(["render-monitoring", "--out", "r2"], in: dir).status == 0)
        let again = try String(contentsOf: dir.appendingPathComponent("r2/monitoring/prometheus/rules/emmy-app.yml"), encoding: .utf8)
        #expect(again == original)
    }

    @Test func staleRenderingsAreRemovedButUserFilesStay() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = dir.appendingPathComponent("emmy.yaml")
        try "version: 1\n".write(to: spec, atomically: true, encoding: .utf8)
        #expect(try CLI.run(["render", "all", "--out", "r"], in: dir).status == 0)
        let hostRules = dir.appendingPathComponent("r/monitoring/prometheus/rules/emmy-host.yml")
        let userFile = dir.appendingPathComponent("r/monitoring/prometheus/rules/mine.yml")
        try "groups: []\n".write(to: userFile, atomically: true, encoding: .utf8)
        #expect(FileManager.default.fileExists(atPath: hostRules.path))

        try "version: 1\nmonitoring:\n  node_exporter: { enabled: false }\n".write(to: spec, atomically: true, encoding: .utf8)
        let check = try CLI.run(["render", "all", "--out", "r", "--check"], in: dir)
        #expect(check.status == 1)
        #expect(check.stdout.contains("+++ /dev/null"), "a stale file shows as a deletion")
        let render = try CLI.run(["render", "all", "--out", "r"], in: dir)
        #expect(render.stderr.contains("3 stale removed:") && render.stderr.contains("monitoring/prometheus/rules/emmy-host.yml"))
        #expect(!FileManager.default.fileExists(atPath: hostRules.path))
        #expect(FileManager.default.fileExists(atPath: userFile.path), "files emmyops did not write are never removed")
        #expect(try CLI.run(["render", "all", "--out", "r", "--check"], in: dir).status == 0)
    }

    @Test func schemaIsJSONSchema() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run(["schema"], in: dir)
        #expect(result.status == 0)
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(schema["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
        let properties = try #require(schema["properties"] as? [String: Any])
        #expect(Set(properties.keys).isSuperset(of: ["version", "app", "hosts", "monitoring", "alerts", "slo", "notify", "incident"]))
    }

    @Test func helpExplainsCommands() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let help = try CLI.run(["--help"], in: dir)
        for command in ["init", "validate", "render", "render-monitoring", "schema"] {
            #expect(help.stdout.contains(command))
        }
        #expect(try CLI.run(["validate", "--help"], in: dir).stdout.contains("--tools"))
    }

    /// The acceptance path on a fresh directory, with the real checkers.
    @Test(.enabled(if: CLI.toolsPresent || CLI.toolsRequired, "promtool, amtool or docker-compose missing: run scripts/install-deps.sh"))
    func initValidateRenderWithRealTools() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLI.run(["init"], in: dir).status == 0)
        let validate = try CLI.run(["validate", "--tools", "required"], in: dir)
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
        #expect(validate.stdout.contains("0 error(s)"))
        #expect(try CLI.run(["render", "all", "--out", "r"], in: dir).status == 0)
    }

    @Test(.enabled(if: CLI.toolsPresent || CLI.toolsRequired, "promtool, amtool or docker-compose missing: run scripts/install-deps.sh"))
    func exampleSpecPassesRealTools() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/emmy.yaml")
        let validate = try CLI.run(["validate", "--spec", example.path, "--tools", "required"], in: dir)
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
    }
}
