@testable import EmmyOpsKit
import Foundation
import Testing

/// Where the app and node-exporter answer scrapes, what prometheus.yml scrapes and what the
/// security group opens between hosts: one set of values, and `validate` says when the spec
/// makes a target unreachable.
@Suite(.serialized) struct FleetTopologyTests {
    /// Was: prometheus.yml scraped 203.0.113.11:5000 and :9100, where the deployed app never
    /// listens and which the security group never opened; Terraform built one host for two.
    @Test func exampleScrapesWhatTheHostsServeAndTheFirewallOpens() throws {
        let spec = try TerraformFixture.example()
        let prometheus = PrometheusRenderer.config(spec, topology: .hosts)
        let targets = Dictionary(PrometheusRenderer.scrapeJobs(spec, topology: .hosts).map { ($0.job, $0.targets) }, uniquingKeysWith: { a, _ in a })
        #expect(targets[spec.appJob] == ["10.0.1.10:9101", "10.0.2.11:9101"], "\(prometheus)")
        #expect(targets[AlertCatalogue.nodeJob] == ["10.0.1.10:9100", "10.0.2.11:9100"])
        #expect(targets[PrometheusRenderer.alertmanagerJob] == ["10.0.1.10:9093"])
        #expect(prometheus.contains("alertmanagers:\n  - static_configs:\n    - targets:\n      - '10.0.1.10:9093'"), "alerts go to the monitoring host's Alertmanager")
        #expect(!prometheus.contains("203.0.113."), "public addresses are never scraped")

        // The security group: exactly the scrape and alerting ports, between the hosts only, both ways.
        let network = TerraformFixture.contents(TerraformRenderer.render(spec), "network.tf")
        #expect(TopologyCrossCheck.intraFleetPorts(network) == [9101, 9100, 9093])
        let selfRules = network.matches(of: /(?s)\n  (?:ingress|egress) \{(.*?)\n  \}/).map { String($0.1) }.filter { $0.contains(/self\s+= true/) }
        #expect(selfRules.count == 6 && selfRules.allSatisfy { !$0.contains("cidr_blocks") }, "\(selfRules)")
        #expect(network.contains("from_port   = 587"), "the email receiver's smarthost port is open outbound")

        // One instance per host, in the subnet holding its private address, roles as tags.
        let compute = TerraformFixture.contents(TerraformRenderer.render(spec), "compute.tf")
        #expect(compute.contains(/for_each\s+= local.hosts/), "\(compute)")
        for (name, subnet, ip, roles) in [("prod-1", 0, "10.0.1.10", "app,monitoring"), ("prod-2", 1, "10.0.2.11", "app")] {
            let entry = try #require(compute.components(separatedBy: "\"\(name)\" = {").dropFirst().first?.components(separatedBy: "}").first)
            #expect(entry.contains("subnet     = \(subnet)") && entry.contains("private_ip = \"\(ip)\"") && entry.contains("roles      = \"\(roles)\""), "\(entry)")
        }
        #expect(compute.contains("Roles = each.value.roles"))

        // Each app host's nginx listens on its private address for the monitoring host only,
        // the same address and port whichever slot serves.
        let fleet = FleetTopology(spec: spec)
        let listener = try #require(fleet.metricsListener(on: "prod-2"))
        let nginx = try ProxySwitch.render(listen: "0.0.0.0", httpPort: 80, metricsPath: "/metrics", drainSeconds: 1, version: "v1",
                                           metricsListener: listener, scrapers: fleet.scraperAddresses)
        #expect(nginx.contains("listen 10.0.2.11:9101;") && nginx.contains("allow 10.0.1.10;") && nginx.contains("deny all;"), "\(nginx)")
        #expect(fleet.nodeExporter(on: "prod-2")?.target == "10.0.2.11:9100")
    }

    /// A rendering that drifts from the topology is caught at its own line.
    @Test func crossCheckCatchesARenderingThatDrifted() throws {
        let spec = try TerraformFixture.example()
        let files = RenderTarget.all.render(spec)
        #expect(CrossChecks.run(spec, files: files).isEmpty, "\(CrossChecks.run(spec, files: files))")
        let drifted = files.map { file in
            var file = file
            if file.path == OutputPath.prometheusConfig { file.contents = file.contents.replacingOccurrences(of: "10.0.2.11:9101", with: "203.0.113.11:5000") }
            if file.path == OutputPath.terraform("network.tf") { file.contents = file.contents.replacingOccurrences(of: "from_port   = 9100", with: "from_port   = 9200") }
            return file
        }
        let found = CrossChecks.run(spec, files: drifted).map(\.description)
        #expect(found.contains { $0.hasPrefix("monitoring/prometheus/prometheus.yml:27:") && $0.contains("scrapes 203.0.113.11:5000, where no host of the fleet answers") }, "\(found)")
        #expect(found.contains { $0.contains("never scrapes prod-2 at 10.0.2.11:9101") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("terraform/network.tf:") && $0.contains("port 9100") }, "\(found)")
    }

    static let unreachable = """
    version: 1
    project: demo
    hosts:
      - { name: mon, address: 203.0.113.10, private_address: 10.0.1.10, roles: [app, monitoring] }
      - { name: app, address: 203.0.113.11, roles: [app] }
    infrastructure:
      ssh_cidrs: [198.51.100.0/24]

    """

    /// Was: validate passed a spec whose Prometheus would scrape an Elastic IP the security
    /// group's intra-fleet rules never admit.
    @Test func validateNamesTheLineOfAHostMonitoringCannotReach() throws {
        let loaded = SpecLoader.load(text: Self.unreachable, file: "emmy.yaml")
        let error = try #require(loaded.diagnostics.first { $0.path == "hosts[1].address" }, "\(loaded.diagnostics)")
        #expect(error.severity == .error)
        #expect(error.message.contains("mon connects to app metrics on app at 203.0.113.11:9101"), "\(error.message)")
        #expect(error.message.contains("security group"))
        #expect(error.hint?.contains("private_address") == true)
        #expect("\(error.location)" == "emmy.yaml:5:27", "\(error.location)")

        // A private address outside every subnet, or one AWS reserves, is refused at its own key.
        for (address, why) in [("10.9.0.20", "subnets"), ("10.0.1.1", "reserves")] {
            let text = Self.unreachable.replacingOccurrences(of: "address: 203.0.113.11,", with: "address: 203.0.113.11, private_address: \(address),")
            let diagnostics = SpecLoader.load(text: text, file: "emmy.yaml").diagnostics
            let located = try #require(diagnostics.first { $0.path == "hosts[1].private_address" }, "\(diagnostics)")
            #expect(located.message.contains(why), "\(located.message)")
        }
        let fixed = Self.unreachable.replacingOccurrences(of: "address: 203.0.113.11,", with: "address: 203.0.113.11, private_address: 10.0.1.11,")
        #expect(!SpecLoader.load(text: fixed, file: "emmy.yaml").diagnostics.hasErrors)
    }

    @Test func validateCommandFailsAtTheLineAndPassesOnTheExample() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.unreachable.write(to: dir.appendingPathComponent("emmy.yaml"), atomically: true, encoding: .utf8)
        let failed = try CLI.run(["validate", "--tools", "off"], in: dir)
        #expect(failed.status == 1)
        #expect((failed.stdout + failed.stderr).contains("emmy.yaml:5:27"), "\(failed.stdout)\(failed.stderr)")
        let example = TerraformFixture.root.appendingPathComponent("examples/emmy.yaml").path
        let passed = try CLI.run(["validate", "--tools", "off", "--spec", example], in: dir)
        #expect(passed.status == 0, "\(passed.stdout)\(passed.stderr)")
    }
}
