@testable import EmmyOpsKit
import Foundation
import Testing

/// The example's Terraform, the real tools that check it, and a moto server to apply it against.
enum TerraformFixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func example() throws -> Spec {
        try SpecLoader.load(path: root.appendingPathComponent("examples/emmy.yaml").path).0
    }

    /// The example with its `infrastructure:` section edited.
    static func example(_ edit: (inout Infrastructure) -> Void) throws -> Spec {
        var spec = try example()
        edit(&spec.infrastructure!)
        return spec
    }

    /// The example with the app on PostgreSQL and an RDS instance for it: the real-tool and
    /// moto tests check this superset of the example's Terraform, so the database costs no
    /// second run of checkov or of an apply.
    static func exampleWithDatabase() throws -> Spec {
        var spec = try example { $0.database = Infrastructure.Database() }
        spec.app.database = "postgres://emmy@sms-emmy-postgres.example.internal:5432/emmy"
        return spec
    }

    static func contents(_ files: [RenderedFile], _ name: String) -> String {
        files.first { $0.path == "terraform/\(name)" }?.contents ?? ""
    }

    /// Writes the rendering into a fresh folder; returns the folder holding `terraform/`.
    static func write(_ files: [RenderedFile]) throws -> URL {
        let directory = try CLI.temporaryDirectory()
        try RenderWriter(root: directory).write(files)
        return directory
    }

    /// The tools the real-tool tests need.
    static let tools = ["terraform", "checkov", "cloud-init", TerraformTooling.hcl2Python]
    static var toolsPresent: Bool { tools.allSatisfy { ProcessRunner.which($0) != nil } }
    static var motoPresent: Bool { ProcessRunner.which("terraform") != nil && ProcessRunner.which("moto_server") != nil }

    /// Runs a tool with an argv array; `environment` is added to the test's own.
    static func run(_ tool: String, _ arguments: [String], in directory: URL, environment: [String: String] = [:],
                    timeout: TimeInterval = 300) throws -> ProcessRunner.Output {
        let path = try #require(ProcessRunner.which(tool), "\(tool) is not on PATH")
        return try ProcessRunner().run(path, arguments, currentDirectory: directory.path, environment: environment, timeout: timeout)
    }

    /// `ingress { … }` blocks of the host's security group, as (port, CIDRs) with variables resolved
    /// to their defaults.
    static func ingress(_ files: [RenderedFile]) -> [(port: Int, cidrs: [String])] {
        let network = contents(files, "network.tf"), variables = contents(files, "variables.tf")
        return network.components(separatedBy: "ingress {").dropFirst().compactMap { block in
            let body = block.components(separatedBy: "}").first ?? ""
            guard let port = body.firstMatch(of: /from_port\s+= (\d+)/).flatMap({ Int($0.1) }),
                  let cidrs = body.firstMatch(of: /cidr_blocks\s+= (.+)/).map({ String($0.1) }) else { return nil }
            return (port, resolve(cidrs, variables))
        }
    }

    private static func resolve(_ expression: String, _ variables: String) -> [String] {
        var list = expression
        if let name = expression.firstMatch(of: /^var\.(\w+)$/)?.1 {
            let block = variables.components(separatedBy: "variable \"\(name)\" {").dropFirst().first ?? ""
            list = block.firstMatch(of: /default\s+= (\[.*\])/).map { String($0.1) } ?? "[]"
        }
        return list.matches(of: /"([^"]+)"/).map { String($0.1) }
    }
}

/// A moto server on a free loopback port, with Canonical's Ubuntu image registered.
final class MotoServer {
    let port: Int
    let directory: URL
    private let harness: ProcessHarness

    /// moto ships only old Ubuntu images; MOTO_AMIS_PATH replaces its catalogue with one image
    /// named and owned like Canonical's, so the rendering's AMI filter finds it unchanged.
    init(amiName: String) async throws {
        directory = try CLI.temporaryDirectory()
        let image: [String: Any] = [
            "ami_id": "ami-0e2c8caa4b6378d8c", "name": amiName.replacingOccurrences(of: "*", with: "20250101"),
            "description": "Canonical, Ubuntu LTS, amd64", "owner_id": TerraformRenderer.canonicalOwner, "public": true,
            "virtualization_type": "hvm", "architecture": "x86_64", "state": "available", "image_type": "machine",
            "hypervisor": "xen", "root_device_name": "/dev/sda1", "root_device_type": "ebs", "sriov": "simple",
            "creation_date": "2025-01-01T00:00:00.000Z", "tags": [String: String](),
        ]
        let amis = directory.appendingPathComponent("amis.json")
        try JSONSerialization.data(withJSONObject: [image]).write(to: amis)
        port = try LoopbackPorts.pick(1)[0]
        // env execs moto_server in place, so stopping the harness stops moto itself.
        // AWS's managed policies (RDS enhanced monitoring's role attaches one) only on request.
        harness = try ProcessHarness(name: "moto", executable: "/usr/bin/env",
                                     arguments: ["MOTO_AMIS_PATH=\(amis.path)", "MOTO_IAM_LOAD_MANAGED_POLICIES=true", ProcessRunner.which("moto_server") ?? "moto_server",
                                                 "-H", "127.0.0.1", "-p", String(port)],
                                     logDirectory: directory)
        let url = URL(string: "http://127.0.0.1:\(port)/moto-api/")!
        do {
            _ = try await poll("moto on 127.0.0.1:\(port)", timeout: .seconds(30), every: .milliseconds(200)) { () -> Bool? in
                try harness.checkAlive()
                return Self.answers(url) ? true : nil
            }
        } catch {
            harness.stop()
            throw error
        }
    }

    var endpoint: String { "http://127.0.0.1:\(port)" }

    func stop() { harness.stop() }

    func logTail() -> String { harness.logTail(30) }

    private static func answers(_ url: URL) -> Bool {
        let status = try? ProcessRunner().run("/usr/bin/curl", ["-s", "-o", "/dev/null", "--max-time", "1", url.absoluteString], timeout: 5)
        return status?.status == 0
    }

    /// A test-only provider override: fake credentials, every AWS endpoint on moto, and (only
    /// because moto lacks MonitorInstances) detailed monitoring off. The rendering is unchanged.
    /// With `database`, the RDS settings moto cannot hold are overridden too (see `databaseOverride`).
    func overrideFile(database: Bool = false) -> String {
        let services = ["dynamodb", "ec2", "iam", "kms", "logs", "rds", "s3", "secretsmanager", "sts"]
        let width = services.map(\.count).max()!
        let endpoints = services.map { "    \($0.padding(toLength: width, withPad: " ", startingAt: 0)) = \"\(endpoint)\"" }
        return """
        # TEST ONLY: points the rendering at moto on 127.0.0.1:\(port).
        provider "aws" {
          access_key                  = "test"
          secret_key                  = "test"
          skip_credentials_validation = true
          skip_requesting_account_id  = true
          skip_metadata_api_check     = true
          s3_use_path_style           = true

          endpoints {
        \(endpoints.joined(separator: "\n"))
          }
        }

        # moto 5.2.5 does not implement ec2:MonitorInstances, which the provider calls for
        # monitoring = true; every other setting of the instance is applied as rendered.
        resource "aws_instance" "host" {
          monitoring = false
        }

        """ + (database ? Self.databaseOverride : "")
    }

    /// moto 5.2.5 stores neither enhanced monitoring nor Performance Insights (it reads them back
    /// as 0 and false), so the provider would modify the instance on every apply, and each RDS
    /// wait costs 60-80 s of the provider's fixed delays. Like AWS, moto refuses to delete a
    /// protected instance: the test builds it unprotected so that one destroy removes it (the
    /// rendering's `deletion_protection = true` is checked in the HCL and by checkov CKV_AWS_293).
    static let databaseOverride = """
        # moto keeps neither setting; and the test must be able to destroy what it built.
        resource "aws_db_instance" "main" {
          monitoring_interval             = 0
          monitoring_role_arn             = null
          performance_insights_enabled    = false
          performance_insights_kms_key_id = null
          deletion_protection             = false
        }

        """
}
