import Yams

// The `infrastructure:` and `release:` sections: the models, the infrastructure schema (simple
// defaults read off the model), how it is read from the YAML tree, and the checks of both (the
// `backup:` section lives in Backup.swift). A new key of these sections is added here.

/// The `infrastructure:` section: the AWS footprint `emmyops render terraform` describes.
public struct Infrastructure: Sendable, Hashable {
    public var aws: AWS
    /// CIDRs allowed to reach SSH. Required; the world only with `allowPublicSSH`.
    public var sshCIDRs: [String]
    /// Explicit acknowledgement that `0.0.0.0/0` in `sshCIDRs` is intended.
    public var allowPublicSSH: Bool
    /// CIDRs allowed to reach HTTP and HTTPS.
    public var httpCIDRs: [String]
    /// When true a reverse proxy on 80/443 fronts the app and the app port is never opened.
    public var proxy: Bool
    /// The OpenSSH public key installed for the deploy user (never a private key).
    public var sshPublicKey: String?
    public var stateBackend: StateBackend?
    /// An RDS PostgreSQL instance (DatabaseInfrastructure.swift).
    public var database: Database?

    public init(aws: AWS = AWS(), sshCIDRs: [String] = [], allowPublicSSH: Bool = false, httpCIDRs: [String] = ["0.0.0.0/0"],
                proxy: Bool = true, sshPublicKey: String? = nil, stateBackend: StateBackend? = nil, database: Database? = nil) {
        self.aws = aws
        self.sshCIDRs = sshCIDRs
        self.allowPublicSSH = allowPublicSSH
        self.httpCIDRs = httpCIDRs
        self.proxy = proxy
        self.sshPublicKey = sshPublicKey
        self.stateBackend = stateBackend
        self.database = database
    }

    public struct AWS: Sendable, Hashable {
        public var region: String = "us-east-1"
        public var instanceType: String = "t3.small"
        public var vpcCIDR: String = "10.0.0.0/16"
        public var subnetCIDRs: [String] = ["10.0.1.0/24"]
        public var rootVolumeGB: Int = 20
        /// Name filter of Canonical's Ubuntu LTS images.
        public var amiName: String = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
        public init() {}
    }

    /// Remote Terraform state in S3 with a DynamoDB lock table.
    public struct StateBackend: Sendable, Hashable {
        public var bucket: String
        public var key: String
        public var region: String
        public var dynamodbTable: String
        public init(bucket: String, key: String = "emmyops/terraform.tfstate", region: String, dynamodbTable: String) {
            self.bucket = bucket
            self.key = key
            self.region = region
            self.dynamodbTable = dynamodbTable
        }
    }
}

// MARK: - Schema

extension SpecSchema {
    static let infrastructure = SchemaField("infrastructure", .object([
        SchemaField("aws", .object([
            SchemaField("region", .string, "AWS region (default \(Infrastructure.AWS().region))."),
            SchemaField("instance_type", .string, "EC2 instance type (default \(Infrastructure.AWS().instanceType))."),
            SchemaField("vpc_cidr", .string, "VPC CIDR (default \(Infrastructure.AWS().vpcCIDR))."),
            SchemaField("subnet_cidrs", .list(.string), "Public subnet CIDRs inside the VPC (default [10.0.1.0/24])."),
            SchemaField("root_volume_gb", .integer(min: 8, max: 16384), "Encrypted root volume size (default \(Infrastructure.AWS().rootVolumeGB))."),
            SchemaField("ami_name", .string, "Name filter of Canonical's Ubuntu LTS AMIs."),
        ]), "AWS settings."),
        SchemaField("ssh_cidrs", .list(.string), "CIDRs that may reach SSH. Required; 0.0.0.0/0 needs allow_public_ssh.", required: true),
        SchemaField("allow_public_ssh", .boolean, "Acknowledge that ssh_cidrs opens SSH to the whole internet."),
        SchemaField("http_cidrs", .list(.string), "CIDRs that may reach HTTP/HTTPS (default [0.0.0.0/0])."),
        SchemaField("proxy", .boolean, "A reverse proxy on 80/443 fronts the app, whose port stays closed (default true)."),
        SchemaField("ssh_public_key", .string, "OpenSSH public key for the deploy user; never a private key."),
        SchemaField("state_backend", .object([
            SchemaField("bucket", .string, "S3 bucket holding the state.", required: true),
            SchemaField("key", .string, "Object key (default emmyops/terraform.tfstate)."),
            SchemaField("region", .string, "Bucket region.", required: true),
            SchemaField("dynamodb_table", .string, "DynamoDB table for state locking.", required: true),
        ]), "Remote state in S3 with a DynamoDB lock."),
        infrastructureDatabase,
    ]), "Cloud infrastructure rendered as Terraform.")
}

// MARK: - Reading

extension SpecBuilder {
    func infrastructure(_ node: CheckedNode) -> Infrastructure {
        var infra = Infrastructure()
        let aws = R.value(node, "aws")
        set(&infra.aws.region, R.string(R.value(aws, "region")))
        set(&infra.aws.instanceType, R.string(R.value(aws, "instance_type")))
        set(&infra.aws.vpcCIDR, R.string(R.value(aws, "vpc_cidr")))
        set(&infra.aws.subnetCIDRs, strings(R.value(aws, "subnet_cidrs")))
        set(&infra.aws.rootVolumeGB, R.int(R.value(aws, "root_volume_gb")))
        set(&infra.aws.amiName, R.string(R.value(aws, "ami_name")))
        set(&infra.sshCIDRs, strings(R.value(node, "ssh_cidrs")))
        set(&infra.allowPublicSSH, R.bool(R.value(node, "allow_public_ssh")))
        set(&infra.httpCIDRs, strings(R.value(node, "http_cidrs")))
        set(&infra.proxy, R.bool(R.value(node, "proxy")))
        infra.sshPublicKey = R.string(R.value(node, "ssh_public_key"))
        if let backend = R.value(node, "state_backend"), let bucket = R.string(R.value(backend, "bucket")),
           let region = R.string(R.value(backend, "region")), let table = R.string(R.value(backend, "dynamodb_table")) {
            var state = Infrastructure.StateBackend(bucket: bucket, region: region, dynamodbTable: table)
            set(&state.key, R.string(R.value(backend, "key")))
            infra.stateBackend = state
        }
        infra.database = infrastructureDatabase(R.value(node, "database"))
        return infra
    }
}

// MARK: - Validation

/// Checks of the `infrastructure` section.
enum InfrastructureValidation {
    static func validate(_ spec: Spec, error: (String, String, String?) -> Void, warning: (String, String, String?) -> Void) {
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
