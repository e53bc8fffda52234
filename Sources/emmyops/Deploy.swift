import ArgumentParser
import EmmyApp
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct Deploy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deploy",
            abstract: "Deploy a release to hosts over SSH with a readiness gate and no dropped requests.",
            discussion: """
            Per host: upload the artifact and spec into releases/<version>, verify SHA-256, start it \
            on the idle loopback slot, wait for /ready, switch nginx (graceful reload) and `current`, \
            then stop the old release. If any host fails, every host already switched returns to \
            its previous release and the command exits 1.
            """)

        @OptionGroup var fleet: FleetOptions

        @Option(name: .long, help: "Release name ([A-Za-z0-9._-]; default: UTC time, e.g. 20261123-070000).")
        var version: String?

        @Option(name: .long, help: ArgumentHelp("Binary to install (default: this emmyops).", valueName: "path"))
        var artifact: String?

        @Option(name: .long, help: "Hosts worked on at once within a batch (default deploy.parallel).")
        var parallel: Int?

        @Option(name: .long, help: "Hosts switched per batch (default deploy.batch_size).")
        var batchSize: Int?

        @Flag(name: .long, help: "Print the plan for each host and touch nothing.")
        var dryRun = false

        @Flag(name: .long, help: "Install the rendered monitoring (node-exporter everywhere; Prometheus and Alertmanager on monitoring hosts). Alone: only that; with --all it follows the release deploy, which --all does anyway when a host monitors.")
        var monitoring = false

        /// `deploy --monitoring` on its own leaves the releases alone.
        private var monitoringOnly: Bool { monitoring && !fleet.all && fleet.host.isEmpty }

        func validate() throws {
            if !monitoringOnly { try fleet.validateSelection() }
            if let version, !ReleaseLayout.isValidVersion(version) {
                throw ValidationError("--version `\(version)` may hold only letters, digits, `.`, `_` and `-`")
            }
            if let parallel, parallel < 1 { throw ValidationError("--parallel must be at least 1") }
            if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        }

        func run() throws {
            if monitoringOnly {
                var spec = try fleet.spec.load()
                if let sshConfig = fleet.sshConfig { spec.ssh.config = sshConfig }
                try deployMonitoring(spec)
                return
            }
            let (spec, targets) = try fleet.load()
            let version = self.version ?? ReleaseLayout.defaultVersion()
            let artifactPath = artifact ?? ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
            let artifact = try PendingPayload(hashing: artifactPath)
            let specPayload = try DeployPlan.Payload(hashing: fleet.spec.spec)
            var options = FleetDeployer.Options(spec: spec, who: FleetOptions.who)
            if let parallel { options.parallel = parallel }
            if let batchSize { options.batchSize = batchSize }

            if spec.app.runtime == .docker {
                try runDocker(spec: spec, targets: targets, version: version, specPayload: specPayload, options: options)
                return
            }
            if dryRun {
                let deployer = FleetDeployer(targets: targets, options: options, runner: { _ in LocalRunner() }, onEvent: { _ in })
                let plans = try deployer.plans(version: version, artifact: artifact.value(), spec: specPayload)
                if fleet.format == .json {
                    try FormatOption.printJSON(DryRun(
                        version: version, lock: "\(targets[0].host.name):\(targets[0].layout.lock)", lockExpirySeconds: Int(options.lockExpiry),
                        hosts: plans.map { .init(host: $0.target.host.name, user: $0.target.host.user, address: $0.target.host.address,
                                                 port: $0.target.host.port, steps: $0.steps.map(\.description)) }))
                    return
                }
                print("lock: \(targets[0].host.name):\(targets[0].layout.lock) (expires after \(Int(options.lockExpiry))s)")
                for plan in plans {
                    print("\(plan.target.host.name) (\(plan.target.host.user)@\(plan.target.host.address):\(plan.target.host.port)) -> \(version)")
                    for step in plan.steps { print("  \(step.description)") }
                }
                return
            }
            try fleet.withTransports(spec) { runner in
                let deployer = FleetDeployer(targets: targets, options: options, runner: runner, onEvent: fleet.printer())
                try deployer.deploy { try deployer.plans(version: version, artifact: artifact.value(), spec: specPayload) }
            }
            Output.note("deployed \(version) to \(targets.map(\.host.name).joined(separator: ", "))")
            if monitoring || (fleet.all && MonitoringDeploy.isWanted(spec)) { try deployMonitoring(spec) }
        }

        /// node-exporter on every host, Prometheus and Alertmanager on the monitoring hosts.
        private func deployMonitoring(_ spec: Spec) throws {
            let deploy = MonitoringDeploy(spec: spec, targets: MonitoringDeploy.targets(spec))
            let staging = FileManager.default.temporaryDirectory.appendingPathComponent("emmyops-monitoring-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: staging) }
            let plans = try deploy.plans(staging: staging, specFile: fleet.spec.spec)
            if dryRun {
                for plan in plans {
                    print("\(plan.target.host.name) -> monitoring")
                    for step in plan.steps { print("  \(step.description)") }
                }
                return
            }
            try fleet.withTransports(spec) { runner in
                try deploy.deploy(plans, runner: runner, onEvent: fleet.printer())
            }
            Output.note("monitoring deployed to \(plans.map(\.target.host.name).joined(separator: ", "))")
        }

        /// `deploy --dry-run --format json`: the plan per host.
        struct DryRun: Encodable {
            struct Host: Encodable {
                var host: String
                var user: String
                var address: String
                var port: Int
                var steps: [String]
            }
            var version: String
            var lock: String
            var lockExpirySeconds: Int
            var hosts: [Host]
        }

        /// `app.runtime: docker`: compose files pinned to `app.image`, the slot read from each host.
        private func runDocker(spec: Spec, targets: [DeployTarget], version: String, specPayload: DeployPlan.Payload,
                               options: FleetDeployer.Options) throws {
            let release = try DockerRelease(spec: spec, version: version, specFile: specPayload)
            defer { release.close() }
            if dryRun {
                for target in targets {
                    print("\(target.host.name) (docker, \(spec.app.image)) -> \(version); slot b shown, the idle slot is read at run time")
                    for step in try release.plan(target, slot: 1).steps { print("  \(step.description)") }
                }
                return
            }
            try fleet.withTransports(spec) { runner in
                let plans = try targets.map { try release.plan($0, on: runner($0)) }
                try FleetDeployer(targets: targets, options: options, runner: runner, onEvent: fleet.printer()).deploy(plans)
            }
        }
    }
}
