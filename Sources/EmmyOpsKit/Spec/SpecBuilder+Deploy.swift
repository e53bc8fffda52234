import Yams

extension SpecBuilder {
    func ssh(_ node: Node?) -> SSHSettings {
        SSHSettings(config: R.string(R.value(node, "config")), knownHosts: R.string(R.value(node, "known_hosts")),
                    identity: R.string(R.value(node, "identity")))
    }

    func deploy(_ node: Node?) -> DeploySettings {
        var deploy = DeploySettings()
        set(&deploy.root, R.string(R.value(node, "root")))
        set(&deploy.keepReleases, R.int(R.value(node, "keep_releases")))
        set(&deploy.healthTimeout, duration(R.value(node, "health_timeout")))
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

    func hostDeploy(_ node: Node, into host: inout Host) {
        host.root = R.string(R.value(node, "root"))
        host.httpPort = port(R.value(node, "http_port"))
        host.slotPorts = ports(R.value(node, "slot_ports"))
    }

    private func ports(_ node: Node?) -> [Int]? {
        guard let node, case .sequence = node else { return nil }
        return R.items(node).compactMap(port)
    }
}
