@testable import EmmyOpsKit
import Foundation
import Testing

/// The docker runtime: exact commands against a recording runner (no Docker engine runs
/// here), and the compose file it renders through `docker-compose config`.
@Suite struct DockerPlanTests {
    static func spec() throws -> Spec {
        let result = SpecLoader.load(text: """
        version: 1
        project: Acme
        app: { runtime: docker, image: "ghcr.io/acme/emmyops:1.4.0", port: 5000 }
        hosts: [{ name: web-1, address: 10.0.0.5, root: /srv/emmy }]
        deploy: { health_timeout: 30s, drain_timeout: 10s }
        """, file: "emmy.yaml")
        return try #require(result.spec, "\(result.diagnostics)")
    }

    @Test func deployIssuesTheseCommandsInOrder() throws {
        let spec = try Self.spec()
        let target = DeployTarget(host: spec.hosts[0], spec: spec)
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func payload(_ name: String, _ text: String) throws -> DeployPlan.Payload {
            let path = dir.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return DeployPlan.Payload(path: path, sha256: ProcessRunnerSHA.hex(Data(text.utf8)))
        }
        let compose = try payload("compose.yaml", DockerPlan.compose(spec: spec, target: target, image: spec.app.image))
        let specFile = try payload("emmy.yaml", "version: 1\n")
        let nginx = try payload("nginx.conf", "events {}\n")
        let steps = DockerPlan.steps(spec: spec, target: target, version: "1.4.0", slot: 1, composeFile: compose, specFile: specFile, nginxFile: nginx)
        let recorder = RecordingRunner(target: "web-1")
        let deployer = FleetDeployer(targets: [target], options: .init(spec: spec, who: "ci"), runner: { _ in recorder }, onEvent: { _ in })
        try deployer.deploy([HostPlan(target: target, version: "1.4.0", steps: steps)])

        let app = recorder.commands.filter { $0.first == "env" }
        #expect(app == [
            ["env", "EMMY_SLOT_PORT=5001", "docker", "compose", "--project-name", "acme-b", "--file", "/srv/emmy/releases/1.4.0/compose.yaml", "pull", "--quiet"],
            ["env", "EMMY_SLOT_PORT=5001", "docker", "compose", "--project-name", "acme-b", "--file", "/srv/emmy/releases/1.4.0/compose.yaml",
             "up", "--detach", "--wait", "--wait-timeout", "30"],
            ["env", "EMMY_SLOT_PORT=5000", "docker", "compose", "--project-name", "acme-a", "--file", "/srv/emmy/releases/1.4.0/compose.yaml",
             "down", "--timeout", "10"],
        ])
        let names = recorder.commands.map { $0.count > 3 && $0[0] == "sh" ? $0[3] : $0[0] }
        #expect(names == ["emmyops-lock",                                              // lock on the first host, one round trip
                          "readlink", "mkdir", "emmyops-upload", "emmyops-upload", "emmyops-upload", "sha256sum",
                          "emmyops-install", "env", "env", "emmyops-switch", "emmyops-current", "env",
                          "emmyops-unlock"])
    }

    @Test func rollbackUsesThePreviousReleaseFileWithoutPulling() throws {
        let spec = try Self.spec()
        let target = DeployTarget(host: spec.hosts[0], spec: spec)
        let none = DeployPlan.Payload(path: "/dev/null", sha256: "")
        let steps = DockerPlan.steps(spec: spec, target: target, version: "1.3.0", slot: 0, composeFile: none, specFile: none, nginxFile: none,
                                     action: "rollback")
        #expect(steps.map(\.name) == ["gate", "switch", "current", "retire"])
        #expect(steps[0].argv.contains("/srv/emmy/releases/1.3.0/compose.yaml") && steps[0].argv.contains("EMMY_SLOT_PORT=5000"))
    }

    @Test(.enabled(if: ProcessRunner.which("docker-compose") != nil || CLI.toolsRequired, "SKIPPED: docker-compose is not installed"))
    func composeFileIsValid() throws {
        var spec = try Self.spec()
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // compose checks that env_file exists, as it would on a host after the first deploy.
        spec.hosts[0].root = dir.path
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("shared"), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir.appendingPathComponent("shared/secrets.env").path, contents: Data())
        let target = DeployTarget(host: spec.hosts[0], spec: spec)
        let file = dir.appendingPathComponent("compose.yaml").path
        try DockerPlan.compose(spec: spec, target: target, image: spec.app.image).write(toFile: file, atomically: true, encoding: .utf8)
        let tool = try #require(ProcessRunner.which("docker-compose"), "docker-compose is required (EMMY_REQUIRE_TOOLS=1)")
        let ok = try ProcessRunner().run(tool, ["-f", file, "config"], environment: ["EMMY_SLOT_PORT": "5001"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("127.0.0.1:5001:5000") || ok.stdout.contains("published: 5001") || ok.stdout.contains("5001"))
        #expect(ok.stdout.contains("ghcr.io/acme/emmyops:1.4.0"))
        // Without the slot port compose refuses to start, rather than publishing a random port.
        let missing = try ProcessRunner().run(tool, ["-f", file, "config"], environment: ["EMMY_SLOT_PORT": ""])
        #expect(missing.status != 0)
    }

    /// The idle slot comes from the decoded `active.json`, whatever its key order or spacing.
    @Test func idleSlotIsTheOneActiveJSONDoesNotName() {
        #expect(DockerRelease.idleSlot(activeJSON: #"{"version":"1.3.0","slot":0,"port":5000}"#) == 1)
        #expect(DockerRelease.idleSlot(activeJSON: #"{"port": 5001, "slot": 1, "version": "1.3.0"}"#) == 0)
        #expect(DockerRelease.idleSlot(activeJSON: "{ \"slot\" : 0, \"version\": \"1\", \"port\": 5000 }\n") == 1)
        #expect(DockerRelease.idleSlot(activeJSON: "") == 0, "nothing active yet: slot a")
        #expect(DockerRelease.idleSlot(activeJSON: "cat: active.json: No such file or directory") == 0)
    }

    /// The docker release writes each host's compose and nginx files and plans with their hashes.
    @Test func dockerReleasePlansWithHashedFiles() throws {
        let spec = try Self.spec()
        let target = DeployTarget(host: spec.hosts[0], spec: spec)
        let none = DeployPlan.Payload(path: "/dev/null", sha256: "")
        let release = try DockerRelease(spec: spec, version: "1.4.0", specFile: none)
        defer { release.close() }
        let plan = try release.plan(target, slot: 0)
        let verify = try #require(plan.steps.first { $0.name == "verify" })
        let compose = release.directory.appendingPathComponent("web-1-compose.yaml").path
        let text = try String(contentsOfFile: compose, encoding: .utf8)
        #expect(verify.expectSHA256?.first == ProcessRunnerSHA.hex(Data(text.utf8)))
        #expect(plan.steps.contains { $0.argv.contains("EMMY_SLOT_PORT=5000") })
        release.close()
        #expect(!FileManager.default.fileExists(atPath: release.directory.path))
    }

    /// Artifacts are hashed in process (swift-crypto), the same digest `sha256sum` prints.
    @Test func payloadHashesInProcess() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("abc").path
        try "abc".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try DeployPlan.Payload(hashing: path).sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let big = Data((0..<3_000_000).map { UInt8($0 % 251) })
        try big.write(to: dir.appendingPathComponent("big"))
        #expect(try DeployPlan.Payload(hashing: dir.appendingPathComponent("big").path).sha256 == ProcessRunnerSHA.hex(big))
        #expect(throws: DeployError.self) { try DeployPlan.Payload(hashing: dir.appendingPathComponent("missing").path) }
        #expect(throws: DeployError.self) { try DeployPlan.Payload(hashing: dir.path) }
    }
}
