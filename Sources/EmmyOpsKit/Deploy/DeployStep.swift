/// One remote command of a plan, as a plain value: what `--dry-run` prints and tests compare.
public struct DeployStep: Sendable, Hashable, Codable {
    /// Short name shown in progress: prepare, upload, verify, install, activate, prune, …
    public var name: String
    public var argv: [String]
    /// A local file streamed to the command's standard input (uploads).
    public var stdinFile: String?
    /// For `verify`: the SHA-256 each listed file must have, in argv order.
    public var expectSHA256: [String]?
    /// Seconds the command may take.
    public var timeout: Double
    /// A non-zero exit is an answer ("no"), not a failure.
    public var isQuery: Bool
    /// Skipped when the query step of this name answered yes (exit 0).
    public var unlessQuery: String?

    public init(_ name: String, _ argv: [String], stdinFile: String? = nil, expectSHA256: [String]? = nil, timeout: Double = 120,
                isQuery: Bool = false, unlessQuery: String? = nil) {
        self.name = name
        self.argv = argv
        self.stdinFile = stdinFile
        self.expectSHA256 = expectSHA256
        self.timeout = timeout
        self.isQuery = isQuery
        self.unlessQuery = unlessQuery
    }

    /// `name: 'quoted' 'argv'` (< file), exactly what the host's shell receives.
    public var description: String {
        "\(name): \(ShellQuote.join(argv))" + (stdinFile.map { " < \(ShellQuote.quote($0))" } ?? "")
            + (unlessQuery.map { "  (unless \($0) found it)" } ?? "")
    }
}

/// The steps for one host.
public struct HostPlan: Sendable, Hashable {
    public var target: DeployTarget
    public var version: String
    public var steps: [DeployStep]

    public init(target: DeployTarget, version: String, steps: [DeployStep]) {
        self.target = target
        self.version = version
        self.steps = steps
    }
}
