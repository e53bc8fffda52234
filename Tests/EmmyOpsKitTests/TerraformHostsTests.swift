@testable import EmmyOpsKit
import Foundation
import Testing

/// `emmyops hosts --from-terraform`: the spec's addresses against Terraform's outputs, checked
/// at the spec's own lines, and written back without touching anything else in the file.
@Suite struct TerraformHostsTests {
    static let spec = """
    version: 1
    project: tfhosts
    app: { name: emmy }
    hosts:
      # The operator's comment stays where it is.
      - { name: prod-1, address: 203.0.113.10, private_address: 10.0.1.10, roles: [app, monitoring] }
      - name: prod-2
        address: "203.0.113.11"   # quoted, with a trailing comment
        private_address: 10.0.2.11
        roles: [app]

    """

    static func outputs(_ public1: String, _ public2: String, private2: String = "10.0.2.11", extra: Bool = false) -> String {
        let more = extra ? #", "prod-3": "198.51.100.3""# : ""
        return #"""
        {"app_urls": {"sensitive": false, "type": ["object", {}], "value": {}},
         "public_ips": {"sensitive": false, "type": ["object", {}], "value": {"prod-1": "\#(public1)", "prod-2": "\#(public2)"\#(more)}},
         "private_ips": {"sensitive": false, "type": ["object", {}], "value": {"prod-1": "10.0.1.10", "prod-2": "\#(private2)"}}}
        """#
    }

    @Test func mismatchesNameTheSpecLineOfTheStaleValue() throws {
        let spec = SpecLoader.load(text: Self.spec, file: "emmy.yaml").spec!
        let terraform = try TerraformHosts(outputsJSON: Data(Self.outputs("54.1.2.3", "203.0.113.11", private2: "10.0.2.99", extra: true).utf8))
        let found = terraform.mismatches(with: spec)
        #expect(found.map(\.description) == [
            "emmy.yaml:6:30: prod-1.address is `203.0.113.10` in the spec, `54.1.2.3` in Terraform",
            "emmy.yaml:9:22: prod-2.private_address is `10.0.2.11` in the spec, `10.0.2.99` in Terraform",
            "Terraform has host `prod-3`, which the spec does not list",
        ])
    }

    @Test func agreeingOutputsHaveNoMismatch() throws {
        let spec = SpecLoader.load(text: Self.spec, file: "emmy.yaml").spec!
        let terraform = try TerraformHosts(outputsJSON: Data(Self.outputs("203.0.113.10", "203.0.113.11").utf8))
        #expect(terraform.mismatches(with: spec).isEmpty)
    }

    @Test func notTerraformOutputsIsAClearError() {
        #expect(throws: TerraformHosts.ReadError.notJSON) { try TerraformHosts(outputsJSON: Data("public_ips = {}".utf8)) }
        #expect(throws: TerraformHosts.ReadError.missingOutput("public_ips")) { try TerraformHosts(outputsJSON: Data("{}".utf8)) }
    }

    @Test func textEditsReplaceOnlyTheScalarAndQuoteWhatIsNotPlain() {
        let text = "a: { x: 1.2.3.4, y: '5.6.7.8' }\nb: \"host\"  # keep\n"
        let edited = SpecTextEdit.replacing([
            .init(line: 1, column: 9, old: "1.2.3.4", new: "9.9.9.9"),
            .init(line: 1, column: 21, old: "5.6.7.8", new: "fe80::1"),
            .init(line: 2, column: 4, old: "host", new: "12"),
            // Not found where recorded (the file changed since it was read): left alone.
            .init(line: 1, column: 3, old: "1.2.3.4", new: "0.0.0.0"),
        ], in: text)
        #expect(edited == "a: { x: 9.9.9.9, y: \"fe80::1\" }\nb: \"12\"  # keep\n")
    }

    @Test func cliChecksThenWritesKeepingCommentsThenAgrees() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let specPath = dir.appendingPathComponent("emmy.yaml").path
        try Self.spec.write(toFile: specPath, atomically: true, encoding: .utf8)
        let outputs = dir.appendingPathComponent("outputs.json").path
        try Self.outputs("54.1.2.3", "54.1.2.4").write(toFile: outputs, atomically: true, encoding: .utf8)

        let check = try CLI.run(["hosts", "--outputs", outputs, "--spec", specPath], in: dir)
        #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("emmy.yaml:6:30: prod-1.address is `203.0.113.10` in the spec, `54.1.2.3` in Terraform"), "\(check.stdout)")
        #expect(check.stdout.contains("emmy.yaml:8:14: prod-2.address"), "\(check.stdout)")
        #expect(check.stderr.contains("--write"), "\(check.stderr)")
        #expect(try String(contentsOfFile: specPath, encoding: .utf8) == Self.spec, "a check writes nothing")

        let write = try CLI.run(["hosts", "--outputs", outputs, "--write", "--spec", specPath], in: dir)
        #expect(write.status == 0, "\(write.stdout)\(write.stderr)")
        let written = try String(contentsOfFile: specPath, encoding: .utf8)
        #expect(written == Self.spec.replacingOccurrences(of: "203.0.113.10", with: "54.1.2.3")
            .replacingOccurrences(of: "\"203.0.113.11\"", with: "54.1.2.4"))

        let again = try CLI.run(["hosts", "--outputs", outputs, "--spec", specPath, "--format", "json"], in: dir)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any]
        #expect(report?["ok"] as? Bool == true && (report?["mismatches"] as? [Any])?.isEmpty == true, "\(again.stdout)")
    }
}
