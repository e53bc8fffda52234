import Yams

// The `ssh:` and `deploy:` sections, whole: the model, its schema (defaults read off the
// model, so they are declared once), how it is read from the YAML tree, and its checks.
// A new key of these sections is added here and nowhere else.

/// The `ssh:` section: which OpenSSH client files every remote command uses.
public struct SSHSettings: Sendable, Hashable {
    /// Passed as `-F`; nil lets OpenSSH read the user's own config.
    public var config: String?
    /// Passed as `UserKnownHostsFile`; host keys are always checked strictly.
    public var knownHosts: String?
    /// Passed as `-i`.
    public var identity: String?
    public init(config: String? = nil, knownHosts: String? = nil, identity: String? = nil) {
        self.config = config
        self.knownHosts = knownHosts
        self.identity = identity
    }
}

/// The `deploy:` section: release layout, gate, fleet batching and the nginx proxy switch.
public struct DeploySettings: Sendable, Hashable {
    /// Where releases live on each host (`releases/`, `shared/`, `current`).
    public var root: String = "/opt/emmy"
    public var keepReleases: Int = 5
    /// How long a new release has to answer `/ready` with 200.
    public var healthTimeout: PromDuration = .seconds(60)
    /// The path the gate polls on a new release; nil polls `app.ready_path`.
    public var healthPath: String?
    public var batchSize: Int = 1
    public var parallel: Int = 4
    /// After this, a lock left by a killed run may be taken over (with a warning).
    public var lockExpiry: PromDuration = .minutes(15)
    /// Longest wait for old nginx workers and the old release to finish in-flight requests.
    public var drainTimeout: PromDuration = .seconds(30)
    /// The two loopback ports releases alternate between (blue/green); default app.port and app.port + 1.
    public var slotPorts: [Int]?
    /// Port and address nginx listens on for clients.
    public var httpPort: Int = 80
    public var listenAddress: String = "0.0.0.0"
    /// nginx `-p` prefix; default `<root>/shared/nginx`, so emmyops runs its own nginx master.
    public var nginxPrefix: String?
    public var nginx: String = "nginx"
    public init() {}
}

extension Spec {
    /// The path deploy's readiness gate polls on a new release (and the docker healthcheck).
    public var gatePath: String { deploy.healthPath ?? app.readyPath }
}

// MARK: - Schema

extension SpecSchema {
    static let ssh = SchemaField("ssh", .object([
        SchemaField("config", .string, "OpenSSH client config passed as -F (default: the user's own)."),
        SchemaField("known_hosts", .string, "Known-hosts file; host keys are always checked strictly."),
        SchemaField("identity", .string, "Private key file passed as -i."),
    ]), "How emmyops reaches hosts with the system OpenSSH client.")

    static let deploy = SchemaField("deploy", .object([
        SchemaField("root", .string, "Absolute folder holding releases/, shared/ and current (default \(DeploySettings().root))."),
        SchemaField("keep_releases", .integer(min: 2, max: 100), "Releases kept per host (default \(DeploySettings().keepReleases))."),
        SchemaField("health_timeout", .duration, "How long a new release has to answer /ready (default \(Int(DeploySettings().healthTimeout.seconds))s)."),
        SchemaField("health_path", .string, "Path the readiness gate polls on a new release (default app.ready_path)."),
        SchemaField("batch_size", .integer(min: 1, max: 1000), "Hosts switched per batch (default \(DeploySettings().batchSize))."),
        SchemaField("parallel", .integer(min: 1, max: 64), "Hosts of a batch worked on at once (default \(DeploySettings().parallel))."),
        SchemaField("lock_expiry", .duration, "After this a killed run's deploy lock may be taken over (default \(DeploySettings().lockExpiry))."),
        SchemaField("drain_timeout", .duration, "Longest wait for in-flight requests of the old release (default \(DeploySettings().drainTimeout))."),
        SchemaField("slot_ports", .list(.port), "The two loopback ports releases alternate on (default app.port, app.port+1)."),
        SchemaField("proxy", .object([
            SchemaField("http_port", .port, "Port nginx serves clients on (default \(DeploySettings().httpPort))."),
            SchemaField("listen_address", .string, "Address nginx listens on (default \(DeploySettings().listenAddress))."),
            SchemaField("nginx", .string, "nginx executable (default \(DeploySettings().nginx))."),
            SchemaField("nginx_prefix", .string, "nginx -p prefix holding nginx.conf (default <root>/shared/nginx)."),
        ]), "The nginx reverse proxy whose reload cuts traffic over."),
    ]), "Releases on hosts over SSH: layout, readiness gate, batches, lock.")

    /// Per-host overrides, so several simulated hosts can share one machine.
    static let hostDeployFields = [
        SchemaField("root", .string, "This host's deploy.root."),
        SchemaField("http_port", .port, "This host's deploy.proxy.http_port."),
        SchemaField("slot_ports", .list(.port), "This host's deploy.slot_ports."),
    ]
}

// MARK: - Reading

extension SpecBuilder {
    func ssh(_ node: CheckedNode?) -> SSHSettings {
        SSHSettings(config: R.string(R.value(node, "config")), knownHosts: R.string(R.value(node, "known_hosts")),
                    identity: R.string(R.value(node, "identity")))
    }

    func deploy(_ node: CheckedNode?) -> DeploySettings {
        var deploy = DeploySettings()
        set(&deploy.root, R.string(R.value(node, "root")))
        set(&deploy.keepReleases, R.int(R.value(node, "keep_releases")))
        set(&deploy.healthTimeout, duration(R.value(node, "health_timeout")))
        deploy.healthPath = R.string(R.value(node, "health_path"))
        set(&deploy.batchSize, R.int(R.value(node, "batch_size")))
        set(&deploy.parallel, R.int(R.value(node, "parallel")))
        set(&deploy.lockExpiry, duration(R.value(node, "lock_expiry")))
        set(&deploy.drainTimeout, duration(R.value(node, "drain_timeout")))
        deploy.slotPorts = ports(R.value(node, "slot_ports"))
        let proxy = R.value(node, "proxy")
        set(&deploy.httpPort, port(R.value(proxy, "http_port")))
        set(&deploy.listenAddress, R.string(R.value(proxy, "listen_address")))
        set(&deploy.nginx, R.string(R.value(proxy, "nginx")))
        deploy.nginxPrefix = R.string(R.value(proxy, "nginx_prefix"))
        return deploy
    }

    func hostDeploy(_ node: CheckedNode, into host: inout Host) {
        host.root = R.string(R.value(node, "root"))
        host.httpPort = port(R.value(node, "http_port"))
        host.slotPorts = ports(R.value(node, "slot_ports"))
    }

    private func ports(_ node: CheckedNode?) -> [Int]? {
        R.list(node)?.compactMap(port)
    }
}

// MARK: - Validation

/// Checks of the `ssh` and `deploy` sections and the per-host deploy overrides: every value
/// that reaches a remote command line must be passable safely, whatever the quoting.
enum DeployValidation {
    static func validate(_ spec: Spec, error: (String, String, String?) -> Void) {
        func path(_ key: String, _ value: String?) {
            guard let value else { return }
            if !value.hasPrefix("/") { error(key, "`\(value)` must be an absolute path", "write it from /, e.g. /opt/emmy") }
            if let problem = ReleaseLayout.unsafePathReason(value) { error(key, problem, nil) }
        }
        for (key, value) in [("ssh.config", spec.ssh.config), ("ssh.known_hosts", spec.ssh.knownHosts), ("ssh.identity", spec.ssh.identity)] {
            if let value, let problem = ReleaseLayout.unsafePathReason(value) { error(key, problem, nil) }
        }
        path("deploy.root", spec.deploy.root)
        // The fleet-wide root also reaches the rendered systemd unit (split on spaces) and
        // cloud-init's YAML flow lists, which have no quoting we control: plain paths only.
        // (Per-host roots only travel over SSH, quoted, so they may hold anything printable.)
        if spec.deploy.root.contains(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || "/._-".contains($0))) }) {
            error("deploy.root", "`\(spec.deploy.root)` goes into the systemd unit and cloud-init unquoted", "use letters, digits and / . _ - only")
        }
        path("deploy.proxy.nginx_prefix", spec.deploy.nginxPrefix)
        func slots(_ key: String, _ ports: [Int]?) {
            guard let ports else { return }
            if ports.count != 2 || ports[0] == ports[1] { error(key, "needs exactly two different ports", "e.g. [5000, 5001]") }
        }
        slots("deploy.slot_ports", spec.deploy.slotPorts)
        for (index, host) in spec.hosts.enumerated() {
            path("hosts[\(index)].root", host.root)
            slots("hosts[\(index)].slot_ports", host.slotPorts)
            if host.user.isEmpty || host.user.hasPrefix("-") || host.user.contains(where: { $0.isWhitespace || $0 == "@" }) {
                error("hosts[\(index)].user", "`\(host.user)` is not a login name", nil)
            }
        }
        // nginx.conf gets `listen ADDRESS:PORT;`: only an IPv4 address or `*` fits there unquoted.
        let address = spec.deploy.listenAddress
        if address != "*", CIDR(address + "/32") == nil {
            error("deploy.proxy.listen_address", "`\(address)` is not an IPv4 address", "e.g. 0.0.0.0, 127.0.0.1 or *")
        }
        if spec.deploy.healthTimeout.milliseconds == 0 { error("deploy.health_timeout", "must be longer than 0s", nil) }
        // It ends up in a URL and in the docker healthcheck's argv: a path, nothing else.
        if let path = spec.deploy.healthPath,
           !path.hasPrefix("/") || path.contains(where: { $0.isWhitespace || $0.isNewline || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } == true }) {
            error("deploy.health_path", "`\(path)` is not a URL path", "write it from /, e.g. /ready")
        }
    }
}
