extension SpecSchema {
    static let ssh = SchemaField("ssh", .object([
        SchemaField("config", .string, "OpenSSH client config passed as -F (default: the user's own)."),
        SchemaField("known_hosts", .string, "Known-hosts file; host keys are always checked strictly."),
        SchemaField("identity", .string, "Private key file passed as -i."),
    ]), "How emmyops reaches hosts with the system OpenSSH client.")

    static let deploy = SchemaField("deploy", .object([
        SchemaField("root", .string, "Absolute folder holding releases/, shared/ and current (default /opt/emmy)."),
        SchemaField("keep_releases", .integer(min: 2, max: 100), "Releases kept per host (default 5)."),
        SchemaField("health_timeout", .duration, "How long a new release has to answer /ready (default 60s)."),
        SchemaField("batch_size", .integer(min: 1, max: 1000), "Hosts switched per batch (default 1)."),
        SchemaField("parallel", .integer(min: 1, max: 64), "Hosts of a batch worked on at once (default 4)."),
        SchemaField("lock_expiry", .duration, "After this a killed run's deploy lock may be taken over (default 15m)."),
        SchemaField("drain_timeout", .duration, "Longest wait for in-flight requests of the old release (default 30s)."),
        SchemaField("slot_ports", .list(.port), "The two loopback ports releases alternate on (default app.port, app.port+1)."),
        SchemaField("proxy", .object([
            SchemaField("http_port", .port, "Port nginx serves clients on (default 80)."),
            SchemaField("listen_address", .string, "Address nginx listens on (default 0.0.0.0)."),
            SchemaField("nginx", .string, "nginx executable (default nginx)."),
            SchemaField("nginx_prefix", .string, "nginx -p prefix holding nginx.conf (default <root>/shared/nginx)."),
        ]), "The nginx reverse proxy whose reload cuts traffic over."),
    ]), "Releases on hosts over SSH: layout, readiness gate, batches, lock.")

    /// Per-host overrides, so several simulated hosts can share one machine.
    static let hostDeployFields = [
        SchemaField("root", .string, "This host's deploy.root."),
        SchemaField("http_port", .port, "This host's deploy.proxy.http_port."),
        SchemaField("slot_ports", .list(.port), "This host's deploy.slot_ports."),
    ]
}
