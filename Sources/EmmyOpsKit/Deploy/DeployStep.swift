/// One remote command of a plan, as a plain value: what `--dry-run` prints and tests compare.
public struct DeployStep: Sendable, Hashable, Codable {
    /// Short name shown in progress: stage, upload, activate, prune, …
    public var name: String
    public var argv: [String]
    /// A local file streamed to the command's standard input (uploads).
    public var stdinFile: String?
    /// The SHA-256 each line the command prints must start with, in order (`sha256sum` of what it wrote).
    public var expectSHA256: [String]?
    /// Seconds the command may take.
    public var timeout: Double
    /// Exit 0 answers "yes" and exit `DeployStep.answerNo` "no"; any other exit is still a failure.
    public var isQuery: Bool
    /// Skipped when the query step of this name answered yes (exit 0).
    public var unlessQuery: String?
    /// The first line the command prints is where `current` points (empty: no release yet), and
    /// the command stops there when that is the plan's version: the host is skipped. Saves the
    /// deployer a round trip of its own to read it.
    public var reportsCurrent: Bool
    /// A success switches the host to the plan's version (a failure leaves it where it was), so
    /// a later failure elsewhere in the fleet returns it to the release it had.
    public var activates: Bool

    public init(_ name: String, _ argv: [String], stdinFile: String? = nil, expectSHA256: [String]? = nil, timeout: Double = 120,
                isQuery: Bool = false, unlessQuery: String? = nil, reportsCurrent: Bool = false,
                activates: Bool = false) {
        self.name = name
        self.argv = argv
        self.stdinFile = stdinFile
        self.expectSHA256 = expectSHA256
        self.timeout = timeout
        self.isQuery = isQuery
        self.unlessQuery = unlessQuery
        self.reportsCurrent = reportsCurrent
        self.activates = activates
    }

    /// How a query step answers "no".
    public static let answerNo: Int32 = 3

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
