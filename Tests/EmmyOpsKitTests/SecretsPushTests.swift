@testable import EmmyOpsKit
import Foundation
import Testing

/// `secrets push` then a deploy, over real sshd: the app sends through a Twilio stand-in with
/// the pushed credentials, Alertmanager's `*_file` secret lands beside it, and no value shows
/// anywhere else. In the isolated run (scripts/test.sh): the Twilio stand-in serves from this
/// test process.
@Suite("secrets push over real SSH", .serialized)
struct SecretsPushTests {
    @Test("push, then deploy: the app sends with the pushed Twilio credentials; the values are in no log, audit line or rendering",
          .enabled(if: SSHHosts.missing.isEmpty || SSHHosts.required, "\(SSHHosts.skipReason)"), .timeLimit(.minutes(3)))
    func pushThenDeploy() async throws {
        let twilio = TwilioTestServer()
        try await twilio.start()
        try await SSHHosts.with(1) { hosts in
            let host = hosts.hosts[0]
            let secretsDir = host.root + "/alertmanager-secrets"
            let slackURL = "https://hooks.slack.example/services/T000/B000/\(UUID().uuidString)"
            let provider = "  provider: { kind: twilio, twilio: { from: \"+15005550006\", base_url: \"\(twilio.baseURL)\" } }"
            let monitoring = """
              alertmanager: { secrets_dir: \(SSHHosts.yamlString(secretsDir)) }
            notify:
              receivers:
                team: { slack: { webhook_url: "${SLACK_WEBHOOK_URL}", channel: "#ops" } }
              routes: { critical: [team], warning: [team] }
            """
            let text = hosts.spec().replacingOccurrences(of: "  provider: { kind: log }", with: provider)
                .replacingOccurrences(of: "roles: [app]", with: "roles: [app, monitoring]")
                .replacingOccurrences(of: "  node_exporter: { enabled: false }\n", with: "  node_exporter: { enabled: false }\n" + monitoring + "\n")
            let spec = try hosts.writeSpec("emmy.yaml", text)
            let values = ["TWILIO_ACCOUNT_SID": twilio.accountSID, "TWILIO_AUTH_TOKEN": twilio.authToken, "SLACK_WEBHOOK_URL": slackURL]

            // A value missing: named, nothing written.
            let partial = try hosts.writeSpec("partial.env", "TWILIO_ACCOUNT_SID=\(twilio.accountSID)\n")
            let refused = try hosts.emmyops(["secrets", "push", "--all", "--env-file", partial], spec: spec)
            #expect(refused.status == 1 && refused.stderr.contains("SLACK_WEBHOOK_URL, TWILIO_AUTH_TOKEN"), "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: host.root + "/shared/secrets.env"))

            let envFile = try hosts.writeSpec("secrets.env", values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)\n" }.joined()
                                                + "UNRELATED=not-pushed\n")
            let push = try hosts.emmyops(["secrets", "push", "--all", "--env-file", envFile], spec: spec)
            #expect(push.status == 0, "\(push.stdout)\n\(push.stderr)")
            #expect(push.stdout.contains("[host1] wrote SLACK_WEBHOOK_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN"), "\(push.stdout)")
            // Pushing again is harmless; with --format json each host is one line naming its keys.
            let pushJSON = try hosts.emmyops(["secrets", "push", "--all", "--env-file", envFile, "--format", "json"], spec: spec)
            #expect(pushJSON.status == 0, "\(pushJSON.stdout)\n\(pushJSON.stderr)")
            let lines = pushJSON.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(lines.contains { $0["host"] as? String == "host1" && $0["wrote"] as? [String] == ["SLACK_WEBHOOK_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"] },
                    "\(pushJSON.stdout)")
            let appFile = host.root + "/shared/secrets.env"
            #expect(try String(contentsOfFile: appFile, encoding: .utf8)
                    == "TWILIO_ACCOUNT_SID=\(twilio.accountSID)\nTWILIO_AUTH_TOKEN=\(twilio.authToken)\n")
            #expect(try String(contentsOfFile: secretsDir + "/SLACK_WEBHOOK_URL", encoding: .utf8) == slackURL)
            for file in [appFile, secretsDir + "/SLACK_WEBHOOK_URL"] {
                let mode = try #require(FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
                #expect(mode == 0o600, "\(file) has mode \(String(mode, radix: 8))")
            }

            // Deploy: the release's environment is the pushed file; a message goes out through Twilio.
            let deploy = try hosts.emmyops(["deploy", "--all", "--version", "v1"], spec: spec)
            #expect(deploy.status == 0, "\(deploy.stdout)\n\(deploy.stderr)")
            let posted = try HTTPProbe.request("http://127.0.0.1:\(host.httpPort)/messages", method: "POST",
                                               body: #"{"contacts": [{"phone": "0712345678", "name": "Amina"}], "message": "Hello {name}"}"#,
                                               timeout: 10).get()
            #expect(posted.status == 202, "\(posted.body)")
            let accepted = try await poll("Twilio to accept the message", timeout: .seconds(30)) { twilio.acceptedCount > 0 ? twilio.acceptedCount : nil }
            #expect(accepted == 1)

            // The audit line names the keys, not the values.
            let audit = AuditLog.read(host.root + "/shared/audit.log")
            #expect(audit.first?.action == "secrets" && audit.first?.keys == ["SLACK_WEBHOOK_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"])

            // No value anywhere but the two secret files: logs, audit, releases, nginx, renderings, our output.
            let rendered = hosts.dir.appendingPathComponent("rendered").path
            let render = try CLI.run(["render", "all", "--spec", spec, "--out", rendered], in: hosts.dir)
            #expect(render.status == 0, "\(render.stderr)")
            let outputs = [refused, push, pushJSON, deploy, render].map { $0.stdout + $0.stderr }.joined()
            // Release binaries are this build's artifact, hard-linked: nothing of the run is in them.
            let scanned = Self.files(under: [host.root, rendered])
                .filter { $0 != appFile && !$0.hasPrefix(secretsDir + "/") && !$0.hasSuffix("/emmyops") }
            #expect(scanned.contains(host.root + "/shared/audit.log") && scanned.contains(host.root + "/shared/logs/v1.log")
                    && scanned.contains(rendered + "/monitoring/alertmanager/alertmanager.yml"), "\(scanned)")
            for (name, value) in values {
                #expect(!outputs.contains(value), "\(name) was printed")
                for path in scanned {
                    let data = FileManager.default.contents(atPath: path) ?? Data()
                    #expect(data.range(of: Data(value.utf8)) == nil, "\(name) found in \(path)")
                }
            }
        }
        await twilio.stop()
    }

    static func files(under roots: [String]) -> [String] {
        roots.flatMap { root -> [String] in
            let enumerator = FileManager.default.enumerator(atPath: root)
            var out: [String] = []
            while let relative = enumerator?.nextObject() as? String {
                let path = root + "/" + relative
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue { out.append(path) }
            }
            return out
        }
    }
}
