import Foundation

/// `deploy --monitoring` (and the end of `deploy --all` when a host monitors): per host, the
/// spec and the rendered monitoring files it needs are uploaded, then the host's current
/// release installs them (`host monitoring`, see HostMonitoring). Hosts go in parallel; the
/// plan is plain values, like the release deploy's.
public struct MonitoringDeploy {
    public var spec: Spec
    public var targets: [DeployTarget]

    public init(spec: Spec, targets: [DeployTarget]) {
        self.spec = spec
        self.targets = targets
    }

    /// The hosts `deploy --monitoring` works on: every host that runs something.
    public static func targets(_ spec: Spec) -> [DeployTarget] {
        spec.hosts.filter { !$0.roles.isEmpty }.map { DeployTarget(host: $0, spec: spec) }
    }

    /// Whether a `deploy --all` should also deploy monitoring: some host monitors.
    public static func isWanted(_ spec: Spec) -> Bool { !FleetTopology(spec: spec).monitoringHosts.isEmpty }

    /// The rendered files a monitoring host runs, by their path inside a configuration folder.
    public func files() -> [(path: String, contents: String)] {
        let prefix = "monitoring/"
        return MonitoringRenderer.render(spec).filter { file in
            file.path == OutputPath.prometheusConfig || file.path.hasPrefix(OutputPath.rulesFolder) || file.path == OutputPath.alertmanagerConfig
        }.map { (String($0.path.dropFirst(prefix.count)), $0.contents) }
    }

    /// Writes the files into `directory` and returns each host's steps.
    public func plans(staging directory: String, specFile: String) throws -> [HostPlan] {
        var uploads: [(local: String, remote: String)] = []
        for file in files() {
            let local = directory + "/" + file.path.replacingOccurrences(of: "/", with: "__")
            try file.contents.write(toFile: local, atomically: true, encoding: .utf8)
            uploads.append((local, file.path))
        }
        return targets.map { target in
            let layout = MonitoringLayout(root: target.layout.root)
            let monitors = target.host.roles.contains(.monitoring)
            var steps = [
                DeployStep("prepare", ["sh", "-c", #"rm -rf -- "$1" && mkdir -p -- "$1/prometheus/rules" "$1/alertmanager""#,
                                       "emmyops-prepare", layout.incoming]),
                DeployPlan.upload(specFile, to: layout.incoming + "/" + MonitoringLayout.spec),
            ]
            if monitors { steps += uploads.map { DeployPlan.upload($0.local, to: layout.incoming + "/" + $0.remote) } }
            steps.append(DeployStep("monitoring", [target.layout.current + "/emmyops", "host", "monitoring", "--root", target.layout.root,
                                                   "--host", target.host.name], timeout: 180))
            return HostPlan(target: target, version: "monitoring", steps: steps)
        }
    }

    /// Runs each host's plan, all hosts at once; throws the first host's failure.
    public func deploy(_ plans: [HostPlan], runner: @escaping @Sendable (DeployTarget) -> any CommandRunner,
                       onEvent: @escaping @Sendable (DeployEvent) -> Void) throws {
        let deployer = FleetDeployer(targets: targets, options: FleetDeployer.Options(spec: spec, who: "monitoring"), runner: runner, onEvent: onEvent)
        let failures = concurrently(plans, width: max(1, spec.deploy.parallel)) { plan -> String? in
            do {
                for step in plan.steps { try deployer.run(step, on: plan.target, runner(plan.target)) }
                return nil
            } catch {
                return "\(plan.target.host.name): \(error)"
            }
        }.compactMap { $0 }
        if let failure = failures.first { throw DeployError.invalid("monitoring deploy failed on \(failure)") }
    }
}
