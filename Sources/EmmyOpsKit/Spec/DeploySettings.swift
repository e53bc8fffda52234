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
