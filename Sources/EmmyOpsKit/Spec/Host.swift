import Yams

// The `hosts:` section, whole: the model, its schema (defaults read off the model), how it is
// read from the YAML tree, and its checks. A new key is added here and nowhere else; the per-host
// deploy overrides (root, http_port, slot_ports) live with the deploy section.

/// A machine emmyops deploys to or monitors.
public struct Host: Sendable, Hashable {
    public var name: String
    public var address: String
    public var user: String
    public var port: Int
    public var roles: [Role]
    /// The address other hosts of the fleet reach this one at (the cloud's private network);
    /// monitoring scrapes it and the firewall opens to it. Absent: `address` is used.
    public var privateAddress: String?
    /// Overrides of deploy.root, deploy.proxy.http_port and deploy.slot_ports for this host.
    public var root: String?
    public var httpPort: Int?
    public var slotPorts: [Int]?
    /// Override of deploy.proxy.tls.https_port.
    public var httpsPort: Int?

    public enum Role: String, Sendable, Hashable, CaseIterable {
        case app, monitoring
    }

    public init(name: String, address: String, user: String = "deploy", port: Int = 22, roles: [Role] = [.app, .monitoring]) {
        self.name = name
        self.address = address
        self.user = user
        self.port = port
        self.roles = roles
    }
}

// MARK: - Schema

extension SpecSchema {
    static let hosts = SchemaField("hosts", .list(.object([
        SchemaField("name", .string, "Unique host name.", required: true),
        SchemaField("address", .string, "IP address or DNS name.", required: true),
        SchemaField("user", .string, "SSH user (default \(Host(name: "", address: "").user))."),
        SchemaField("port", .port, "SSH port (default \(Host(name: "", address: "").port))."),
        SchemaField("roles", .list(.enumeration(Host.Role.allCases.map(\.rawValue))), "What runs there: app, monitoring (default both)."),
        SchemaField("private_address", .string, "IPv4 address inside infrastructure.aws.subnet_cidrs that the other hosts reach this one at (default: address)."),
    ] + hostDeployFields)), "Machines to deploy to and monitor.")
}

// MARK: - Reading

extension SpecBuilder {
    /// Entries without a name or an address are left out; the schema checker reported them.
    func hosts(_ node: CheckedNode?) -> [Host] {
        R.items(node).compactMap(host)
    }

    private func host(_ node: CheckedNode) -> Host? {
        guard let name = R.string(R.value(node, "name")), let address = R.string(R.value(node, "address")) else { return nil }
        var host = Host(name: name, address: address)
        set(&host.user, R.string(R.value(node, "user")))
        set(&host.port, port(R.value(node, "port")))
        set(&host.roles, strings(R.value(node, "roles"))?.compactMap(Host.Role.init(rawValue:)))
        host.privateAddress = R.string(R.value(node, "private_address"))
        hostDeploy(node, into: &host)
        return host
    }
}

// MARK: - Validation

extension SpecValidation {
    /// Unique host names that are DNS labels, addresses that are IP literals or DNS names.
    static func validateHosts(_ spec: Spec, error: (String, String, String?) -> Void, warning: (String, String, String?) -> Void) {
        var hostNames: [String: Int] = [:]
        for (index, host) in spec.hosts.enumerated() {
            if let first = hostNames[host.name] {
                error("hosts[\(index)].name", "host `\(host.name)` is defined twice", "the first is hosts[\(first)]")
            } else {
                hostNames[host.name] = index
            }
            if let problem = HostName.labelProblem(host.name) { error("hosts[\(index)].name", problem.message, problem.hint) }
            if let problem = HostName.addressProblem(host.address) { error("hosts[\(index)].address", problem.message, problem.hint) }
            if let privateAddress = host.privateAddress, CIDR(privateAddress + "/32") == nil {
                error("hosts[\(index)].private_address", "`\(privateAddress)` is not an IPv4 address", "the host's address on the fleet's private network, e.g. 10.0.1.10")
            }
            if host.roles.isEmpty { warning("hosts[\(index)].roles", "host `\(host.name)` has no roles, so nothing runs there", nil) }
        }
    }
}
