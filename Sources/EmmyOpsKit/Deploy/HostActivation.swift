import EmmyApp
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Which release serves on which slot; `<root>/shared/run/active.json`.
public struct ActiveRelease: Codable, Sendable, Hashable {
    public var version: String
    public var slot: Int
    public var port: Int
}

/// What `host activate` did.
public struct ActivationResult: Codable, Sendable {
    public var from: String?
    public var to: String
    public var port: Int
    /// Start to done, the old release stopped (the audit log's duration).
    public var durationS: Double
    /// Where the seconds went: start until the gate passed, the nginx switch (old workers
    /// drained), stopping the old release. Zero when the release was already serving.
    public var readyS: Double = 0
    public var switchS: Double = 0
    public var stopS: Double = 0

    /// `from -> to on port P in Ns (ready …, switch …, old stopped …)`, the line deploy shows per host.
    public var summary: String {
        "\(from ?? "nothing") -> \(to) on port \(port) in \(String(format: "%.1f", durationS))s"
            + String(format: " (ready %.2fs, switch %.2fs, old stopped %.2fs)", readyS, switchS, stopS)
    }
}

/// The host side of a cut-over, run on the host by the release's own binary
/// (`<root>/releases/<v>/emmyops host activate`), so it needs no shell and no round trips:
///
/// 1. start the release on the idle slot (blue/green loopback ports);
/// 2. gate: `/ready` must answer 200 within `deploy.health_timeout`, else stop it and fail;
/// 3. write nginx's upstream file atomically, `nginx -t`, reload, wait for the old workers
///    to finish their requests;
/// 4. record the slot, switch `current` (symlink renamed over it), SIGTERM the old release;
/// 5. append to the audit log.
///
/// At every instant one gated release is behind nginx, so killing this process anywhere
/// leaves the host serving.
public struct HostActivation {
    public var layout: ReleaseLayout
    public var hostName: String
    public var version: String
    public var who: String
    public var action: String

    public init(layout: ReleaseLayout, hostName: String, version: String, who: String, action: String) {
        self.layout = layout
        self.hostName = hostName
        self.version = version
        self.who = who
        self.action = action
    }

    public func run() throws -> ActivationResult {
        let started = Date()
        let previous = Self.readActive(layout)
        do {
            let result = try activate(previous: previous, started: started)
            try? AuditLog.append(AuditEntry(who: who, when: started, host: hostName, from: previous?.version, to: version,
                                            action: action, result: "ok", durationS: result.durationS), to: layout.audit)
            return result
        } catch {
            try? AuditLog.append(AuditEntry(who: who, when: started, host: hostName, from: previous?.version, to: version,
                                            action: action, result: "failed", durationS: Date().timeIntervalSince(started),
                                            reason: "\(error)".components(separatedBy: "\n").first), to: layout.audit)
            throw error
        }
    }

    private func activate(previous: ActiveRelease?, started: Date) throws -> ActivationResult {
        guard ReleaseLayout.isValidVersion(version) else { throw DeployError.invalid("`\(version)` is not a valid version") }
        guard FileManager.default.isExecutableFile(atPath: layout.binary(version)) else {
            throw DeployError.missingRelease(host: hostName, version: version)
        }
        let (spec, _) = try SpecLoader.load(path: layout.spec(version))
        guard let host = spec.hosts.first(where: { $0.name == hostName }) else {
            throw DeployError.invalid("host `\(hostName)` is not in \(layout.spec(version))")
        }
        let target = DeployTarget(host: host, spec: spec)
        let drain = Double(spec.deploy.drainTimeout.milliseconds) / 1000
        let proxy = ProxySwitch(nginx: target.nginx, prefix: target.nginxPrefix, drainTimeout: drain)

        if let previous, previous.version == version, let state = ReleaseState.read(layout.state(version)),
           ReleaseProcess.isAlive(state.pid), proxy.masterPID() != nil {
            try AtomicFile.symlink(layout.current, to: "releases/" + version)
            return ActivationResult(from: previous.version, to: version, port: previous.port, durationS: 0)
        }

        for dir in [layout.shared, layout.logs, layout.run] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        if !FileManager.default.fileExists(atPath: layout.secrets) {
            FileManager.default.createFile(atPath: layout.secrets, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        // Anything but the serving release still running is left over from a killed run.
        stopAll(except: previous?.version, grace: drain)

        let slot = previous.map { 1 - $0.slot } ?? 0
        let port = target.slotPorts[slot]
        var environment = Self.secrets(layout.secrets)
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let pid = try ReleaseProcess.start(layout: layout, version: version, port: port, environment: environment)

        let timeout = Double(spec.deploy.healthTimeout.milliseconds) / 1000
        if let reason = gate(pid: pid, url: "http://127.0.0.1:\(port)\(spec.gatePath)", timeout: timeout) {
            ReleaseProcess.stop(pid: pid, grace: 5)
            throw DeployError.gateFailed(host: hostName, version: version, reason: reason, log: Self.tail(layout.log(version)))
        }
        let ready = Date()

        let fleet = FleetTopology(spec: spec)
        let config = try ProxySwitch.render(listen: target.listenAddress, httpPort: target.httpPort, metricsPath: spec.app.metricsPath,
                                            drainSeconds: max(1, Int(drain)), version: version, tls: target.tls,
                                            metricsListener: fleet.metricsListener(on: hostName), scrapers: fleet.scraperAddresses)
        do {
            try proxy.switchTo(port: port, config: config)
        } catch {
            ReleaseProcess.stop(pid: pid, grace: 5)
            throw error
        }
        try AtomicFile.write(try JSONEncoder().encode(ActiveRelease(version: version, slot: slot, port: port)), to: layout.active)
        try AtomicFile.symlink(layout.current, to: "releases/" + version)
        let switched = Date()
        // nginx's old workers are gone, so nothing reaches the old release any more.
        stopAll(except: version, grace: drain)
        return ActivationResult(from: previous?.version, to: version, port: port, durationS: Date().timeIntervalSince(started),
                                readyS: ready.timeIntervalSince(started), switchS: switched.timeIntervalSince(ready),
                                stopS: Date().timeIntervalSince(switched))
    }

    /// nil when the release answered 200 in time, else why not.
    private func gate(pid: Int32, url: String, timeout: TimeInterval) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        var last = "no answer"
        while Date() < deadline {
            guard ReleaseProcess.isAlive(pid) else { return "it exited during start-up" }
            switch HTTPProbe.request(url, timeout: 2) {
            case .success(let response) where response.status == 200: return nil
            case .success(let response): last = "\(url) answered \(response.status)"
            case .failure(let failure): last = failure.description
            }
            // A refused connection costs microseconds; every poll interval is added to the cut-over.
            usleep(20_000)
        }
        return "\(url) not ready within \(Int(timeout))s (last: \(last))"
    }

    /// Stops every release with a run-state file except `keep` (and only processes that are still those releases).
    func stopAll(except keep: String?, grace: TimeInterval) {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: layout.run)) ?? []
        for file in files where file.hasSuffix(".json") && file != "active.json" {
            let version = String(file.dropLast(5))
            guard version != keep, let state = ReleaseState.read(layout.state(version)) else { continue }
            ReleaseProcess.stop(state, layout: layout, version: version, grace: grace)
            try? FileManager.default.removeItem(atPath: layout.state(version))
            try? FileManager.default.removeItem(atPath: layout.supervisorState(version))
        }
    }

    public static func readActive(_ layout: ReleaseLayout) -> ActiveRelease? {
        FileManager.default.contents(atPath: layout.active).flatMap { try? JSONDecoder().decode(ActiveRelease.self, from: $0) }
    }

    /// `KEY=VALUE` lines of secrets.env (comments and blank lines skipped).
    static func secrets(_ path: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            out[String(line[..<equals]).trimmingCharacters(in: .whitespaces)] = String(line[line.index(after: equals)...])
        }
        return out
    }

    public static func tail(_ path: String, lines: Int = 12) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Deletes the oldest releases beyond `keep`, never the current or the previous one.
    public static func prune(_ layout: ReleaseLayout, keep: Int) -> [String] {
        let active = readActive(layout)?.version
        let current = (try? FileManager.default.destinationOfSymbolicLink(atPath: layout.current)).map { ($0 as NSString).lastPathComponent }
        let releases = listReleases(layout)
        guard releases.count > keep else { return [] }
        var removed: [String] = []
        for release in releases.prefix(releases.count - keep) where release.version != active && release.version != current {
            if (try? FileManager.default.removeItem(atPath: layout.release(release.version))) != nil { removed.append(release.version) }
        }
        return removed
    }

    /// Installed releases, oldest first (by folder modification time).
    public static func listReleases(_ layout: ReleaseLayout) -> [(version: String, installed: Date)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.releases)) ?? []
        return names.filter { ReleaseLayout.isValidVersion($0) }.compactMap { name -> (String, Date)? in
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: layout.release(name)),
                  let date = attributes[.modificationDate] as? Date else { return nil }
            return (name, date)
        }.sorted { $0.1 < $1.1 }
    }
}

extension HostActivation {
    /// Installed releases with who deployed each when (from the audit log), newest last.
    public static func listing(_ layout: ReleaseLayout) -> ReleaseListing {
        let current = (try? FileManager.default.destinationOfSymbolicLink(atPath: layout.current)).map { ($0 as NSString).lastPathComponent }
        let audit = AuditLog.read(layout.audit).filter { $0.result == "ok" && $0.action == "deploy" }
        let installed = listReleases(layout)
        let releases = installed.map { release in
            let deployed = audit.last { $0.to == release.version }
            return ReleaseListing.Release(version: release.version, installed: DateText.iso8601(release.installed),
                                          deployedBy: deployed?.who, deployedAt: deployed?.when, current: release.version == current)
        }
        let index = installed.firstIndex { $0.version == current }
        let previous = index.flatMap { $0 > 0 ? installed[$0 - 1].version : nil }
        return ReleaseListing(current: current, previous: previous, releases: releases)
    }
}
