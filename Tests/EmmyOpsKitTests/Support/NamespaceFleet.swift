@testable import EmmyOpsKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Hosts that are really apart: one network namespace each, with its own address on a bridge
/// that lives in a namespace of its own (so nothing crosses the machine's own network), its
/// own sshd on port 22, and whatever the deploys start there (nginx, the release,
/// node-exporter, Prometheus, Alertmanager). The operator — `emmyops deploy`, the load, the
/// probes — runs in one more namespace on the same bridge. Needs root.
///
/// A *bare* host also has a file system of its own: an overlay of a minimal Debian root
/// (scripts/bare-rootfs.sh: no Swift, no compiler) that its sshd chroots every session into,
/// so whatever a deploy runs there — the release, nginx, node-exporter — runs as on a fresh
/// server, from the release artifact alone.
final class NamespaceFleet {
    struct Member {
        var name: String
        var namespace: String
        var address: String
        /// The deploy root as the host sees it (the spec's `root:`).
        var root: String
        /// Where the host's `/` is on this machine: "" when it shares this machine's files,
        /// the overlay it is chrooted into when it is bare.
        var filesystem: String
        /// `path` on the host, as this machine sees it.
        func local(_ path: String) -> String { filesystem + path }
    }

    /// Which hosts (1-based) run chrooted in which root filesystem.
    struct BareHosts {
        var rootfs: String
        var indices: Set<Int>
    }

    static let ip = "/usr/sbin/ip"
    static var missing: [String] { ([ip] + SSHHosts.tools).filter { !FileManager.default.isExecutableFile(atPath: $0) } + (getuid() == 0 ? [] : ["root"]) }

    let dir: URL
    let tag: String
    let subnet: String
    let operatorNamespace: String
    let clientKey: String
    let knownHosts: String
    let sshConfig: String
    private(set) var hosts: [Member] = []
    private var namespaces: [String] = []
    private var sshds: [Int32] = []
    /// Mount points to take down at the end, innermost first.
    private var mounts: [String] = []
    /// sshd refuses to chroot below a group- or world-writable folder (/tmp): bare hosts'
    /// file systems live under a root-only folder instead.
    private var bareBase: String?

    init(count: Int, bare: BareHosts? = nil) throws {
        dir = try CLI.temporaryDirectory()
        tag = String(UInt32.random(in: 0...0xffff_ff), radix: 16)
        // A /24 of its own per run, inside namespaces only: parallel runs never meet.
        subnet = "10.\(Int.random(in: 64...127)).\(Int.random(in: 0...255))"
        operatorNamespace = "emmyf-\(tag)-op"
        clientKey = dir.appendingPathComponent("client_key").path
        knownHosts = dir.appendingPathComponent("known_hosts").path
        sshConfig = dir.appendingPathComponent("ssh_config").path
        do { try build(count: count, bare: bare) } catch {
            shutdown()
            throw error
        }
    }

    private func build(count: Int, bare: BareHosts?) throws {
        let bridgeNamespace = "emmyf-\(tag)-sw"
        try addNamespace(bridgeNamespace)
        try Self.run(["-n", bridgeNamespace, "link", "add", "br0", "type", "bridge"])
        try Self.run(["-n", bridgeNamespace, "link", "set", "br0", "up"])
        func attach(_ namespace: String, _ address: String, _ index: Int) throws {
            try addNamespace(namespace)
            let port = "p\(index)"
            try Self.run(["-n", bridgeNamespace, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", namespace])
            try Self.run(["-n", bridgeNamespace, "link", "set", port, "master", "br0", "up"])
            try Self.run(["-n", namespace, "addr", "add", "\(address)/24", "dev", "eth0"])
            try Self.run(["-n", namespace, "link", "set", "eth0", "up"])
            try Self.run(["-n", namespace, "link", "set", "lo", "up"])
        }
        try attach(operatorNamespace, "\(subnet).100", 100)

        let (hostKey, hostPublic) = try SSHHosts.prepareKeys(in: dir, clientKey: clientKey, sshConfig: sshConfig)
        var known = ""
        for index in 1...count {
            var member = Member(name: "host\(index)", namespace: "emmyf-\(tag)-\(index)", address: "\(subnet).\(index)",
                                root: dir.appendingPathComponent("host\(index)").path, filesystem: "")
            if let bare, bare.indices.contains(index) {
                member.filesystem = try bareFilesystem(member.name, rootfs: bare.rootfs)
                member.root = "/srv/emmy"
                try FileManager.default.createDirectory(atPath: member.local(member.root), withIntermediateDirectories: true)
            }
            try attach(member.namespace, member.address, index)
            let config = dir.appendingPathComponent("sshd-\(member.name).conf").path
            try SSHHosts.sshdConfig(address: member.address, port: 22, hostKey: hostKey, authorizedKeys: dir.path + "/authorized_keys",
                                    chroot: member.filesystem.isEmpty ? nil : member.filesystem)
                .write(toFile: config, atomically: true, encoding: .utf8)
            let log = dir.appendingPathComponent("sshd-\(member.name).log").path
            sshds.append(try ProcessSpawn.spawn([Self.ip, "netns", "exec", member.namespace, "/usr/sbin/sshd", "-D", "-e", "-f", config],
                                                .detached(logFile: log, environment: [:])))
            hosts.append(member)
            known += "\(member.address) \(hostPublic)\n"
        }
        try known.write(toFile: knownHosts, atomically: true, encoding: .utf8)
    }

    /// A host's own `/`: the cached root filesystem as the read-only lower layer of an overlay
    /// (so hosts never write into the cache or each other), with its own /proc.
    private func bareFilesystem(_ name: String, rootfs: String) throws -> String {
        let base = bareBase ?? "/var/lib/emmyops-test/fleet-\(tag)"
        bareBase = base
        let upper = "\(base)/\(name)/upper", work = "\(base)/\(name)/work", merged = "\(base)/\(name)/fs"
        for folder in [upper, work, merged] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        try Self.mount(["-t", "overlay", "overlay", "-o", "lowerdir=\(rootfs),upperdir=\(upper),workdir=\(work)", merged])
        mounts.insert(merged, at: 0)
        try Self.mount(["-t", "proc", "proc", merged + "/proc"])
        mounts.insert(merged + "/proc", at: 0)
        return merged
    }

    private static func mount(_ arguments: [String]) throws {
        let out = try ProcessRunner().run("/usr/bin/mount", arguments, timeout: 10)
        guard out.status == 0 else { throw LoopbackPorts.Failure(description: "mount \(arguments.joined(separator: " ")): \(out.stderr)") }
    }

    /// Waits until every sshd answers from the operator's namespace.
    func awaitSSH() async throws {
        for host in hosts {
            _ = try await poll("sshd on \(host.name)", timeout: .seconds(15)) { () -> Bool? in
                // sshd greets first; curl then waits for input until --max-time.
                self.curl(["-s", "--max-time", "1", "telnet://\(host.address):22"], timeout: 3).stdout.hasPrefix("SSH-") ? true : nil
            }
        }
    }

    /// Runs `emmyops ARGS --spec SPEC --ssh-config …` in the operator's namespace.
    func emmyops(_ arguments: [String], spec: String) throws -> CLI.Result {
        let out = try ProcessRunner().run(Self.ip, ["netns", "exec", operatorNamespace, CLI.binary] + arguments + ["--spec", spec, "--ssh-config", sshConfig],
                                          currentDirectory: dir.path, timeout: 300)
        return CLI.Result(status: out.status, stdout: out.stdout, stderr: out.stderr)
    }

    /// curl in `namespace` (the operator's by default).
    func curl(_ arguments: [String], in namespace: String? = nil, timeout: Double = 10) -> ProcessRunner.Output {
        (try? ProcessRunner().run(Self.ip, ["netns", "exec", namespace ?? operatorNamespace, "curl"] + arguments, timeout: timeout))
            ?? ProcessRunner.Output(status: -1, stdout: "", stderr: "curl did not run", timedOut: false)
    }

    /// GET `url` from `namespace`; the body when the answer is 200.
    func get(_ url: String, in namespace: String? = nil) -> String? {
        let out = curl(["-s", "-f", "--max-time", "3", url], in: namespace, timeout: 6)
        return out.status == 0 ? out.stdout : nil
    }

    func writeSpec(_ name: String, _ text: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Ends every process in the namespaces (whatever the deploys started there), then the
    /// namespaces and the files.
    func shutdown() {
        for namespace in namespaces {
            let pids = (try? ProcessRunner().run(Self.ip, ["netns", "pids", namespace], timeout: 10))?.stdout
                .split(separator: "\n").compactMap { Int32($0) } ?? []
            for pid in pids { kill(pid, SIGTERM) }
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline, pids.contains(where: ReleaseProcess.isAlive) { usleep(50_000) }
            for pid in pids where ReleaseProcess.isAlive(pid) { kill(pid, SIGKILL) }
        }
        for pid in sshds {
            var status: Int32 = 0
            waitpid(pid, &status, WNOHANG)
        }
        for namespace in namespaces.reversed() { _ = try? ProcessRunner().run(Self.ip, ["netns", "del", namespace], timeout: 10) }
        // Lazily: a process that outlived its namespace's SIGKILL must not keep the overlay (and
        // its upper layer, which removeItem would then walk into) mounted.
        for mount in mounts { _ = try? ProcessRunner().run("/usr/bin/umount", ["--lazy", mount], timeout: 10) }
        if let bareBase { try? FileManager.default.removeItem(atPath: bareBase) }
        try? FileManager.default.removeItem(at: dir)
    }

    func logs() -> String {
        hosts.map { "--- sshd \($0.name) ---\n" + HostActivation.tail(dir.appendingPathComponent("sshd-\($0.name).log").path) }.joined(separator: "\n")
    }

    private func addNamespace(_ name: String) throws {
        try Self.run(["netns", "add", name])
        namespaces.append(name)
    }

    private static func run(_ arguments: [String]) throws {
        let out = try ProcessRunner().run(ip, arguments, timeout: 10)
        guard out.status == 0 else { throw LoopbackPorts.Failure(description: "ip \(arguments.joined(separator: " ")): \(out.stderr)") }
    }
}
