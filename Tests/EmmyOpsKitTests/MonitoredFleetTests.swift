@testable import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The fleet as deployed is the fleet as rendered: three hosts that are really apart (network
/// namespaces with their own addresses), deployed and monitored by emmyops alone, and
/// Prometheus on the monitoring host scraping the others through the rendered configuration.
/// The two app-only hosts are bare: chrooted into a minimal Debian without Swift, they run the
/// release artifact and nothing of this machine's toolchain.
@Suite("A monitored fleet of namespaces", .serialized)
struct MonitoredFleetTests {
    static var ready: Bool { NamespaceFleet.missing.isEmpty && LoopTools.missing.isEmpty && ProcessRunner.which("curl") != nil }

    /// The static release (scripts/release.sh) and the root filesystem the bare hosts run it from
    /// (scripts/bare-rootfs.sh libsqlite3-0,nginx,prometheus-node-exporter): the test command
    /// builds both first and requires them. Run by hand without them, every host shares this
    /// machine's files and runs this build.
    static var bareRelease: (artifact: String, rootfs: String)? {
        let environment = ProcessInfo.processInfo.environment
        guard let artifact = environment["EMMY_RELEASE_ARTIFACT"], let rootfs = environment["EMMY_BARE_ROOTFS"] else { return nil }
        return (artifact, rootfs)
    }

    static func spec(_ fleet: NamespaceFleet, region: String) -> String {
        let hosts = fleet.hosts.enumerated().map { index, host in
            "  - { name: \(host.name), address: \(host.address), user: root, port: 22, root: \(SSHHosts.yamlString(host.root)), " +
                "roles: [\(index == 0 ? "app, monitoring" : "app")] }"
        }.joined(separator: "\n")
        return """
        version: 1
        project: fleettest
        app:
          name: emmy-fleet
          default_region: \(region)
          provider: { kind: log }
        hosts:
        \(hosts)
        ssh:
          known_hosts: \(SSHHosts.yamlString(fleet.knownHosts))
          identity: \(SSHHosts.yamlString(fleet.clientKey))
        deploy:
          health_timeout: 30s
          drain_timeout: 3s
          keep_releases: 3
          parallel: 5
          proxy: { http_port: 8080 }
        monitoring:
          scrape_interval: 1s
          evaluation_interval: 1s
        alerts:
          app_down: { for: 2s }
        notify:
          group_wait: 0s
          group_interval: 1s
          receivers:
            hook:
              webhook: { url: "http://127.0.0.1:9095/alerts" }
          routes:
            critical: [hook]

        """
    }

    @Test("deploy --all, deploy --monitoring: every target up; a slot switch under load drops nothing; a stopped host pages for itself alone",
          .enabled(if: ready || CLI.toolsRequired, "SKIPPED: needs root, ip, sshd, nginx, prometheus, alertmanager, python3 and curl"),
          .timeLimit(.minutes(5)))
    func fleetIsMonitoredAsRendered() async throws {
        guard Self.ready else {
            Issue.record("EMMY_REQUIRE_TOOLS=1 but missing: \(NamespaceFleet.missing + LoopTools.missing)")
            return
        }
        if CLI.toolsRequired && Self.bareRelease == nil {
            Issue.record("EMMY_REQUIRE_TOOLS=1 but EMMY_RELEASE_ARTIFACT and EMMY_BARE_ROOTFS are not set (scripts/test.sh sets them)")
            return
        }
        let fleet = try NamespaceFleet(count: 3, bare: Self.bareRelease.map { .init(rootfs: $0.rootfs, indices: [2, 3]) })
        var children: [ProcessHarness] = []
        defer {
            children.forEach { $0.stop() }
            fleet.shutdown()
        }
        do {
            try await run(fleet, children: &children)
        } catch {
            Issue.record("\(error)\n\(fleet.logs())\n\(children.map { $0.logTail() }.joined(separator: "\n"))")
        }
    }

    private func run(_ fleet: NamespaceFleet, children: inout [ProcessHarness]) async throws {
        try await fleet.awaitSSH()
        let artifact = Self.bareRelease.map { ["--artifact", $0.artifact] } ?? []
        for host in fleet.hosts where !host.filesystem.isEmpty {
            // The bare hosts really are bare: no Swift runtime anywhere in what they can see.
            let swift = try ProcessRunner().run("/usr/bin/find", [host.filesystem, "-xdev", "-name", "libswiftCore*", "-print", "-quit"])
            #expect(swift.stdout.isEmpty, "\(host.name) can see a Swift runtime: \(swift.stdout)")
        }
        let monitor = fleet.hosts[0]
        let received = fleet.dir.appendingPathComponent("webhook.jsonl")
        let hook = try FixtureServers.start("webhook", script: FixtureServers.webhookRecorder, arguments: ["9095", received.path],
                                            in: fleet.dir, namespace: monitor.namespace)
        children.append(hook)

        // 1. Releases everywhere (--all goes on to the monitoring, a host monitors), then the
        //    monitoring again on its own: the second time it reloads what runs.
        let v1 = try fleet.writeSpec("v1.yaml", Self.spec(fleet, region: "KE"))
        let first = try fleet.emmyops(["deploy", "--all", "--version", "v1"] + artifact, spec: v1)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        let again = try fleet.emmyops(["deploy", "--monitoring"], spec: v1)
        #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
        #expect(again.stdout.contains("prometheus: reloaded"), "\(again.stdout)")

        // 2. Prometheus on host1 scrapes every app and node-exporter of the fleet, all up.
        let prometheus = "http://127.0.0.1:9090"
        let expected = Set(fleet.hosts.flatMap { ["\($0.address):9101", "\($0.address):9100"] } + ["\(monitor.address):9093", "127.0.0.1:9090"])
        let targets = try await poll("every target up", timeout: .seconds(60), every: .milliseconds(250)) { () -> [String: String]? in
            guard let body = fleet.get("\(prometheus)/api/v1/targets", in: monitor.namespace),
                  let data = (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["data"] as? [String: Any],
                  let active = data["activeTargets"] as? [[String: Any]] else { return nil }
            let health = Dictionary(active.compactMap { target -> (String, String)? in
                guard let labels = target["labels"] as? [String: String], let instance = labels["instance"] else { return nil }
                return (instance, target["health"] as? String ?? "")
            }, uniquingKeysWith: { a, _ in a })
            return Set(health.keys) == expected && health.values.allSatisfy { $0 == "up" } ? health : nil
        }
        #expect(Set(targets.keys) == expected)
        let upQuery = try query(fleet, monitor, "up")
        #expect(upQuery.count == expected.count && upQuery.allSatisfy { $0.value == "1" }, "\(upQuery)")

        // 3. v2 under load on every host: a slot switch moves no scrape target and fails no request.
        let load = try loadGenerator(fleet)
        children.append(load.harness)
        _ = try await poll("load running", timeout: .seconds(20)) { load.count() > 30 ? true : nil }
        let v2 = try fleet.writeSpec("v2.yaml", Self.spec(fleet, region: "NG"))
        let second = try fleet.emmyops(["deploy", "--all", "--version", "v2", "--batch-size", "1"] + artifact, spec: v2)
        load.harness.stop()
        #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
        let outcomes = load.outcomes()
        #expect(!outcomes.isEmpty && outcomes.allSatisfy { $0 == "200" }, "failed requests during the slot switch: \(outcomes.filter { $0 != "200" }.prefix(5)) of \(outcomes.count)")
        print("fleet: v1→v2 on 3 hosts under load: \(outcomes.count) requests, \(outcomes.filter { $0 != "200" }.count) failed")
        var bareReleases = 0
        for host in fleet.hosts {
            let layout = ReleaseLayout(root: host.local(host.root))
            #expect(HostActivation.readActive(layout)?.version == "v2")
            guard !host.filesystem.isEmpty, let pid = ReleaseState.read(layout.state("v2"))?.pid else { continue }
            // The release a bare host runs sees the bare root filesystem as its `/`.
            let root = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/root")
            #expect(root == host.filesystem, "\(host.name)'s release runs with / at \(root ?? "?"), not in its bare root filesystem")
            bareReleases += 1
        }
        #expect(bareReleases == (Self.bareRelease == nil ? 0 : 2), "bare hosts whose release was found running")
        // Every scrape of the app since the fleet came up answered: nothing could have fired.
        let lowest = try query(fleet, monitor, "min_over_time(up{job=\"emmy-fleet\"}[10m])")
        #expect(lowest.count == 3 && lowest.allSatisfy { $0.value == "1" }, "an app scrape failed during the switch: \(lowest)")
        #expect(firingAppDown(received).isEmpty, "EmmyAppDown fired during the slot switch")

        // 4. Stop host3's release: EmmyAppDown fires for host3 alone and reaches the webhook.
        //    Prometheus sends a firing alert once, then again only every minute (resend delay):
        //    the reload of v2's configuration must have found its Alertmanager first.
        _ = try await poll("Prometheus to know its Alertmanager again", timeout: .seconds(30)) { () -> Bool? in
            (fleet.get("http://127.0.0.1:9090/api/v1/alertmanagers", in: monitor.namespace) ?? "").contains(":9093/api/v2/alerts") ? true : nil
        }
        let victim = fleet.hosts[2]
        let layout = ReleaseLayout(root: victim.local(victim.root))
        let active = try #require(HostActivation.readActive(layout))
        let state = try #require(ReleaseState.read(layout.state(active.version)))
        let stoppedAt = Date()
        ReleaseProcess.stop(pid: state.pid, grace: 5)
        let alerts: [WebhookPayload.Alert]
        do {
            alerts = try await poll("EmmyAppDown at the webhook", timeout: .seconds(90), every: .milliseconds(100)) { () -> [WebhookPayload.Alert]? in
                let fired = firingAppDown(received)
                return fired.isEmpty ? nil : fired
            }
        } catch {
            // What each stage saw: the scrapes, Prometheus's alerts, Alertmanager's, the receiver's file.
            let up = (try? query(fleet, monitor, "up{job=\"emmy-fleet\"}")) ?? []
            let firing = fleet.get("http://127.0.0.1:9090/api/v1/alerts", in: monitor.namespace) ?? "none"
            let manager = fleet.get("http://\(monitor.address):9093/api/v2/alerts", in: monitor.namespace) ?? "none"
            let discovered = fleet.get("http://127.0.0.1:9090/api/v1/alertmanagers", in: monitor.namespace) ?? "none"
            let logs = ["prometheus", "alertmanager"].map { name in
                ((try? String(contentsOfFile: monitor.local(monitor.root) + "/monitoring/logs/\(name).log", encoding: .utf8)) ?? "")
                    .split(separator: "\n").filter { $0.contains("level=error") || $0.contains("level=warn") }.suffix(5).joined(separator: "\n")
            } + [discovered]
            throw LoopbackPorts.Failure(description: "\(error)\nup: \(up)\nprometheus alerts: \(firing.prefix(1500))\nalertmanager: \(manager.prefix(1500))\n" +
                "webhook file: \(((try? String(contentsOf: received, encoding: .utf8)) ?? "").prefix(1500))\nlogs: \(logs)")
        }
        print("fleet: EmmyAppDown for \(victim.name) delivered \(String(format: "%.1f", Date().timeIntervalSince(stoppedAt)))s after its release stopped")
        #expect(Set(alerts.compactMap { $0.labels["instance"] }) == ["\(victim.address):9101"], "\(alerts.map(\.labels))")
    }

    private func query(_ fleet: NamespaceFleet, _ host: NamespaceFleet.Member, _ promQL: String) throws -> [(instance: String, value: String)] {
        let encoded = promQL.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let body = try #require(fleet.get("http://127.0.0.1:9090/api/v1/query?query=\(encoded)", in: host.namespace), "query \(promQL)")
        let data = (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["data"] as? [String: Any]
        return (data?["result"] as? [[String: Any]] ?? []).map { sample in
            ((sample["metric"] as? [String: String])?["instance"] ?? "", ((sample["value"] as? [Any])?.last as? String) ?? "")
        }
    }

    /// One curl loop per host in the operator's namespace, each request's status on its own line.
    private func loadGenerator(_ fleet: NamespaceFleet) throws -> (harness: ProcessHarness, count: () -> Int, outcomes: () -> [String]) {
        let out = fleet.dir.appendingPathComponent("load.txt")
        let urls = fleet.hosts.map { "http://\($0.address):8080/health" }
        let script = "while :; do for url in \(urls.joined(separator: " ")); do " +
            "curl -s -o /dev/null --max-time 10 -w '%{http_code}\\n' \"$url\" >> \(ShellQuote.quote(out.path)); done; done"
        let harness = try ProcessHarness(name: "load", executable: NamespaceFleet.ip,
                                         arguments: ["netns", "exec", fleet.operatorNamespace, "sh", "-c", script], logDirectory: fleet.dir)
        let outcomes = { ((try? String(contentsOf: out, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        return (harness, { outcomes().count }, outcomes)
    }

    private func firingAppDown(_ file: URL) -> [WebhookPayload.Alert] {
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(WebhookPayload.self, from: Data($0.utf8)) }
            .flatMap(\.alerts).filter { $0.status == "firing" && $0.labels["alertname"] == "EmmyAppDown" }
    }
}
