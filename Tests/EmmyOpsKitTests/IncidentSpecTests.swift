import EmmyApp
@testable import EmmyOpsKit
import Foundation
import Testing

/// The `incident:` section: defaults, overrides, what the renderings gain from it.
@Suite("Incident spec section and renderings")
struct IncidentSpecTests {
    @Test func everyAlertKindHasAPlaybookAndTheDefaultsAreTheSRESet() {
        let incident = Incident()
        for kind in AlertKind.allCases { #expect(!incident.playbook(kind).isEmpty, "\(kind)") }
        #expect(incident.playbook(.appDown) == [.check, .restart, .check, .notify])
        #expect(incident.playbook(.highErrorRate) == [.diagnose, .rollback, .notify])
        #expect(incident.playbook(.databaseDown) == [.diagnose, .notify], "never an automatic restore")
        #expect(!incident.playbook(.databaseDown).contains { $0.isDestructive })
        #expect(incident.rollbackWindow == .minutes(30))
        #expect(incident.budget.attempts == 3 && incident.budget.window == .minutes(30))
    }

    @Test func overridesAreRead() throws {
        let loaded = SpecLoader.load(text: """
        version: 1
        deploy: { root: /srv/emmy }
        incident:
          webhook: http://127.0.0.1:9111/hook
          token_file: /etc/emmyops/incident.token
          rollback_window: 10m
          budget: { attempts: 2, window: 1h, backoff_initial: 5s, backoff_max: 1m }
          playbooks:
            app_down: [restart, check]
            high_error_rate: [rollback, notify]
        """, file: "emmy.yaml")
        let spec = try #require(loaded.spec, "\(loaded.diagnostics)")
        #expect(!loaded.diagnostics.hasErrors)
        #expect(spec.incident.tokenFile == "/etc/emmyops/incident.token")
        #expect(spec.incident.rollbackWindow == .minutes(10))
        #expect(spec.incident.budget.attempts == 2 && spec.incident.budget.backoffInitial == .seconds(5))
        #expect(spec.incident.playbook(.appDown) == [.restart, .check])
        #expect(spec.incident.playbook(.highCPU) == [.diagnose, .cleanup, .notify], "unwritten kinds keep their default")
        #expect(spec.incident.listenAddress.host == "127.0.0.1" && spec.incident.listenAddress.port == 9111)
        #expect(spec.incident.webhookPath == "/hook")
    }

    @Test func aWebhookWithoutATokenFileIsWarnedAbout() {
        let loaded = SpecLoader.load(text: "version: 1\nincident: { webhook: \"http://127.0.0.1:9095/alerts\" }\n", file: "emmy.yaml")
        #expect(loaded.diagnostics.contains { $0.severity == .warning && $0.path == "incident.webhook" && $0.message.contains("token_file") })
    }

    @Test func theAlertNamesTheEngineKnowsAreTheOnesTheCatalogueRenders() {
        var spec = Spec()
        spec.backup.target = "file:///var/backups/emmy"  // backup_stale is rendered only with a target
        let rendered = Set(AlertCatalogue(spec: spec).alerts.map(\.name))
        for kind in AlertKind.allCases {
            let name = AlertRouting.alertNames[kind]
            #expect(name.map(rendered.contains) == true, "\(kind): \(name ?? "none") is not rendered")
        }
    }

    @Test func alertLabelsMapToSpecHosts() {
        let spec = Spec(hosts: [Host(name: "a", address: "10.0.0.1"), Host(name: "b", address: "10.0.0.2", roles: [.app])])
        #expect(AlertRouting.hosts(for: ["instance": "10.0.0.2:5000"], kind: .appDown, in: spec).map(\.name) == ["b"])
        #expect(AlertRouting.hosts(for: ["host": "a"], kind: .appDown, in: spec).map(\.name) == ["a"])
        #expect(AlertRouting.hosts(for: ["instance": "10.9.9.9:5000"], kind: .appDown, in: spec).isEmpty)
        #expect(AlertRouting.hosts(for: ["job": "sms-api"], kind: .highErrorRate, in: spec).count == 2, "an aggregate names every app host")
        #expect(AlertRouting.hostPart(of: "[::1]:9100") == "::1")
    }

    @Test func alertmanagerSendsTheBearerTokenFileAndPrometheusScrapesTheReceiver() throws {
        let spec = try #require(SpecLoader.load(text: """
        version: 1
        incident: { webhook: "http://127.0.0.1:9095/alerts", token_file: /etc/emmyops/incident.token }
        """, file: "emmy.yaml").spec)
        let alertmanager = AlertmanagerRenderer.config(spec)
        #expect(alertmanager.contains("""
              - url: 'http://127.0.0.1:9095/alerts'
                send_resolved: true
                http_config:
                  authorization:
                    type: Bearer
                    credentials_file: /etc/emmyops/incident.token
            """), "\(alertmanager)")
        let jobs = PrometheusRenderer.scrapeJobs(spec, topology: .hosts)
        let job = try #require(jobs.first { $0.job == PrometheusRenderer.incidentJob })
        #expect(job.targets == ["127.0.0.1:9095"])
        let runbook = RunbookRenderer.render(spec).contents
        #expect(runbook.contains("**What automation does.** `emmyops incident serve` runs `check` → `restart` → `check` → `notify`"))
        #expect(runbook.contains("emmyops incident ack app_down --host HOST"))
    }

    @Test func theIncidentMetricsAreInTheCatalogue() {
        for name in ["emmy_incident_notifications_total", "emmy_incident_actions_total", "emmy_incident_automation_frozen"] {
            #expect(MetricCatalogue.knownSeries.contains(name))
        }
        let exposition = IncidentMetrics().exposition(frozen: [])
        #expect(exposition.contains("# TYPE emmy_incident_actions_total counter"))
        #expect(exposition.contains("emmy_incident_automation_frozen 0"))
    }
}
