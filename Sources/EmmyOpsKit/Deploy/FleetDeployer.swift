import Foundation

/// Progress of a deploy or rollback: one per step per host, as text or one JSON line each.
public struct DeployEvent: Codable, Sendable, Hashable {
    public var host: String?
    public var step: String
    /// start | ok | failed | warning
    public var status: String
    public var message: String?

    public init(host: String?, step: String, status: String, message: String? = nil) {
        self.host = host
        self.step = step
        self.status = status
        self.message = message
    }
}

/// Runs plans over a fleet: lock, batches of hosts (each batch `parallel` at a time), and on
/// any failure every host already switched goes back to the release it had before.
public struct FleetDeployer: Sendable {
    public struct Options: Sendable {
        public var who: String
        public var batchSize: Int
        public var parallel: Int
        public var keep: Int
        /// Seconds `host activate` may take: gate + drain + margin.
        public var activationTimeout: Double
        public var lockExpiry: Double

        public init(who: String, batchSize: Int, parallel: Int, keep: Int, activationTimeout: Double, lockExpiry: Double) {
            self.who = who
            self.batchSize = batchSize
            self.parallel = parallel
            self.keep = keep
            self.activationTimeout = activationTimeout
            self.lockExpiry = lockExpiry
        }

        public init(spec: Spec, who: String) {
            let gate = Double(spec.deploy.healthTimeout.milliseconds) / 1000
            let drain = Double(spec.deploy.drainTimeout.milliseconds) / 1000
            self.init(who: who, batchSize: spec.deploy.batchSize, parallel: spec.deploy.parallel, keep: spec.deploy.keepReleases,
                      activationTimeout: gate + 2 * drain + 60, lockExpiry: Double(spec.deploy.lockExpiry.milliseconds) / 1000)
        }
    }

    public var targets: [DeployTarget]
    public var options: Options
    public var runner: @Sendable (DeployTarget) -> any CommandRunner
    public var onEvent: @Sendable (DeployEvent) -> Void

    public init(targets: [DeployTarget], options: Options, runner: @escaping @Sendable (DeployTarget) -> any CommandRunner,
                onEvent: @escaping @Sendable (DeployEvent) -> Void) {
        self.targets = targets
        self.options = options
        self.runner = runner
        self.onEvent = onEvent
    }

    /// The native plan for every host (what `--dry-run` prints).
    public func plans(version: String, artifact: DeployPlan.Payload, spec: DeployPlan.Payload) -> [HostPlan] {
        targets.map {
            DeployPlan.native(target: $0, version: version, artifact: artifact, spec: spec, who: options.who, keep: options.keep,
                              activationTimeout: options.activationTimeout)
        }
    }

    /// Deploys `plans` in batches; throws `DeployError.fleetFailed` after returning switched hosts.
    public func deploy(_ plans: [HostPlan]) throws {
        try deploy(planning: { plans })
    }

    /// `deploy` with the plans made once the lock is taken, so what they need (the artifact's
    /// SHA-256) can be worked out meanwhile.
    public func deploy(planning: () throws -> [HostPlan]) throws {
        try withLock {
            let plans = try planning()
            let switched = Switched()
            for batch in stride(from: 0, to: plans.count, by: max(1, options.batchSize)).map({ Array(plans[$0..<min($0 + options.batchSize, plans.count)]) }) {
                let failures = concurrently(batch, width: options.parallel) { plan -> HostFailure? in
                    do {
                        let runner = runner(plan.target)
                        let skip = DeployEvent(host: plan.target.host.name, step: "skip", status: "ok", message: "already on \(plan.version)")
                        // A plan whose first step reports `current` saves the round trip of reading it.
                        var previous = plan.steps.first?.reportsCurrent == true ? nil : try current(plan.target, runner)
                        if previous == plan.version {
                            onEvent(skip)
                            return nil
                        }
                        var answeredYes: Set<String> = []
                        for step in plan.steps {
                            if let query = step.unlessQuery, answeredYes.contains(query) { continue }
                            let outcome = try run(step, on: plan.target, runner, version: plan.version)
                            if step.reportsCurrent {
                                previous = outcome.current
                                if previous == plan.version {
                                    onEvent(skip)
                                    return nil
                                }
                            }
                            if outcome.answeredNo { continue }
                            if step.isQuery { answeredYes.insert(step.name) }
                            if step.activates { switched.add(plan.target, previous: previous) }
                        }
                        return nil
                    } catch {
                        return HostFailure(host: plan.target.host.name, error)
                    }
                }.compactMap { $0 }
                if let failure = failures.first {
                    let back = returnToPrevious(switched.all)
                    throw DeployError.fleetFailed(host: failure.host, reason: failure.reason, rolledBack: back, unreachable: failure.unreachable)
                }
            }
        }
    }

    /// Rolls every target back to `to`, or to the release installed before its current one.
    public func rollback(to version: String?) throws {
        try withLock {
            for start in stride(from: 0, to: targets.count, by: max(1, options.batchSize)) {
                let batch = Array(targets[start..<min(start + options.batchSize, targets.count)])
                let failures = concurrently(batch, width: options.parallel) { target -> HostFailure? in
                    do {
                        let runner = runner(target)
                        let chosen: String
                        if let version { chosen = version } else {
                            guard let listing = try releases(target, runner), let previous = listing.previous else {
                                throw DeployError.invalid("\(target.host.name): no earlier release to roll back to")
                            }
                            chosen = previous
                        }
                        try run(DeployPlan.activate(target: target, version: chosen, who: options.who, action: "rollback",
                                                    timeout: options.activationTimeout), on: target, runner)
                        return nil
                    } catch {
                        return HostFailure(host: target.host.name, error)
                    }
                }.compactMap { $0 }
                if let failure = failures.first {
                    throw DeployError.fleetFailed(host: failure.host, reason: failure.reason, rolledBack: [], unreachable: failure.unreachable)
                }
            }
        }
    }

    /// The host's releases and their history, read by its current binary.
    public func releases(_ target: DeployTarget, _ runner: any CommandRunner) throws -> ReleaseListing? {
        let result = try runner.run([target.layout.current + "/emmyops", "host", "releases", "--root", target.layout.root], timeout: 60)
        guard result.status == 0 else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ReleaseListing.self, from: Data(result.stdout.utf8))
    }

    // MARK: - Steps

    /// What a step told the deployer besides succeeding.
    struct StepOutcome {
        /// A query step answered "no".
        var answeredNo = false
        /// Where a `reportsCurrent` step found `current` pointing (nil: no release yet).
        var current: String?
    }

    /// Runs `step`; `version` is the plan's, which a `reportsCurrent` step stops at when the host is on it.
    @discardableResult
    func run(_ step: DeployStep, on target: DeployTarget, _ runner: any CommandRunner, version: String? = nil) throws -> StepOutcome {
        let host = target.host.name
        onEvent(DeployEvent(host: host, step: step.name, status: "start"))
        let result = try runner.run(step.argv, stdinFile: step.stdinFile, timeout: step.timeout)
        var outcome = StepOutcome(answeredNo: step.isQuery && result.status == DeployStep.answerNo)
        guard result.status == 0 || outcome.answeredNo else {
            let message = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            onEvent(DeployEvent(host: host, step: step.name, status: "failed", message: message))
            throw RemoteError.failed(host: host, command: step.name, status: result.status, stderr: message)
        }
        var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        if step.reportsCurrent {
            let link = lines.isEmpty ? "" : lines.removeFirst()
            outcome.current = link.isEmpty ? nil : (link as NSString).lastPathComponent
            if let version, outcome.current == version { return outcome }
        }
        if let expected = step.expectSHA256 {
            let found = lines.filter { !$0.isEmpty }.map { String($0.prefix(64)) }
            guard found == expected else {
                onEvent(DeployEvent(host: host, step: step.name, status: "failed", message: "checksum mismatch"))
                throw DeployError.invalid("\(host): uploaded files do not match their SHA-256 (expected \(expected), found \(found))")
            }
        }
        let message = outcome.answeredNo ? "not found" : step.activates || step.name == "monitoring" ? lastLine(result.stdout)
            : step.isQuery ? "found" : nil
        onEvent(DeployEvent(host: host, step: step.name, status: "ok", message: message))
        return outcome
    }

    private func current(_ target: DeployTarget, _ runner: any CommandRunner) throws -> String? {
        let result = try runner.run(DeployPlan.readCurrent(target: target).argv, timeout: 30)
        let link = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.status == 0, !link.isEmpty else { return nil }
        return (link as NSString).lastPathComponent
    }

    /// Activates each host's previous release again; returns the hosts that made it back.
    private func returnToPrevious(_ switched: [(DeployTarget, String?)]) -> [String] {
        let back = concurrently(switched, width: options.parallel) { target, previous -> String? in
            guard let previous else {
                onEvent(DeployEvent(host: target.host.name, step: "rollback", status: "warning", message: "first release on this host; nothing to return to"))
                return nil
            }
            do {
                try run(DeployPlan.activate(target: target, version: previous, who: options.who, action: "rollback",
                                            timeout: options.activationTimeout), on: target, runner(target))
                return target.host.name
            } catch {
                onEvent(DeployEvent(host: target.host.name, step: "rollback", status: "failed", message: "\(error)"))
                return nil
            }
        }
        return back.compactMap { $0 }.sorted()
    }

    private func withLock(_ body: () throws -> Void) throws {
        guard let first = targets.first else { return }
        let lock = DeployLock(runner: runner(first), layout: first.layout, expiry: options.lockExpiry)
        onEvent(DeployEvent(host: first.host.name, step: "lock", status: "start"))
        // Log in to the other hosts while the lock is taken: each login costs ~0.5 s, and the
        // shared connection then serves every later step. Failures surface in the real steps.
        let others = Array(targets.dropFirst())
        let warm = DispatchGroup()
        warm.enter()
        Thread.detachNewThread { [runner, options] in
            concurrently(others, width: options.parallel) { _ = try? runner($0).run(["true"], stdinFile: nil, timeout: 30) }
            warm.leave()
        }
        defer { warm.wait() }
        let (holder, warning) = try lock.acquire(holder: options.who)
        if let warning { onEvent(DeployEvent(host: first.host.name, step: "lock", status: "warning", message: warning)) }
        onEvent(DeployEvent(host: first.host.name, step: "lock", status: "ok"))
        defer { try? lock.release(holder) }
        try body()
    }

    private func lastLine(_ text: String) -> String? {
        text.split(separator: "\n").last.map(String.init)
    }
}

/// `host releases` output.
public struct ReleaseListing: Codable, Sendable {
    public struct Release: Codable, Sendable {
        public var version: String
        public var installed: String
        public var deployedBy: String?
        public var deployedAt: String?
        public var current: Bool
    }
    public var current: String?
    public var previous: String?
    public var releases: [Release]
}

/// A host whose steps failed, as the fleet's error reports it.
private struct HostFailure: Sendable {
    var host: String
    var reason: String
    var unreachable: Bool

    init(host: String, _ error: any Error) {
        self.host = host
        reason = "\(error)"
        unreachable = error.isUnreachable
    }
}

private final class Switched: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(DeployTarget, String?)] = []
    func add(_ target: DeployTarget, previous: String?) { lock.withLock { items.append((target, previous)) } }
    var all: [(DeployTarget, String?)] { lock.withLock { items } }
}

extension Error {
    /// ssh could not connect, log in, or trust the host key.
    public var isUnreachable: Bool {
        switch self as Error {
        case RemoteError.unreachable: return true
        case DeployError.fleetFailed(_, _, _, let unreachable): return unreachable
        default: return false
        }
    }
}
