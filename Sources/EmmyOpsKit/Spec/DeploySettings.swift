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
    /// HTTPS on the proxy; nil serves plain HTTP on `httpPort` only.
    public var tls: ProxyTLS?
    public init() {}
}

/// `deploy.proxy.tls`: nginx serves HTTPS (HTTP/2, Mozilla's intermediate settings, HSTS) with a
/// certificate already on the host, and its HTTP port only redirects, except for the ACME
/// challenge path, so a certificate can be issued and renewed through it.
public struct ProxyTLS: Sendable, Hashable {
    /// PEM certificate chain and private key on the host...
    public var certificate: String?
    public var key: String?
    /// ...or an ACME client's output folder holding `fullchain.pem` and `privkey.pem`
    /// (certbot's `/etc/letsencrypt/live/<name>`).
    public var acmeDirectory: String?
    public var httpsPort: Int = 443
    /// `Strict-Transport-Security: max-age`; 0 sends none. Two years, as Mozilla recommends.
    public var hstsMaxAge: PromDuration = .days(730)
    /// Served at `/.well-known/acme-challenge/` on the HTTP port (`certbot --webroot -w`);
    /// default `<root>/shared/acme`.
    public var acmeWebroot: String?
    public init(certificate: String? = nil, key: String? = nil, acmeDirectory: String? = nil) {
        self.certificate = certificate
        self.key = key
        self.acmeDirectory = acmeDirectory
    }

    /// The certificate chain nginx loads.
    public var certificatePath: String { certificate ?? (acmeDirectory ?? "") + "/fullchain.pem" }
    /// The private key nginx loads.
    public var keyPath: String { key ?? (acmeDirectory ?? "") + "/privkey.pem" }
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
            SchemaField("tls", .object([
                SchemaField("certificate", .string, "PEM certificate chain on the host (with `key`)."),
                SchemaField("key", .string, "PEM private key on the host (with `certificate`)."),
                SchemaField("acme_directory", .string, "Instead of certificate and key: an ACME client's folder holding fullchain.pem and privkey.pem."),
                SchemaField("https_port", .port, "Port nginx serves HTTPS on (default \(ProxyTLS().httpsPort))."),
                SchemaField("hsts_max_age", .duration, "Strict-Transport-Security max-age (default \(ProxyTLS().hstsMaxAge); 0s sends none)."),
                SchemaField("acme_webroot", .string, "Folder served at /.well-known/acme-challenge/ on the HTTP port (default <root>/shared/acme)."),
            ]), "HTTPS with HTTP/2 and HSTS; the HTTP port then redirects, except for the ACME challenge."),
        ]), "The nginx reverse proxy whose reload cuts traffic over."),
    ]), "Releases on hosts over SSH: layout, readiness gate, batches, lock.")

    /// Per-host overrides, so several simulated hosts can share one machine.
    static let hostDeployFields = [
        SchemaField("root", .string, "This host's deploy.root."),
        SchemaField("http_port", .port, "This host's deploy.proxy.http_port."),
        SchemaField("slot_ports", .list(.port), "This host's deploy.slot_ports."),
        SchemaField("https_port", .port, "This host's deploy.proxy.tls.https_port."),
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
        if let node = R.value(proxy, "tls") {
            var tls = ProxyTLS(certificate: R.string(R.value(node, "certificate")), key: R.string(R.value(node, "key")),
                               acmeDirectory: R.string(R.value(node, "acme_directory")))
            set(&tls.httpsPort, port(R.value(node, "https_port")))
            set(&tls.hstsMaxAge, duration(R.value(node, "hsts_max_age")))
            tls.acmeWebroot = R.string(R.value(node, "acme_webroot"))
            deploy.tls = tls
        }
        return deploy
    }

    func hostDeploy(_ node: CheckedNode, into host: inout Host) {
        host.root = R.string(R.value(node, "root"))
        host.httpPort = port(R.value(node, "http_port"))
        host.slotPorts = ports(R.value(node, "slot_ports"))
        host.httpsPort = port(R.value(node, "https_port"))
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
        if let tls = spec.deploy.tls { validateTLS(tls, spec, error: error) }
        if spec.deploy.healthTimeout.milliseconds == 0 { error("deploy.health_timeout", "must be longer than 0s", nil) }
        // It ends up in a URL and in the docker healthcheck's argv: a path, nothing else.
        if let path = spec.deploy.healthPath,
           !path.hasPrefix("/") || path.contains(where: { $0.isWhitespace || $0.isNewline || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } == true }) {
            error("deploy.health_path", "`\(path)` is not a URL path", "write it from /, e.g. /ready")
        }
    }
}

extension DeployValidation {
    /// Certificate and key, or an ACME folder; paths nginx can take unquoted; ports apart.
    static func validateTLS(_ tls: ProxyTLS, _ spec: Spec, error: (String, String, String?) -> Void) {
        let key = "deploy.proxy.tls"
        switch (tls.certificate, tls.key, tls.acmeDirectory) {
        case (.some, .some, nil), (nil, nil, .some): break
        case (_, _, .some): error(key + ".acme_directory", "give either acme_directory or certificate and key, not both", nil)
        default: error(key, "needs certificate and key (paths on the host), or acme_directory", "e.g. acme_directory: /etc/letsencrypt/live/sms.example.com")
        }
        // These go into nginx.conf as they are: plain absolute paths only.
        for (name, value) in [("certificate", tls.certificate), ("key", tls.key), ("acme_directory", tls.acmeDirectory), ("acme_webroot", tls.acmeWebroot)] {
            guard let value else { continue }
            if !value.hasPrefix("/") || value.split(separator: "/").contains("..")
                || value.contains(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || "/._-@+".contains($0))) }) {
                error("\(key).\(name)", "`\(value)` must be an absolute path of letters, digits and / . _ - @ +", nil)
            }
        }
        if let root = spec.hosts.compactMap(\.root).first(where: { $0.contains(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || "/._-@+".contains($0))) }) }),
           tls.acmeWebroot == nil {
            error(key + ".acme_webroot", "the default ACME webroot under `\(root)` cannot be written into nginx.conf", "set acme_webroot to a plain path")
        }
        if tls.httpsPort == spec.deploy.httpPort { error(key + ".https_port", "must differ from deploy.proxy.http_port", nil) }
        for (index, host) in spec.hosts.enumerated() where (host.httpsPort ?? tls.httpsPort) == (host.httpPort ?? spec.deploy.httpPort) {
            error("hosts[\(index)].https_port", "must differ from the host's HTTP port", nil)
        }
    }
}
