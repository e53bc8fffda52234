@testable import EmmyOpsKit
import EmmyApp
import Foundation
import Testing
import Yams

/// What the renderings add when EmmyApp keeps its data in PostgreSQL (Fixtures/postgres/emmy.yaml):
/// a postgres service in compose, postgres_exporter scraped by Prometheus.
@Suite struct PostgresRenderingTests {
    static func fixture() throws -> Spec {
        let path = try #require(Bundle.module.url(forResource: "Fixtures/postgres/emmy", withExtension: "yaml")).path
        let (spec, diagnostics) = try SpecLoader.load(path: path)
        #expect(!diagnostics.contains { $0.severity == .error }, "\(diagnostics)")
        return spec
    }

    static func yaml(_ files: [RenderedFile], _ path: String) throws -> [String: Any] {
        let file = try #require(files.first { $0.path == path }, "\(path) is rendered")
        return try #require(try Yams.load(yaml: file.contents) as? [String: Any], "\(path) parses")
    }

    // MARK: compose

    @Test func composeRunsPostgresTheAppWaitsFor() throws {
        let files = ComposeRenderer.render(try Self.fixture())
        let compose = try Self.yaml(files, OutputPath.compose)
        let services = try #require(compose["services"] as? [String: [String: Any]])
        let postgres = try #require(services["postgres"])
        let image = try #require(postgres["image"] as? String)
        #expect(image.hasPrefix("postgres:15.") && image != "postgres:latest", "pinned by tag: \(image)")
        #expect(postgres["ports"] as? [String] == ["127.0.0.1:5432:5432"], "loopback only, at the spec's port")
        #expect((postgres["environment"] as? [String])?.contains("POSTGRES_PASSWORD_FILE=/run/secrets/database_password") == true)
        #expect((postgres["environment"] as? [String])?.contains("POSTGRES_USER=emmy") == true)
        #expect(postgres["secrets"] as? [String] == ["database_password"])
        #expect(postgres["volumes"] as? [String] == ["postgres-data:/var/lib/postgresql/data"])
        let check = try #require((postgres["healthcheck"] as? [String: Any])?["test"] as? [String])
        #expect(check.prefix(2) == ["CMD", "pg_isready"] && check.contains("emmy"), "\(check)")

        let app = try #require(services["app"])
        let dependsOn = try #require(app["depends_on"] as? [String: [String: String]])
        #expect(dependsOn == ["postgres": ["condition": "service_healthy"]])
        let environment = try #require(app["environment"] as? [String])
        #expect(environment.contains("EMMY_DATABASE=postgres://emmy@postgres:5432/emmy"), "\(environment)")
        #expect(environment.contains("EMMY_DATABASE_PASSWORD_FILE=/run/secrets/database_password"))
        #expect(app["secrets"] as? [String] == ["database_password"])

        let exporter = try #require(services["postgres-exporter"])
        #expect(exporter["ports"] as? [String] == ["127.0.0.1:9187:9187"])
        #expect((exporter["environment"] as? [String])?.contains("DATA_SOURCE_PASS_FILE=/run/secrets/database_password") == true)

        let secrets = try #require(compose["secrets"] as? [String: [String: String]])
        #expect(secrets["database_password"] == ["file": "./secrets/EMMY_DATABASE_PASSWORD"])
        #expect((compose["volumes"] as? [String: Any])?.keys.contains("postgres-data") == true)
        // Passwords are only ever files: no variable that would carry one inline.
        let text = try #require(files.first { $0.path == OutputPath.compose }).contents
        for inline in ["POSTGRES_PASSWORD=", "DATA_SOURCE_PASS=", "EMMY_DATABASE_PASSWORD=", "sslmode=require&password"] {
            #expect(!text.contains(inline), "\(inline)")
        }
    }

    @Test func sqliteKeepsComposeWithoutPostgres() throws {
        var spec = try Self.fixture()
        spec.app.database = "sqlite"
        let compose = ComposeRenderer.compose(spec)
        #expect(!compose.contains("postgres"), "\(compose)")
    }

    @Test(.enabled(if: ProcessRunner.which("docker-compose") != nil || CLI.toolsRequired))
    func dockerComposeAcceptsTheRendering() throws {
        let spec = try Self.fixture()
        let files = ComposeRenderer.render(spec)
        let report = try ToolChecks().run(spec, files: files, mode: .required)
        #expect(report.ran.contains("docker-compose config"))
        #expect(report.missing.isEmpty && report.diagnostics.isEmpty, "\(report.missing) \(report.diagnostics.map(\.description))")
    }

    /// `serve` reads EMMY_DATABASE* over the spec, as the rendered compose file sets them.
    @Test func serveTakesTheDatabaseFromTheEnvironment() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func serve(_ variables: [String: String]) throws -> ProcessRunner.Output {
            let environment = ProcessInfo.processInfo.environment.merging(variables) { $1 }
            return try ProcessRunner().run(CLI.binary, ["serve", "--port", "0", "--data-dir", directory.path],
                                           currentDirectory: directory.path, environment: environment, timeout: 30)
        }
        let leaked = try serve(["EMMY_DATABASE": "postgres://emmy:hunter2@postgres:5432/emmy"])
        #expect(leaked.status == 2 && !leaked.timedOut, "\(leaked.stdout)\(leaked.stderr)")
        #expect(leaked.stderr.contains("EMMY_DATABASE") && leaked.stderr.contains("password") && !leaked.stderr.contains("hunter2"), "\(leaked.stderr)")
        let tls = try serve(["EMMY_DATABASE_TLS": "sometimes"])
        #expect(tls.status == 2 && tls.stderr.contains("EMMY_DATABASE_TLS"), "\(tls.stdout)\(tls.stderr)")
    }

    // MARK: Prometheus

    @Test func prometheusScrapesPostgresExporterWhereItRuns() throws {
        let spec = try Self.fixture()
        let files = RenderTarget.all.render(spec)
        func targets(_ path: String) throws -> [String: [String]] {
            let jobs = try #require(try Self.yaml(files, path)["scrape_configs"] as? [[String: Any]])
            return Dictionary(uniqueKeysWithValues: jobs.compactMap { job in
                (job["job_name"] as? String).map { ($0, ((job["static_configs"] as? [[String: Any]]) ?? []).flatMap { $0["targets"] as? [String] ?? [] }) }
            })
        }
        // Beside Prometheus on the monitoring host (prod-1), at its fleet address; in compose, the service.
        #expect(try targets(OutputPath.prometheusConfig)["postgres_exporter"] == ["10.0.1.10:9187"])
        #expect(try targets(OutputPath.composePrometheus)["postgres_exporter"] == ["postgres-exporter:9187"])
        // The security group opens 9187 between the hosts, both ways, and every cross-check agrees.
        let network = try #require(files.first { $0.path == OutputPath.terraform("network.tf") }).contents
        #expect(TopologyCrossCheck.intraFleetPorts(network).contains(9187))
        #expect(CrossChecks.run(spec, files: files).isEmpty, "\(CrossChecks.run(spec, files: files).map(\.description))")

        // A firewall that forgets the port, or a target on the wrong port, is named.
        let closed = files.map { file in
            file.path == OutputPath.terraform("network.tf")
                ? RenderedFile(path: file.path, contents: file.contents.replacingOccurrences(of: "= 9187", with: "= 9188")) : file
        }
        #expect(CrossChecks.run(spec, files: closed).contains { $0.message.contains("job `postgres_exporter` scrapes port 9187 on other hosts") })
        let moved = files.map { file in
            file.path == OutputPath.prometheusConfig
                ? RenderedFile(path: file.path, contents: file.contents.replacingOccurrences(of: "10.0.1.10:9187", with: "10.0.1.10:9188")) : file
        }
        #expect(CrossChecks.run(spec, files: moved).contains { $0.message.contains("job `postgres_exporter` scrapes 10.0.1.10:9188") })
    }

    @Test func sqliteScrapesNoPostgresExporter() throws {
        var spec = try Self.fixture()
        spec.app.database = "sqlite"
        for topology in [PrometheusRenderer.Topology.hosts, .compose] {
            #expect(!PrometheusRenderer.scrapeJobs(spec, topology: topology).contains { $0.job == PostgresExporter.job })
        }
        #expect(!FleetTopology(spec: spec).intraFleetPorts.contains { $0.port == PostgresExporter.port })
    }

    /// The app reports its own store's health whichever engine holds it: the alert reads that.
    @Test func databaseDownReadsTheAppsOwnProbeForBothEngines() throws {
        var spec = try Self.fixture()
        let postgres = try #require(AlertCatalogue(spec: spec).alerts.first { $0.name == "EmmyDatabaseDown" })
        spec.app.database = "sqlite"
        let sqlite = try #require(AlertCatalogue(spec: spec).alerts.first { $0.name == "EmmyDatabaseDown" })
        #expect(postgres.expr == sqlite.expr)
        #expect(PromQLNames.metrics(in: postgres.expr) == [MetricCatalogue.databaseUp.name])
        // What to check first differs: the runbook speaks of the engine in use.
        #expect(postgres.runbook.firstSteps.joined().contains("PostgreSQL") && !postgres.runbook.firstSteps.joined().contains("SQLite"))
        #expect(sqlite.runbook.firstSteps.joined().contains("SQLite"))
    }

    /// PostgreSQL's own health alert: pg_up from postgres_exporter, with database_down's
    /// settings, its rule unit tests passing promtool, and only when the app uses PostgreSQL.
    @Test(.enabled(if: ProcessRunner.which("promtool") != nil || CLI.toolsRequired))
    func postgresDownReadsPgUpAndPromtoolProvesIt() throws {
        let spec = try Self.fixture()
        let alert = try #require(AlertCatalogue(spec: spec).alerts.first { $0.name == "PostgresDown" })
        #expect(alert.expr == #"pg_up{job="postgres_exporter"} == 0"#)
        #expect(alert.for == spec.alerts[.databaseDown].for && alert.severity == spec.alerts[.databaseDown].severity)
        #expect(CrossChecks.run(spec, files: RenderTarget.all.render(spec)).isEmpty)
        let monitoring = RenderTarget.monitoring.render(spec)
        let tests = try #require(monitoring.first { $0.path == OutputPath.ruleTests(alert.group) }).contents
        #expect(tests.contains("alertname: PostgresDown"))
        let report = try ToolChecks().run(spec, files: monitoring, mode: .required)
        #expect(report.ran.contains("promtool test rules \(OutputPath.ruleTests(alert.group))"), "\(report.ran)")
        #expect(report.missing.isEmpty && report.diagnostics.isEmpty, "\(report.missing) \(report.diagnostics.map(\.description))")

        var sqlite = spec
        sqlite.app.database = "sqlite"
        #expect(!AlertCatalogue(spec: sqlite).alerts.contains { $0.name == "PostgresDown" })
    }

    // MARK: Terraform

    @Test func terraformRendersAPrivateEncryptedRDSInstance() throws {
        let files = TerraformRenderer.render(try Self.fixture())
        let database = TerraformFixture.contents(files, "database.tf")
        let instance = try #require(database.components(separatedBy: #"resource "aws_db_instance" "main" {"#).dropFirst().first)
        for setting in [#/engine\s+= "postgres"/#, #/engine_version\s+= "15"/#, #/storage_encrypted\s+= true/#,
                        #/publicly_accessible\s+= false/#, #/deletion_protection\s+= true/#, #/manage_master_user_password\s+= true/#,
                        #/backup_retention_period\s+= var.database_backup_retention_days/#, #/db_name\s+= "emmy"/#, #/username\s+= "emmy"/#] {
            #expect(instance.contains(setting), "\(setting)")
        }
        #expect(!database.contains(#/(?m)^\s*(password|master_password)\s+=/#), "no literal password")
        #expect(database.contains(#/default\s+= 7\n/#), "backups kept 7 days by default")
        // The subnet group holds the private subnets only, whose route table has no route out.
        #expect(database.contains(#/subnet_ids\s+= aws_subnet.database\[\*\].id/#))
        let routes = try #require(database.components(separatedBy: #"resource "aws_route_table" "database" {"#).dropFirst().first?
            .components(separatedBy: "\n}").first)
        #expect(!routes.contains("route {") && !routes.contains("gateway_id"))
        // 5432 comes in from the hosts' security group only; the hosts go out to the database subnets only.
        let group = try #require(database.components(separatedBy: #"resource "aws_security_group" "database" {"#).dropFirst().first?
            .components(separatedBy: "\n}").first)
        #expect(group.contains(#/from_port\s+= 5432/#) && group.contains(#/security_groups\s+= \[aws_security_group.host.id\]/#))
        #expect(!group.contains("cidr_blocks") && !group.contains("egress"))
        let network = TerraformFixture.contents(files, "network.tf")
        #expect(network.contains(#/from_port\s+= 5432\n\s+to_port\s+= 5432\n\s+cidr_blocks = var.database_subnet_cidrs/#))
        #expect(!TerraformFixture.ingress(files).contains { $0.port == 5432 }, "PostgreSQL is never opened to a CIDR")

        // A PostgreSQL server of the operator's own: no RDS, but the hosts may reach its port.
        var own = try Self.fixture()
        own.infrastructure?.database = nil
        let external = TerraformRenderer.render(own)
        #expect(!external.contains { $0.path.hasSuffix("database.tf") })
        #expect(TerraformFixture.contents(external, "network.tf")
            .contains(#/PostgreSQL out to app.database at sms-emmy-postgres.example.internal"\n\s+protocol\s+= "tcp"\n\s+from_port\s+= 5432/#))

        var sqlite = own
        sqlite.app.database = "sqlite"
        #expect(!TerraformRenderer.render(sqlite).contains { $0.contents.contains("5432") })
    }
}
