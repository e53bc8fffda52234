/// Can every monitoring host reach what prometheus.yml tells it to scrape, under the firewall
/// emmyops renders (the Terraform security group, so only with an `infrastructure:` section)?
/// Errors point at the spec line to change (the host's address), because the renderings only
/// ever repeat what the spec says.
enum TopologyValidation {
    static func validate(_ spec: Spec, error: (String, String, String?) -> Void) {
        let topology = FleetTopology(spec: spec)
        guard let infra = spec.infrastructure, let scraper = topology.monitoringHosts.first else { return }
        func path(_ host: Host) -> String {
            let index = spec.hosts.firstIndex { $0.name == host.name } ?? 0
            return host.privateAddress == nil ? "hosts[\(index)].address" : "hosts[\(index)].private_address"
        }
        // One problem per host is enough: every endpoint on it shares the address.
        var reported: Set<String> = []
        var owners: [String: String] = [:]
        for endpoint in topology.endpoints where !reported.contains(endpoint.host.name) {
            let host = endpoint.host
            let what = "\(scraper.name) connects to \(endpoint.service.rawValue) on \(host.name) at \(endpoint.target)"
            if let owner = owners[endpoint.address], owner != host.name {
                reported.insert(host.name)
                error(path(host), "\(what), but \(owner) has that address too", "give each host its own address on the fleet's network")
                continue
            }
            owners[endpoint.address] = host.name
            if let problem = unreachable(endpoint, subnets: infra.aws.subnetCIDRs) {
                reported.insert(host.name)
                error(path(host), "\(what), \(problem.message)", problem.hint)
            }
        }
    }

    private static func unreachable(_ endpoint: FleetTopology.Endpoint, subnets: [String]) -> (message: String, hint: String)? {
        // The security group's intra-fleet rules match only traffic between the instances'
        // private addresses; an Elastic IP goes out through the internet gateway and is refused.
        let address = CIDR(endpoint.address + "/32")
        guard let address, let subnet = subnets.compactMap(CIDR.init).first(where: { $0.contains(address) }) else {
            return ("but the rendered security group admits it only from inside the fleet's subnets (\(subnets.joined(separator: ", ")))",
                    "set private_address on \(endpoint.host.name) to its address in one of infrastructure.aws.subnet_cidrs")
        }
        // AWS keeps the first four addresses of a subnet and its last one.
        let offset = address.address - subnet.address
        let size = subnet.prefix >= 32 ? UInt32(1) : UInt32(1) << UInt32(32 - subnet.prefix)
        if offset < 4 || offset == size - 1 {
            return ("but AWS reserves that address of its subnet", "pick an address from the fifth to the second-to-last of the subnet")
        }
        return nil
    }
}
