@testable import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Simulated hosts for deploy tests: one real `sshd` per host on 127.0.0.1, each with its own
/// root directory, sshd port, nginx port and two app slot ports. The client side is a
/// throw-away key, known_hosts and `-F` config, so the user's ~/.ssh is never read.
final class SSHHosts {
    struct SimHost {
        var name: String
        var sshPort: Int
        var root: String
        var httpPort: Int
        var slotPorts: [Int]
        var sshd: Int32
        var sshdLog: String
    }

    static let tools = ["/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/ssh-keygen", "/usr/sbin/nginx", "/usr/bin/sha256sum"]
    static var missing: [String] { tools.filter { !FileManager.default.isExecutableFile(atPath: $0) } }
    static var required: Bool { CLI.toolsRequired }
    static let skipReason = "SKIPPED: needs openssh-server, openssh-client and nginx (scripts/install-deps.sh); EMMY_REQUIRE_TOOLS=1 makes this a failure"

    let dir: URL
    let clientKey: String
    let knownHosts: String
    let sshConfig: String
    private(set) var hosts: [SimHost] = []

    /// `roots` overrides a host's root folder name (to test hostile characters in paths).
    init(count: Int, roots: [Int: String] = [:]) throws {
        dir = try CLI.temporaryDirectory()
        clientKey = dir.appendingPathComponent("client_key").path
        knownHosts = dir.appendingPathComponent("known_hosts").path
        sshConfig = dir.appendingPathComponent("ssh_config").path
        let (hostKey, hostPublic) = try Self.prepareKeys(in: dir, clientKey: clientKey, sshConfig: sshConfig)
        var known = ""
        for index in 0..<count {
            let ports = try LoopbackPorts.pick(4)
            let name = "host\(index + 1)"
            let root = dir.appendingPathComponent(roots[index] ?? name).path
            let config = dir.appendingPathComponent("sshd-\(name).conf").path
            try Self.sshdConfig(address: "127.0.0.1", port: ports[0], hostKey: hostKey, authorizedKeys: "\(dir.path)/authorized_keys")
                .write(toFile: config, atomically: true, encoding: .utf8)
            // posix_spawn, not Foundation's Process: with an sshd child, Foundation's child
            // reaper blocked in wait4 on it and never noticed other children exiting.
            let log = dir.appendingPathComponent("sshd-\(name).log").path
            let sshd = try ProcessSpawn.spawn(["/usr/sbin/sshd", "-D", "-e", "-f", config], .detached(logFile: log, environment: [:]))
            hosts.append(SimHost(name: name, sshPort: ports[0], root: root, httpPort: ports[1], slotPorts: [ports[2], ports[3]],
                                 sshd: sshd, sshdLog: log))
            known += "[127.0.0.1]:\(ports[0]) \(hostPublic)\n"
        }
        try known.write(toFile: knownHosts, atomically: true, encoding: .utf8)
        for host in hosts {
            try awaitListening(host)
        }
    }

    /// Runs `body` with a fleet, always tearing it down; a missing tool fails the test (the
    /// tests that call it are enabled only when the tools are there or required).
    static func with(_ count: Int, roots: [Int: String] = [:], _ body: (SSHHosts) async throws -> Void) async throws {
        guard missing.isEmpty else {
            Issue.record("EMMY_REQUIRE_TOOLS=1 but missing: \(missing.joined(separator: ", "))")
            return
        }
        let hosts = try SSHHosts(count: count, roots: roots)
        defer { hosts.shutdown() }
        do { try await body(hosts) } catch {
            Issue.record("\(error)\n\(hosts.logs())")
        }
    }

    /// The spec every deploy in a test uses; `app`/`deploy` extras are appended verbatim.
    func spec(deployExtra: String = "", appExtra: String = "") -> String {
        let hostLines = hosts.map { host in
            "  - { name: \(host.name), address: 127.0.0.1, user: root, port: \(host.sshPort), root: \(Self.yamlString(host.root)), " +
                "http_port: \(host.httpPort), slot_ports: [\(host.slotPorts[0]), \(host.slotPorts[1])], roles: [app] }"
        }.joined(separator: "\n")
        return """
        version: 1
        project: deploytest
        app:
          name: emmy-deploy
          provider: { kind: log }
        \(appExtra)
        hosts:
        \(hostLines)
        ssh:
          known_hosts: \(Self.yamlString(knownHosts))
          identity: \(Self.yamlString(clientKey))
        deploy:
          health_timeout: 20s
          drain_timeout: 3s
          lock_expiry: 10m
          keep_releases: 3
          parallel: 5
          proxy: { listen_address: 127.0.0.1 }
        \(deployExtra)
        monitoring:
          node_exporter: { enabled: false }

        """
    }

    func writeSpec(_ name: String, _ text: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `emmyops deploy|rollback|releases …` with `--ssh-config` and this fleet's spec.
    func emmyops(_ arguments: [String], spec: String) throws -> CLI.Result {
        try CLI.run(arguments + ["--spec", spec, "--ssh-config", sshConfig], in: dir)
    }

    func current(_ host: SimHost) -> String? {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: host.root + "/current")).map { ($0 as NSString).lastPathComponent }
    }

    func active(_ host: SimHost) -> ActiveRelease? { HostActivation.readActive(ReleaseLayout(root: host.root)) }

    /// Command line of the release serving on a host, from /proc.
    func servingCommandLine(_ host: SimHost) -> [String]? {
        guard let active = active(host), let state = ReleaseState.read(ReleaseLayout(root: host.root).state(active.version)),
              let data = FileManager.default.contents(atPath: "/proc/\(state.pid)/cmdline") else { return nil }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    func proxyStatus(_ host: SimHost, path: String = "/ready") -> Int? {
        try? HTTPProbe.request("http://127.0.0.1:\(host.httpPort)\(path)", timeout: 3).get().status
    }

    /// Stops everything the tests' deploys started on the hosts, waiting until each process is
    /// gone, then the sshd processes, and proves it: afterwards `pgrep -f` finds nothing that
    /// names the fleet's folder (a failed test says what). First what the hosts record:
    /// - the release supervisors (`<root>/shared/run/*.json`); each drains and stops its `serve`;
    /// - the monitoring daemons `deploy --monitoring` started (`<root>/monitoring/run/*.pid`);
    /// - nginx.
    /// Then a `serve` whose supervisor died without stopping it (its pid is in the supervisor's
    /// state), and whatever else still names the fleet's folder in its command line: a release
    /// that a rollback left running because it no longer looked like one (a test's wrapper
    /// script runs the real binary under another argv, so the host's own check refuses to
    /// signal it), an SSH connection master.
    func shutdown() {
        var recorded: [Int32] = []
        var children: [Int32] = []
        for host in hosts {
            let layout = ReleaseLayout(root: host.root)
            for file in Self.files(in: layout.run, suffix: ".json") where file != "active.json" {
                if let state = ReleaseState.read(layout.run + "/" + file) { recorded.append(state.pid) }
            }
            for file in Self.files(in: layout.run + "/supervise", suffix: ".json") {
                if let data = FileManager.default.contents(atPath: layout.run + "/supervise/" + file),
                   let child = (try? SupervisorState.decode(data))?.childPID { children.append(child) }
            }
            let monitoring = MonitoringLayout(root: host.root)
            for file in Self.files(in: monitoring.run, suffix: ".pid") {
                if let text = try? String(contentsOfFile: monitoring.run + "/" + file, encoding: .utf8),
                   let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) { recorded.append(pid) }
            }
            if let master = ProxySwitch(nginx: "nginx", prefix: host.root + "/shared/nginx", drainTimeout: 1).masterPID() { recorded.append(master) }
        }
        // Supervisors first and alone: a `serve` stopped under a live supervisor is restarted.
        // The grace covers a supervisor's drain (the specs' drain_timeout) with room to spare.
        // Each recorded pid must still name the fleet's folder (nginx and the daemons name
        // their prefix or configuration there): a stale file's pid may be another test's.
        ProcessSweep.stop(recorded.filter { ProcessSweep.names($0, dir.path) }, grace: 15)
        ProcessSweep.stop(children.filter { ProcessSweep.names($0, dir.path) }, grace: 5)
        for host in hosts {
            kill(host.sshd, SIGTERM)
            var status: Int32 = 0
            waitpid(host.sshd, &status, 0)
        }
        // What no host recorded: supervisors again first, so none restarts a child stopped here.
        let unrecorded = ProcessSweep.naming(dir.path)
        if !unrecorded.isEmpty {
            print("SSHHosts: stopping \(unrecorded.count) process(es) of the fleet that no host recorded: " +
                  unrecorded.map { (ProcessTable.arguments($0) ?? []).prefix(2).joined(separator: " ") }.joined(separator: ", "))
            ProcessSweep.stop(unrecorded.filter { ProcessTable.arguments($0)?.dropFirst().first == "supervise" }, grace: 15)
            ProcessSweep.stop(ProcessSweep.naming(dir.path), grace: 10)
        }
        do {
            let left = try ProcessSweep.pgrep(dir.path)
            if !left.isEmpty { Issue.record("still running after the fleet's shutdown:\n\(left.joined(separator: "\n"))") }
        } catch {
            Issue.record("cannot check what is left of the fleet: \(error)")
        }
        try? FileManager.default.removeItem(at: dir)
    }

    private static func files(in directory: String, suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(suffix) }
    }

    func logs() -> String {
        hosts.map { "--- sshd \($0.name) ---\n" + HostActivation.tail($0.sshdLog) }.joined(separator: "\n")
    }

    /// Throw-away keys for a test fleet in `dir`: the client's key (authorized on every host),
    /// one host key, and the client config. Returns the host key's path and its public line.
    static func prepareKeys(in dir: URL, clientKey: String, sshConfig: String) throws -> (hostKey: String, hostPublic: String) {
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        let hostKey = dir.appendingPathComponent("host_key").path
        try keygen(clientKey)
        try keygen(hostKey)
        try FileManager.default.copyItem(atPath: clientKey + ".pub", toPath: dir.appendingPathComponent("authorized_keys").path)
        // No IdentityFile or known_hosts here: the spec's ssh.identity and ssh.known_hosts supply them.
        try "Host *\n  IdentitiesOnly yes\n  ForwardAgent no\n".write(toFile: sshConfig, atomically: true, encoding: .utf8)
        let hostPublic = try String(contentsOfFile: hostKey + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        return (hostKey, hostPublic)
    }

    /// A throw-away sshd: key login only, as root, on one address; with `chroot`, every
    /// session runs inside that root filesystem (a bare host).
    static func sshdConfig(address: String, port: Int, hostKey: String, authorizedKeys: String, chroot: String? = nil) -> String {
        """
        Port \(port)
        ListenAddress \(address)
        HostKey \(hostKey)
        PidFile none
        UsePAM no
        StrictModes no
        PermitRootLogin prohibit-password
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        AuthorizedKeysFile \(authorizedKeys)
        Subsystem sftp /usr/lib/openssh/sftp-server
        MaxSessions 64
        MaxStartups 64
        LogLevel ERROR

        """ + (chroot.map { "ChrootDirectory \($0)\n" } ?? "")
    }

    static func keygen(_ path: String) throws {
        let out = try ProcessRunner().run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "emmyops-test", "-f", path])
        guard out.status == 0 else { throw LoopbackPorts.Failure(description: "ssh-keygen: \(out.stderr)") }
    }

    /// A JSON string is a valid YAML double-quoted scalar: safe for any path.
    static func yamlString(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
    }

    private func awaitListening(_ host: SimHost) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard ReleaseProcess.isAlive(host.sshd) else { throw LoopbackPorts.Failure(description: "sshd exited: \(logs())") }
            if Self.canConnect(host.sshPort) { return }
            usleep(20_000)
        }
        throw PollTimeout(what: "sshd on port \(host.sshPort)", timeout: .seconds(10))
    }

    static func canConnect(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// Concurrent HTTP GETs against every host's proxy until stopped; counts failures and latency.
final class LoadGenerator: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var latencies: [Double] = []
    private(set) var failures: [String] = []
    private let group = DispatchGroup()

    init(ports: [Int], path: String = "/health", workersPerPort: Int = 1) {
        for port in ports {
            for _ in 0..<workersPerPort {
                group.enter()
                Thread.detachNewThread { [self] in
                    defer { group.leave() }
                    while !lock.withLock({ stopped }) {
                        let start = Date()
                        let result = HTTPProbe.request("http://127.0.0.1:\(port)\(path)", timeout: 10)
                        let elapsed = Date().timeIntervalSince(start)
                        lock.withLock {
                            switch result {
                            case .success(let response) where response.status == 200: latencies.append(elapsed)
                            case .success(let response): failures.append("port \(port): HTTP \(response.status)")
                            case .failure(let failure): failures.append("port \(port): \(failure)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// Stops the workers and returns (requests sent, failures, p99 seconds).
    func stop() -> (sent: Int, failures: [String], p99: Double) {
        lock.withLock { stopped = true }
        group.wait()
        return lock.withLock {
            let sorted = latencies.sorted()
            let p99 = sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
            return (latencies.count + failures.count, failures, p99)
        }
    }

    var sentSoFar: Int { lock.withLock { latencies.count + failures.count } }
}
