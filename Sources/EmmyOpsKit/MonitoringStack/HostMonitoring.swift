import EmmyApp
import Foundation

/// The host side of `deploy --monitoring`, run on each host by the release's own binary
/// (`<root>/current/emmyops host monitoring`) from the files the deployer uploaded:
///
/// - every monitored host runs node-exporter on its fleet address (FleetTopology);
/// - a monitoring host checks the new Prometheus and Alertmanager configuration with its own
///   `promtool` and `amtool` before anything switches, points `current` at it (keeping the
///   old one as `previous`), and starts the servers or reloads them through `/-/reload`; a
///   refused reload puts the previous configuration back and reloads that;
/// - when the app keeps its data in PostgreSQL, a monitoring host also runs postgres_exporter on
///   the fleet endpoint Prometheus scrapes (FleetTopology), connected to the spec's
///   `app.database` with the password from `app.database_password_file` (or, without one, from
///   `EMMY_DATABASE_PASSWORD` in this command's environment, copied to a 0600 file): the
///   exporter reads it from a file, so it is in no argument, environment value or log.
///
/// Missing servers are installed from the host's OS packages (`apt-get install`) only when
/// their executable is not there.
public struct HostMonitoring {
    public var layout: MonitoringLayout
    public var hostName: String
    /// Configurations kept under configs/ (current and previous among them).
    public var keep = 5

    public init(root: String, hostName: String) {
        layout = MonitoringLayout(root: root)
        self.hostName = hostName
    }

    /// What it did, one line per service.
    public func run() throws -> [String] {
        let (spec, _) = try SpecLoader.load(path: layout.incoming + "/" + MonitoringLayout.spec)
        guard let host = spec.hosts.first(where: { $0.name == hostName }) else {
            throw DeployError.invalid("host `\(hostName)` is not in the uploaded spec")
        }
        for dir in [layout.configs, layout.data, layout.logs, layout.run] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let fleet = FleetTopology(spec: spec)
        var done: [String] = []
        if let node = fleet.nodeExporter(on: hostName) {
            done.append(try ensureRunning(.nodeExporter, ["--web.listen-address=\(node.target)"], ready: "http://\(node.target)/metrics"))
        }
        guard host.roles.contains(.monitoring) else { return done }
        if let settings = spec.app.postgres, let exporter = fleet.postgresExporters.first(where: { $0.host.name == hostName }) {
            done.append(try ensurePostgresExporter(settings, listen: exporter.target))
        }

        let m = spec.monitoring
        let alertmanager = HostPort.join(FleetTopology.fleetAddress(host), m.alertmanager.port)
        let prometheus = "127.0.0.1:\(m.prometheus.port)"
        let next = try installIncoming()
        let old = try? FileManager.default.destinationOfSymbolicLink(atPath: layout.current)
        try AtomicFile.symlink(layout.current, to: "configs/" + next)
        if let old, old != "configs/" + next { try AtomicFile.symlink(layout.previous, to: old) }

        let servers: [(MonitoringService, [String], String)] = [
            (.alertmanager, ["--config.file=\(layout.current)/\(MonitoringLayout.alertmanagerConfig)",
                             "--storage.path=\(layout.data)/alertmanager", "--web.listen-address=\(alertmanager)",
                             "--cluster.listen-address="], alertmanager),
            (.prometheus, ["--config.file=\(layout.current)/\(MonitoringLayout.prometheusConfig)",
                           "--storage.tsdb.path=\(layout.data)/prometheus", "--web.listen-address=\(prometheus)",
                           "--web.enable-lifecycle"], prometheus),
        ]
        for (service, arguments, address) in servers {
            if running(service) != nil {
                if let refused = reload(address) {
                    // Back to what ran before, so the server keeps a configuration it accepted.
                    if let old { try? AtomicFile.symlink(layout.current, to: old) }
                    _ = reload(address)
                    throw DeployError.invalid("\(hostName): \(service.rawValue) refused the new configuration (\(refused)); back on \(old ?? "nothing")")
                }
                done.append("\(service.rawValue): reloaded \(next)")
            } else {
                done.append(try ensureRunning(service, arguments, ready: "http://\(address)/-/ready") + " with \(next)")
            }
        }
        // A started or reloaded Prometheus finds its Alertmanagers again within seconds; an alert
        // that fires before then is resent only after a minute. Done means alerts get through.
        let deadline = Date().addingTimeInterval(30)
        while !knowsAlertmanager(prometheus) {
            guard Date() < deadline else { throw DeployError.invalid("\(hostName): Prometheus found no Alertmanager at \(alertmanager) within 30 s") }
            usleep(200_000)
        }
        prune()
        return done
    }

    private func knowsAlertmanager(_ prometheus: String) -> Bool {
        guard case .success(let answer) = HTTPProbe.request("http://\(prometheus)/api/v1/alertmanagers", timeout: 2) else { return false }
        return answer.status == 200 && answer.body.contains(#""activeAlertmanagers":[{"#)
    }

    /// Moves the uploaded files into configs/<stamp> once promtool and amtool accept them.
    private func installIncoming() throws -> String {
        let stamp = DateText.compact(Date()) + "-" + String(UInt32.random(in: 0...0xffff), radix: 16)
        let folder = layout.configs + "/" + stamp
        try FileManager.default.moveItem(atPath: layout.incoming, toPath: folder)
        let checks: [(String, [String])] = [
            ("promtool", ["check", "config", folder + "/" + MonitoringLayout.prometheusConfig]),
            ("amtool", ["check-config", folder + "/" + MonitoringLayout.alertmanagerConfig]),
        ]
        for (tool, arguments) in checks {
            guard let path = ProcessRunner.which(tool) ?? install(tool == "promtool" ? .prometheus : .alertmanager, executable: tool) else {
                throw DeployError.invalid("\(hostName): \(tool) is not installed and could not be")
            }
            let result = try ProcessRunner().run(path, arguments, timeout: 60)
            guard result.status == 0 else {
                try? FileManager.default.removeItem(atPath: folder)
                throw DeployError.invalid("\(hostName): \(tool) refused the new configuration; nothing changed:\n\(result.stdout)\(result.stderr)")
            }
        }
        return stamp
    }

    /// postgres_exporter on `listen`, with the password from a file only.
    private func ensurePostgresExporter(_ settings: PostgresSettings, listen: String) throws -> String {
        var passwordFile = settings.passwordFile
        if passwordFile == nil, let password = ProcessInfo.processInfo.environment[PostgresSettings.passwordVariable], !password.isEmpty {
            let copy = layout.run + "/postgres-exporter.password"
            try AtomicFile.write(Data((password + "\n").utf8), to: copy, mode: 0o600)
            passwordFile = copy
        }
        let launch = PostgresExporterLaunch(settings: settings, listen: listen, passwordFile: passwordFile)
        let result = try ensureRunning(.postgresExporter, launch.arguments, environment: launch.environment, ready: "http://\(listen)/metrics")
        guard passwordFile == nil, result.hasSuffix("started") else { return result }
        return result + " without a password (no app.database_password_file, no \(PostgresSettings.passwordVariable))"
    }

    /// Starts `service` unless it runs, with `environment` beside PATH; waits until `ready`
    /// answers 200.
    private func ensureRunning(_ service: MonitoringService, _ arguments: [String], environment extra: [String: String] = [:],
                               ready: String) throws -> String {
        if running(service) != nil { return "\(service.rawValue): running" }
        guard let executable = service.executables.lazy.compactMap(ProcessRunner.which).first ?? install(service, executable: service.executables[0]) else {
            throw DeployError.invalid("\(hostName): \(service.rawValue) is not installed and could not be (apt-get install \(service.package))")
        }
        let environment = extra.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"]) { _, path in path }
        let pid = try ProcessSpawn.spawn([executable] + arguments, .detached(logFile: layout.log(service), environment: environment))
        try AtomicFile.write(Data("\(pid)\n".utf8), to: layout.pidFile(service))
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            guard ReleaseProcess.isAlive(pid) else {
                throw DeployError.invalid("\(hostName): \(service.rawValue) exited at start:\n\(HostActivation.tail(layout.log(service)))")
            }
            if case .success(let answer) = HTTPProbe.request(ready, timeout: 2), answer.status == 200 { return "\(service.rawValue): started" }
            usleep(100_000)
        }
        throw DeployError.invalid("\(hostName): \(service.rawValue) did not answer \(ready) within 30 s:\n\(HostActivation.tail(layout.log(service)))")
    }

    /// The pid of `service` when it runs.
    public func running(_ service: MonitoringService) -> Int32? {
        guard let text = try? String(contentsOfFile: layout.pidFile(service), encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), ReleaseProcess.isAlive(pid) else { return nil }
        return pid
    }

    /// nil when the server took its configuration again, else why not.
    private func reload(_ address: String) -> String? {
        switch HTTPProbe.request("http://\(address)/-/reload", method: "POST", timeout: 30) {
        case .success(let answer) where answer.status == 200: return nil
        case .success(let answer): return "HTTP \(answer.status): \(answer.body.prefix(300))"
        case .failure(let failure): return "\(failure)"
        }
    }

    /// `apt-get install -y` the package providing `executable`, only when it is missing.
    private func install(_ service: MonitoringService, executable: String) -> String? {
        guard let aptGet = ProcessRunner.which("apt-get") else { return nil }
        var environment = ProcessInfo.processInfo.environment
        environment["DEBIAN_FRONTEND"] = "noninteractive"
        _ = try? ProcessRunner().run(aptGet, ["install", "-y", "--no-install-recommends", service.package], environment: environment, timeout: 600)
        return ProcessRunner.which(executable)
    }

    /// Keeps the newest `keep` configurations, and always current and previous.
    private func prune() {
        let inUse = Set([layout.current, layout.previous].compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: $0) }
            .map { ($0 as NSString).lastPathComponent })
        let all = ((try? FileManager.default.contentsOfDirectory(atPath: layout.configs)) ?? []).sorted()
        for name in all.dropLast(keep) where !inUse.contains(name) {
            try? FileManager.default.removeItem(atPath: layout.configs + "/" + name)
        }
    }
}
