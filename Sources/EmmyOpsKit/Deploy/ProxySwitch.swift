import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The local nginx in front of the two release slots: a reload moves new connections to the
/// other slot while old workers finish the requests they hold.
public struct ProxySwitch: Sendable {
    public var nginx: String
    public var prefix: String
    public var drainTimeout: TimeInterval

    public init(nginx: String, prefix: String, drainTimeout: TimeInterval) {
        self.nginx = nginx
        self.prefix = prefix
        self.drainTimeout = drainTimeout
    }

    public var configPath: String { prefix + "/nginx.conf" }
    public var upstreamPath: String { prefix + "/upstream.conf" }
    var pidPath: String { prefix + "/logs/nginx.pid" }

    /// nginx.conf for a release, from Templates/nginx/emmy.conf.mustache. `metricsListener`:
    /// where this host's monitoring hosts (`scrapers`) scrape the app, when any do.
    public static func render(listen: String, httpPort: Int, metricsPath: String, drainSeconds: Int, version: String,
                              tls: ProxyTLS? = nil, metricsListener: FleetTopology.Endpoint? = nil, scrapers: [String] = []) throws -> String {
        var metricsServer = ""
        if let metricsListener {
            metricsServer = "\n" + (try TemplateLibrary.render("nginx/metrics-listener.conf", [
                "address": HostPort.host(metricsListener.address), "port": metricsListener.port, "allow": scrapers, "metricsPath": metricsPath,
            ] as [String: Any]))
        }
        var context: [String: Any] = [
            "listen": listen, "httpPort": httpPort, "metricsPath": metricsPath,
            "drainSeconds": drainSeconds, "version": version, "metricsServer": metricsServer,
        ]
        if let tls {
            context["tls"] = [
                "httpsPort": tls.httpsPort, "certificate": tls.certificatePath, "key": tls.keyPath,
                "acmeWebroot": tls.acmeWebroot ?? "", "hstsSeconds": tls.hstsMaxAge.milliseconds / 1000,
                "hsts": tls.hstsMaxAge.milliseconds >= 1000,
                // The redirect names the port unless it is HTTPS's own.
                "portSuffix": tls.httpsPort == 443 ? "" : ":\(tls.httpsPort)",
            ] as [String: Any]
        }
        return try TemplateLibrary.render("nginx/emmy.conf", context)
    }

    public static func upstream(port: Int) -> String { "server 127.0.0.1:\(port);\n" }

    /// Points nginx at `port` with `config`, then reloads (or starts) it and waits until the
    /// workers of the old configuration are gone.
    public func switchTo(port: Int, config: String) throws {
        for dir in [prefix, prefix + "/logs", prefix + "/temp"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let previousConfig = FileManager.default.contents(atPath: configPath)
        let previousUpstream = FileManager.default.contents(atPath: upstreamPath)
        try AtomicFile.write(Data(config.utf8), to: configPath)
        try AtomicFile.write(Data(Self.upstream(port: port).utf8), to: upstreamPath)
        let test = try nginxCommand(["-t", "-q"])
        guard test.status == 0 else {
            // Put back what worked, so a later reload of the old release still succeeds.
            if let previousConfig { try? AtomicFile.write(previousConfig, to: configPath) }
            if let previousUpstream { try? AtomicFile.write(previousUpstream, to: upstreamPath) }
            throw DeployError.proxy("nginx -t rejected the configuration: \(test.stderr)")
        }
        guard let master = masterPID() else {
            // nginx daemonizes; its launcher exits once the master runs. Started detached so no
            // pipe of ours (or of the SSH session) stays open in the daemon.
            let log = prefix + "/logs/start.log"
            let launcher = try ProcessSpawn.spawn([executable] + baseArguments, .detached(logFile: log, environment: [:]))
            var status: Int32 = 0
            waitpid(launcher, &status, 0)
            guard status == 0, masterPID() != nil else {
                throw DeployError.proxy("nginx did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            }
            return
        }
        let oldWorkers = Self.children(of: master)
        let reload = try nginxCommand(["-s", "reload"])
        guard reload.status == 0 else { throw DeployError.proxy("nginx reload failed: \(reload.stderr)") }
        // The old workers stop accepting at once and exit when their requests are done.
        let deadline = Date().addingTimeInterval(drainTimeout + 5)
        while Date() < deadline, oldWorkers.contains(where: ReleaseProcess.isAlive) { usleep(20_000) }
    }

    /// Stops this nginx (used when a host is torn down).
    public func stop() throws {
        _ = try nginxCommand(["-s", "quit"])
    }

    public func masterPID() -> Int32? {
        guard let text = try? String(contentsOfFile: pidPath, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), ReleaseProcess.isAlive(pid) else { return nil }
        return pid
    }

    private var executable: String { nginx.hasPrefix("/") ? nginx : (ProcessRunner.which(nginx) ?? "/usr/sbin/\(nginx)") }

    /// -e: nginx opens its compiled-in error log before reading the config; keep it in the prefix.
    private var baseArguments: [String] { ["-p", prefix + "/", "-c", configPath, "-e", prefix + "/logs/error.log"] }

    private func nginxCommand(_ extra: [String]) throws -> ProcessRunner.Output {
        try ProcessRunner().run(executable, baseArguments + extra, timeout: 30)
    }

    static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent
        }
    }
}
