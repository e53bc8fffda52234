import Foundation

/// One docker release being deployed: its per-host compose file and nginx config rendered into a
/// private scratch folder (uploaded from there), and each host's plan on the slot it is not
/// serving from. `close()` removes the folder.
public struct DockerRelease: Sendable {
    public let spec: Spec
    public let version: String
    public let specFile: DeployPlan.Payload
    /// Where the per-host files are written before upload.
    public let directory: URL

    public init(spec: Spec, version: String, specFile: DeployPlan.Payload) throws {
        self.spec = spec
        self.version = version
        self.specFile = specFile
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("emmyops-docker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    public func close() { try? FileManager.default.removeItem(at: directory) }

    /// `target`'s plan starting the release on `slot`: its compose file pinned to `app.image`
    /// and its proxy config, written and hashed for the upload and verify steps.
    public func plan(_ target: DeployTarget, slot: Int) throws -> HostPlan {
        // The spec refuses names that are not DNS labels; escaping keeps any other caller inside `directory` too.
        let name = HostName.pathComponent(target.host.name)
        let compose = directory.appendingPathComponent("\(name)-compose.yaml").path
        try DockerPlan.compose(spec: spec, target: target, image: spec.app.image).write(toFile: compose, atomically: true, encoding: .utf8)
        let nginx = directory.appendingPathComponent("\(name)-nginx.conf").path
        let fleet = FleetTopology(spec: spec)
        try ProxySwitch.render(listen: target.listenAddress, httpPort: target.httpPort, metricsPath: spec.app.metricsPath,
                               drainSeconds: Int(max(1, spec.deploy.drainTimeout.milliseconds / 1000)), version: version, tls: target.tls,
                               metricsListener: fleet.metricsListener(on: target.host.name), scrapers: fleet.scraperAddresses)
            .write(toFile: nginx, atomically: true, encoding: .utf8)
        return HostPlan(target: target, version: version,
                        steps: DockerPlan.steps(spec: spec, target: target, version: version, slot: slot,
                                                composeFile: try DeployPlan.Payload(hashing: compose), specFile: specFile,
                                                nginxFile: try DeployPlan.Payload(hashing: nginx)))
    }

    /// `target`'s plan on its idle slot, read from the host's `active.json`.
    public func plan(_ target: DeployTarget, on runner: any CommandRunner) throws -> HostPlan {
        let active = try runner.run(["cat", "--", target.layout.active], timeout: 30)
        return try plan(target, slot: Self.idleSlot(activeJSON: active.stdout))
    }

    /// The slot a new release starts on: the one `active.json` does not name. Slot a (0) when
    /// nothing is active yet (no file, or not the JSON `host activate` writes).
    public static func idleSlot(activeJSON: String) -> Int {
        guard let active = try? JSONDecoder().decode(ActiveRelease.self, from: Data(activeJSON.utf8)) else { return 0 }
        return active.slot == 0 ? 1 : 0
    }
}
