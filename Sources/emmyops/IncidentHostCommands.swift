import ArgumentParser
import EmmyApp
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct IncidentHealth: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "health",
            abstract: "Look at a host once: /health, /ready, the supervisor, disk and memory.",
            discussion: "Without --host, every app host of the spec that is this machine. Exit 0 when every one is healthy, 1 otherwise.")

        @OptionGroup var options: IncidentOptions

        @Option(name: .long, help: ArgumentHelp("Spec host to look at.", valueName: "name"))
        var host: String?

        @OptionGroup var output: FormatOption

        func run() async throws {
            let spec = try options.spec.load()
            let hosts = try host.map { [try options.host($0, in: spec)] } ?? spec.hosts.filter { $0.roles.contains(.app) }
            var looks: [Look] = []
            for host in hosts {
                let report = await LocalHostActions().check(try options.localTarget(host, spec), until: 0)
                if !output.json { print("\(host.name): \(report.healthy ? "healthy" : "UNHEALTHY"): \(report.summary)") }
                looks.append(Look(report))
            }
            let healthy = looks.allSatisfy(\.healthy)
            if output.json { try output.print(Looks(healthy: healthy, hosts: looks)) }
            if !healthy { throw CommandFailure.silentProblem }
        }
    }

    /// What `incident health --format json` prints: the verdict over every host and each look.
    struct Looks: Encodable {
        var healthy: Bool
        var hosts: [Look]
    }

    /// One host's look for `--format json`: the report's fields with its verdict beside them.
    struct Look: Encodable {
        var host: String
        var healthy: Bool
        var health: Int?
        var ready: Int?
        var supervisor: String
        var diskUsedPercent: Int?
        var memoryUsedPercent: Int?

        init(_ report: HealthReport) {
            (host, healthy, health, ready) = (report.host, report.healthy, report.health, report.ready)
            (supervisor, diskUsedPercent, memoryUsedPercent) = (report.supervisor, report.diskUsedPercent, report.memoryUsedPercent)
        }
    }

    struct IncidentRestart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restart",
            abstract: "Restart the app through the host's supervisor (SIGHUP), then wait for it to be healthy.",
            discussion: "A supervisor that gave up (`failed`) gets a fresh start. The restart is a line in the host's audit log. Exit 0 when the app is healthy again within incident.wait_timeout.")

        @OptionGroup var options: IncidentOptions

        @Option(name: .long, help: ArgumentHelp("Spec host to restart.", valueName: "name"))
        var host: String

        @OptionGroup var output: FormatOption

        struct Restarted: Encodable {
            var restart: String
            var after: Look
        }

        func run() async throws {
            let (spec, target) = try options.localTarget(named: host)
            let actions = LocalHostActions()
            let started = Date()
            // One audit line per manual restart, whatever its outcome.
            func audit(_ result: String, durationS: Double, _ detail: String) {
                actions.audit(target, IncidentAuditEntry(who: FleetOptions.who, when: started, host: target.host.name, step: .restart, alert: "manual",
                                                         fingerprint: nil, result: result, durationS: durationS, detail: detail))
            }
            let detail: String
            do {
                detail = try await actions.restart(target)
            } catch {
                audit("failed", durationS: 0, "\(error)")
                throw CommandFailure.problem("\(error)")
            }
            let report = await actions.check(target, until: spec.incident.waitTimeout.seconds)
            audit(report.healthy ? "ok" : "failed", durationS: Date().timeIntervalSince(started), detail)
            if output.json {
                try output.print(Restarted(restart: detail, after: Look(report)))
            } else {
                print("\(host): \(detail); \(report.healthy ? "healthy" : "still unhealthy"): \(report.summary)")
            }
            if !report.healthy { throw CommandFailure.silentProblem }
        }
    }

    struct IncidentDiagnose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diagnose",
            abstract: "Collect a diagnostics bundle (tar.gz) of a host.",
            discussion: "Supervisor status, the last log lines, /health and /ready, a /metrics snapshot, releases, the audit tail, df/free/uptime, the database's size and PRAGMA quick_check. Prints the bundle's path and a summary.")

        @OptionGroup var options: IncidentOptions

        @Option(name: .long, help: ArgumentHelp("Spec host to look at.", valueName: "name"))
        var host: String

        @Option(name: .long, help: ArgumentHelp("Where to write the bundle (default: under --data-dir/bundles).", valueName: "bundle.tar.gz"))
        var out: String?

        @OptionGroup var output: FormatOption

        func run() async throws {
            let (_, target) = try options.localTarget(named: host)
            var (path, summary) = try await LocalHostActions().diagnose(target, into: options.directory + "/bundles")
            if let out {
                try? FileManager.default.removeItem(atPath: out)
                try FileManager.default.moveItem(atPath: path, toPath: out)
                path = out
            }
            if output.json { try output.print(["host": host, "bundle": path, "summary": summary]) } else { print("\(path)\n\(summary)") }
        }
    }

    struct IncidentMonitor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "monitor",
            abstract: "For hosts without Prometheus: look at the app every --interval and run app_down's playbook when it is down.",
            discussion: "Uses the same playbooks, budget, freeze and ledger as `incident serve`. One run at a time per host; SIGINT stops it.")

        @OptionGroup var options: IncidentOptions

        @Option(name: .long, help: ArgumentHelp("How often to look (a duration such as 30s).", valueName: "duration"))
        var interval: String = "30s"

        func run() async throws {
            guard let every = PromDuration(parsing: interval), every.milliseconds > 0 else {
                throw ValidationError("--interval `\(interval)` is not a duration such as 30s")
            }
            let spec = try options.spec.load()
            let targets = try spec.hosts.filter { $0.roles.contains(.app) }.map { try options.localTarget($0, spec) }
            let engine = try options.engine(spec)
            let worker = Task { await engine.runWorker() }
            defer { worker.cancel() }
            while !Task.isCancelled {
                for target in targets {
                    let report = await LocalHostActions().check(target, until: 0)
                    guard !report.healthy else { continue }
                    let started = try await engine.startIfIdle(kind: .appDown, host: target.host.name, summary: "monitor: \(report.summary)")
                    if started { Output.note("\(target.host.name): unhealthy (\(report.summary)); running app_down's playbook") }
                }
                try await Task.sleep(for: .milliseconds(every.milliseconds))
            }
        }
    }
}
