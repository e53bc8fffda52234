/// Checks of the `infrastructure`, `release` and `backup` sections.
enum InfrastructureValidation {
    static func validate(_ spec: Spec, error: (String, String, String?) -> Void, warning: (String, String, String?) -> Void) {
        if let url = spec.release.url, !url.hasPrefix("https://") {
            error("release.url", "`\(url)` must be an https:// URL", "the binary is verified by checksum, but fetch it over TLS too")
        }
        if let sha = spec.release.sha256, sha.count != 64 || !sha.allSatisfy(\.isHexDigit) {
            error("release.sha256", "must be 64 hexadecimal digits", "compute it with `sha256sum emmyops`")
        }
        if (spec.release.url == nil) != (spec.release.sha256 == nil) {
            error(spec.release.url == nil ? "release.sha256" : "release.url", "release.url and release.sha256 go together", "a download without a checksum is never installed")
        }
        if let target = spec.backup.target, spec.backup.bucket == nil || spec.backup.bucket!.isEmpty {
            error("backup.target", "`\(target)` is not an s3://bucket/prefix target", nil)
        }

        guard let infra = spec.infrastructure else { return }
        let vpc = CIDR(infra.aws.vpcCIDR)
        if vpc == nil { error("infrastructure.aws.vpc_cidr", "`\(infra.aws.vpcCIDR)` is not an IPv4 CIDR", "write it like 10.0.0.0/16") }
        for (index, subnet) in infra.aws.subnetCIDRs.enumerated() {
            let path = "infrastructure.aws.subnet_cidrs[\(index)]"
            guard let cidr = CIDR(subnet) else {
                error(path, "`\(subnet)` is not an IPv4 CIDR", "write it like 10.0.1.0/24")
                continue
            }
            if let vpc, !vpc.contains(cidr) { error(path, "\(subnet) is not inside the VPC \(infra.aws.vpcCIDR)", nil) }
        }
        if infra.aws.subnetCIDRs.isEmpty { error("infrastructure.aws.subnet_cidrs", "needs at least one subnet", nil) }
        if infra.sshCIDRs.isEmpty {
            error("infrastructure.ssh_cidrs", "SSH needs at least one allowed CIDR", "list your office or VPN range, e.g. 198.51.100.0/24")
        }
        for (index, text) in infra.sshCIDRs.enumerated() {
            let path = "infrastructure.ssh_cidrs[\(index)]"
            guard let cidr = CIDR(text) else {
                error(path, "`\(text)` is not an IPv4 CIDR", "write it like 198.51.100.0/24")
                continue
            }
            if cidr.prefix == 0 && !infra.allowPublicSSH {
                error(path, "\(text) opens SSH to the whole internet", "restrict it to your own range, or set `allow_public_ssh: true` to acknowledge it")
            }
        }
        for (index, text) in infra.httpCIDRs.enumerated() where CIDR(text) == nil {
            error("infrastructure.http_cidrs[\(index)]", "`\(text)` is not an IPv4 CIDR", nil)
        }
        if let key = infra.sshPublicKey {
            if key.contains("PRIVATE KEY") {
                error("infrastructure.ssh_public_key", "this is a private key", "paste the contents of the .pub file; a private key must never enter the spec or Terraform state")
            } else if !(key.hasPrefix("ssh-") || key.hasPrefix("ecdsa-")) || key.split(separator: " ").count < 2 {
                error("infrastructure.ssh_public_key", "not an OpenSSH public key", "paste one line such as `ssh-ed25519 AAAA… you@host`")
            }
        }
        if spec.backup.bucket == nil {
            warning("backup.target", "no s3:// backup target, so Terraform renders no backup bucket", nil)
        }
    }
}

/// An IPv4 network in CIDR notation.
struct CIDR: Hashable {
    let address: UInt32
    let prefix: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let prefix = Int(parts[1]), (0...32).contains(prefix) else { return nil }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard let byte = UInt8(octet), String(byte) == octet else { return nil }
            value = value << 8 | UInt32(byte)
        }
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
        guard value & ~mask == 0 else { return nil }
        self.address = value
        self.prefix = prefix
    }

    var mask: UInt32 { prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix) }

    func contains(_ other: CIDR) -> Bool {
        other.prefix >= prefix && other.address & mask == address
    }
}
