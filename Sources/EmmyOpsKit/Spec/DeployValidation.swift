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
        if spec.deploy.healthTimeout.milliseconds == 0 { error("deploy.health_timeout", "must be longer than 0s", nil) }
    }
}
