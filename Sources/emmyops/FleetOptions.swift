import ArgumentParser
import EmmyOpsKit
import Foundation

/// Host selection, SSH and output flags shared by deploy, rollback and releases.
struct FleetOptions: ParsableArguments {
    @OptionGroup var spec: SpecOptions

    @Option(name: .long, help: ArgumentHelp("A host name from the spec (repeatable).", valueName: "name"))
    var host: [String] = []

    @Flag(name: .long, help: "Every host with the app role.")
    var all = false

    @Option(name: .long, help: ArgumentHelp("OpenSSH client config (-F) for every remote command; overrides ssh.config.", valueName: "file"))
    var sshConfig: String?

    @Option(name: .long, help: "Progress as text, or one JSON event per line (json).")
    var format: EventFormat = .text

    enum EventFormat: String, ExpressibleByArgument { case text, json }

    func validateSelection() throws {
        if host.isEmpty == !all { throw ValidationError("give --host NAME (repeatable) or --all") }
    }

    /// The spec and the targets selected, in spec order.
    func load() throws -> (Spec, [DeployTarget]) {
        var loaded = try spec.load()
        if let sshConfig { loaded.ssh.config = sshConfig }
        let hosts = all ? loaded.hosts.filter { $0.roles.contains(.app) } : try named(in: loaded)
        if hosts.isEmpty {
            throw CommandFailure.problem("no hosts with the app role in \(spec.spec)")
        }
        return (loaded, hosts.map { DeployTarget(host: $0, spec: loaded) })
    }

    /// The hosts named with --host, in the order given.
    private func named(in loaded: Spec) throws -> [EmmyOpsKit.Host] {
        try host.map { name in
            guard let found = loaded.hosts.first(where: { $0.name == name }) else {
                throw CommandFailure.usage("no host named `\(name)` in \(spec.spec) (hosts: \(loaded.hosts.map(\.name).joined(separator: ", ")))")
            }
            return found
        }
    }

    /// Day-2 commands: the hosts named with --host, else (--all, or neither flag) every host
    /// with one of `roles`, in spec order.
    func load(roles: Set<EmmyOpsKit.Host.Role>) throws -> (Spec, [DeployTarget]) {
        var loaded = try spec.load()
        if let sshConfig { loaded.ssh.config = sshConfig }
        let hosts = host.isEmpty ? loaded.hosts.filter { !roles.isDisjoint(with: $0.roles) } : try named(in: loaded)
        if hosts.isEmpty {
            throw CommandFailure.problem("no hosts with the \(roles.map(\.rawValue).sorted().joined(separator: " or ")) role in \(spec.spec)")
        }
        return (loaded, hosts.map { DeployTarget(host: $0, spec: loaded) })
    }

    /// Who is deploying, for the lock and the audit log.
    static var who: String {
        let environment = ProcessInfo.processInfo.environment
        let user = environment["EMMY_DEPLOY_USER"] ?? environment["GITHUB_ACTOR"] ?? environment["USER"] ?? "unknown"
        return "\(user)@\(ProcessInfo.processInfo.hostName)"
    }

    /// Prints progress as it happens.
    func printer() -> @Sendable (DeployEvent) -> Void {
        let json = format == .json
        let lock = NSLock()
        return { event in
            lock.withLock {
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    if let data = try? encoder.encode(event) { FileHandle.standardOutput.write(data + Data("\n".utf8)) }
                } else if event.status != "start" || event.step == "activate" {
                    let text = "[\(event.host ?? "fleet")] \(event.step): \(event.status)" + (event.message.map { " \($0)" } ?? "")
                    FileHandle.standardOutput.write(Data((text + "\n").utf8))
                }
            }
        }
    }

    /// Runs `body` with one SSH transport per host, closing their shared connections after.
    func withTransports<T>(_ spec: Spec, _ body: (@escaping @Sendable (DeployTarget) -> any CommandRunner) throws -> T) throws -> T {
        try withSSH(spec) { transport in try body(transport) }
    }

    /// `withTransports` with the SSH transport itself, for commands that stream (`logs --follow`).
    func withSSH<T>(_ spec: Spec, _ body: (@escaping @Sendable (DeployTarget) -> SSHTransport) throws -> T) throws -> T {
        let directory: String
        do { directory = try SSHTransport.makeControlDirectory() } catch {
            throw CommandFailure.environment("\(error)")
        }
        let settings = spec.ssh
        defer {
            SSHTransport.closeAll(spec.hosts.map { SSHTransport(host: $0, settings: settings, controlDirectory: directory) })
            try? FileManager.default.removeItem(atPath: directory)
        }
        return try body { SSHTransport(host: $0.host, settings: settings, controlDirectory: directory) }
    }
}
