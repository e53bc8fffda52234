@testable import EmmyOpsKit
import Foundation
import Testing
import Yams

/// `backup … --host H` end to end: a release deployed over real sshd (the deploy fixtures), the
/// backup taken, verified and restored on the host by its installed release, and the rendered
/// backup workflow's own script run against the same host.
@Suite("Backup on a deployed host over real SSH", .serialized)
struct BackupRemoteTests {
    @Test("deploy, post, create --host, change, restore --latest-verified --host: ready with the restored rows",
          .enabled(if: SSHHosts.missing.isEmpty || SSHHosts.required, "\(SSHHosts.skipReason)"), .timeLimit(.minutes(3)))
    func restoreOnADeployedHost() async throws {
        let world = try BackupWorld(messages: 1)
        defer { world.remove() }
        try await SSHHosts.with(1) { hosts in
            let host = hosts.hosts[0]
            let backup = "backup:\n  target: file://\(world.targetDirectory)\n  recipients: [\(world.recipient)]\n"
            let spec = try hosts.writeSpec("emmy.yaml", hosts.spec(appExtra: backup))
            let deployed = try hosts.emmyops(["deploy", "--host", "host1", "--version", "v1"], spec: spec)
            #expect(deployed.status == 0, "\(deployed.stdout)\n\(deployed.stderr)")
            let database = host.root + "/shared/emmy.sqlite"
            try post(300, from: 0, to: host)
            let posted = try DatabaseSnapshot.inspect(database).tables["message"]
            #expect(posted == 300)

            // Created on the host, reported here: the manifest (JSON on stdout), progress events
            // relayed as JSON lines on stderr, the host's spec name in the manifest.
            let created = try run(hosts, ["backup", "create", "--host", "host1", "--format", "json"], spec: spec)
            #expect(created.status == 0, "\(created.stderr)")
            let manifest = try BackupJSON.decoder().decode(BackupManifest.self, from: Data(created.stdout.utf8))
            #expect(manifest.host == "host1" && manifest.tables["message"] == 300)
            let events = created.stderr.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(Set(events.compactMap { $0["phase"] as? String }).isSuperset(of: ["snapshot", "encrypt", "upload"]), "\(created.stderr)")
            #expect(events.allSatisfy { $0["bytes"] is Int && $0["total"] is Int && $0["elapsed_seconds"] is Double })
            // The plaintext stayed on the host: nothing but the sealed object and manifests at the target.
            #expect(try FileManager.default.contentsOfDirectory(atPath: world.targetDirectory).allSatisfy { !$0.hasSuffix(".sqlite") })

            // The rendered backup workflow's step, run as GitHub would run it (bash -e), with the
            // identity in the secret's variable: it creates a second backup and verifies it.
            let workflow = try runWorkflowStep(hosts, spec: spec, identity: String(contentsOfFile: world.identityFile, encoding: .utf8))
            #expect(workflow.status == 0, "\(workflow.stdout)\n\(workflow.stderr)")
            #expect(workflow.stdout.contains("verified: restores in"), "\(workflow.stdout)")
            let listed = try await world.backups().list()
            #expect(listed.count == 2 && listed.last?.isVerified == true && listed.last?.manifest.host == "host1")

            // The data moves on; the restore brings back the verified backup's rows.
            try post(200, from: 300, to: host)
            #expect(try DatabaseSnapshot.inspect(database).tables["message"] == 500)
            let started = Date()
            let restored = try run(hosts, ["backup", "restore", "--latest-verified", "--host", "host1", "--format", "json"], spec: spec,
                                   identityFile: world.identityFile)
            let seconds = Date().timeIntervalSince(started)
            #expect(restored.status == 0, "\(restored.stdout)\n\(restored.stderr)")
            let outcome = try #require(try JSONSerialization.jsonObject(with: Data(restored.stdout.utf8)) as? [String: Any])
            #expect(outcome["id"] as? String == listed.last?.id)
            #expect(hosts.proxyStatus(host) == 200, "ready through nginx after the restore")
            #expect(try DatabaseSnapshot.inspect(database).tables["message"] == 300)
            #expect(try DatabaseSnapshot.inspect(database).integrityCheck == "ok")
            let aside = try #require(outcome["replaced_to"] as? String)
            #expect(try DatabaseSnapshot.inspect(aside + "/emmy.sqlite").tables["message"] == 500, "the replaced database is kept aside")
            print("restore on a deployed host over ssh: \(String(format: "%.2f", seconds)) s end to end (restore \(outcome["restore_seconds"] ?? "?") s on the host)")

            // Exit codes come back as the host's: an unknown backup is a problem (1), as locally;
            // a host the spec does not name is a usage error (64).
            let missing = try run(hosts, ["backup", "verify", "20000101T000000Z-0000", "--host", "host1"], spec: spec, identityFile: world.identityFile)
            #expect(missing.status == 1 && missing.stderr.contains("no backup `20000101T000000Z-0000`"), "\(missing.stderr)")
            let unknown = try run(hosts, ["backup", "list", "--host", "nope"], spec: spec)
            #expect(unknown.status == 64, "\(unknown.stderr)")
        }
    }

    /// `count` contacts through nginx, numbered from `from`.
    private func post(_ count: Int, from: Int, to host: SSHHosts.SimHost) throws {
        let contacts = (from..<(from + count)).map { "{\"phone\":\"+254711\(String(format: "%06d", $0))\",\"name\":\"c\($0)\"}" }
        let body = "{\"message\":\"Hello {name}\",\"contacts\":[\(contacts.joined(separator: ","))]}"
        let answer = try HTTPProbe.request("http://127.0.0.1:\(host.httpPort)/messages", method: "POST", body: body, timeout: 60).get()
        #expect(answer.status == 202, "\(answer.body.prefix(300))")
    }

    /// The CLI with the fleet's spec and ssh config, and the world's identity in the environment.
    private func run(_ hosts: SSHHosts, _ arguments: [String], spec: String, identityFile: String? = nil) throws -> CLI.Result {
        try CLI.run(arguments + ["--spec", spec, "--ssh-config", hosts.sshConfig], in: hosts.dir, environment: environment(identityFile))
    }

    private func environment(_ identityFile: String?) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "EMMY_BACKUP_IDENTITY")
        environment.removeValue(forKey: "EMMY_BACKUP_IDENTITY_FILE")
        if let identityFile { environment["EMMY_BACKUP_IDENTITY_FILE"] = identityFile }
        return environment
    }

    /// The backup workflow's step for host1, run by bash with the variables GitHub would set.
    private func runWorkflowStep(_ hosts: SSHHosts, spec: String, identity: String) throws -> CLI.Result {
        let (loaded, _) = try SpecLoader.load(path: spec)
        let rendered = try #require(GitHubRenderer.render(loaded).first { $0.path.hasSuffix("backup.yml") })
        let workflow = try #require(try Yams.load(yaml: rendered.contents) as? [String: Any])
        let steps = try #require(((workflow["jobs"] as? [String: Any])?["backup"] as? [String: Any])?["steps"] as? [[String: Any]])
        let step = try #require(steps.first { ($0["env"] as? [String: String])?["EMMY_HOST"] == "host1" })
        let script = try #require(step["run"] as? String)
        // $RUNNER_TEMP as the install and SSH steps leave it: the binary and the ssh config.
        let runnerTemp = hosts.dir.appendingPathComponent("runner")
        try FileManager.default.createDirectory(at: runnerTemp.appendingPathComponent("emmyops"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: runnerTemp.appendingPathComponent("emmyops-ssh"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: runnerTemp.path + "/emmyops/emmyops", withDestinationPath: CLI.binary)
        try FileManager.default.copyItem(atPath: hosts.sshConfig, toPath: runnerTemp.path + "/emmyops-ssh/config")
        var environment = self.environment(nil)
        environment.merge(step["env"] as? [String: String] ?? [:]) { _, new in new }
        environment["EMMY_BACKUP_IDENTITY"] = identity
        environment["RUNNER_TEMP"] = runnerTemp.path
        environment["EMMY_SPEC"] = spec
        let out = try ProcessRunner().run("/bin/bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                                          environment: environment, timeout: 120)
        return CLI.Result(status: out.status, stdout: out.stdout, stderr: out.stderr)
    }
}
