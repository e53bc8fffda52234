import ArgumentParser
import EmmyApp
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct Deploy: ParsableCommand {
        static let configuration = CommandConfiguration(
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

        func validate() throws {
            try fleet.validateSelection()
            if let version, !ReleaseLayout.isValidVersion(version) {
                throw ValidationError("--version `\(version)` may hold only letters, digits, `.`, `_` and `-`")
            }
            if let parallel, parallel < 1 { throw ValidationError("--parallel must be at least 1") }
            if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        }

        func run() throws {
            let (spec, targets) = try fleet.load()
            let version = self.version ?? Self.timestampVersion()
            let artifactPath = artifact ?? ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
            let artifact = try Self.payload(artifactPath)
            let specPayload = try Self.payload(fleet.spec.spec)
            var options = FleetDeployer.Options(spec: spec, who: FleetOptions.who)
            if let parallel { options.parallel = parallel }
            if let batchSize { options.batchSize = batchSize }

            if spec.app.runtime == .docker {
                try runDocker(spec: spec, targets: targets, version: version, specPayload: specPayload, options: options)
                return
            }
            if dryRun {
                let deployer = FleetDeployer(targets: targets, options: options, runner: { _ in LocalRunner() }, onEvent: { _ in })
                print("lock: \(targets[0].host.name):\(targets[0].layout.lock) (expires after \(Int(options.lockExpiry))s)")
                for plan in deployer.plans(version: version, artifact: artifact, spec: specPayload) {
                    print("\(plan.target.host.name) (\(plan.target.host.user)@\(plan.target.host.address):\(plan.target.host.port)) -> \(version)")
                    for step in plan.steps { print("  \(step.description)") }
                }
                return
            }
            try fleet.withTransports(spec) { runner in
                let deployer = FleetDeployer(targets: targets, options: options, runner: runner, onEvent: fleet.printer())
                do {
                    try deployer.deploy(deployer.plans(version: version, artifact: artifact, spec: specPayload))
                } catch {
                    throw FleetOptions.fail(error)
                }
            }
            Output.note("deployed \(version) to \(targets.map(\.host.name).joined(separator: ", "))")
        }

        /// `app.runtime: docker`: compose files pinned to `app.image`, the slot read from each host.
        private func runDocker(spec: Spec, targets: [DeployTarget], version: String, specPayload: DeployPlan.Payload,
                               options: FleetDeployer.Options) throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emmyops-docker-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            func plan(_ target: DeployTarget, slot: Int) throws -> HostPlan {
                // The spec refuses names that are not DNS labels; escaping keeps any other caller inside `dir` too.
                let name = HostName.pathComponent(target.host.name)
                let compose = dir.appendingPathComponent("\(name)-compose.yaml").path
                try DockerPlan.compose(spec: spec, target: target, image: spec.app.image).write(toFile: compose, atomically: true, encoding: .utf8)
                let nginx = dir.appendingPathComponent("\(name)-nginx.conf").path
                try ProxySwitch.render(listen: target.listenAddress, httpPort: target.httpPort, metricsPath: spec.app.metricsPath,
                                       drainSeconds: Int(max(1, spec.deploy.drainTimeout.milliseconds / 1000)), version: version)
                    .write(toFile: nginx, atomically: true, encoding: .utf8)
                return HostPlan(target: target, version: version,
                                steps: DockerPlan.steps(spec: spec, target: target, version: version, slot: slot, composeFile: try Self.payload(compose),
                                                        specFile: specPayload, nginxFile: try Self.payload(nginx)))
            }
            if dryRun {
                for target in targets {
                    print("\(target.host.name) (docker, \(spec.app.image)) -> \(version); slot b shown, the idle slot is read at run time")
                    for step in try plan(target, slot: 1).steps { print("  \(step.description)") }
                }
                return
            }
            try fleet.withTransports(spec) { runner in
                let plans = try targets.map { target in
                    let active = try runner(target).run(["cat", "--", target.layout.active], timeout: 30)
                    let slot = active.stdout.contains("\"slot\":0") ? 1 : 0
                    return try plan(target, slot: slot)
                }
                let deployer = FleetDeployer(targets: targets, options: options, runner: runner, onEvent: fleet.printer())
                do { try deployer.deploy(plans) } catch { throw FleetOptions.fail(error) }
            }
        }

        static func timestampVersion() -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyyMMdd-HHmmss"
            return formatter.string(from: Date())
        }

        static func payload(_ path: String) throws -> DeployPlan.Payload {
            let result = try LocalRunner().run(["sha256sum", "--", path], stdinFile: nil, timeout: 300)
            guard result.status == 0, let sum = result.stdout.split(separator: " ").first, sum.count == 64 else {
                Output.error("cannot read \(path): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
                throw ExitCode(2)
            }
            return DeployPlan.Payload(path: path, sha256: String(sum))
        }
    }
}
