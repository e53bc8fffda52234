import EmmyApp

/// Renders `terraform/` for AWS from the `infrastructure:` section: one internet-facing instance per
/// spec host in the public subnets, their firewall, an encrypted backup bucket only they may write, and the
/// cloud-init that installs and supervises emmyops on them.
///
/// Every file is plain text built from `HCLBlock`s, formatted as `terraform fmt` would, and
/// free of `checkov` findings (the few checks that cannot apply are skipped inline, with a reason).
public enum TerraformRenderer {
    /// The aws provider the rendering is written and tested against.
    static let providerConstraint = "~> 5.100"
    static let requiredTerraform = ">= 1.6.0"
    /// Canonical's AWS account, the only owner whose Ubuntu images are trusted.
    static let canonicalOwner = "099720109477"

    public static func render(_ spec: Spec) -> [RenderedFile] {
        guard let infra = spec.infrastructure else { return [] }
        let context = TerraformContext(spec: spec, infra: infra)
        return [
            versions(),
            providers(),
            backend(infra.stateBackend),
            variables(context),
            TerraformNetwork.file(context),
            TerraformCompute.file(context),
            TerraformStorage.file(context),
            outputs(context),
            TerraformCloudInit.file(context),
        ] + [TerraformDatabase.file(context)].compactMap { $0 }
    }

    static func versions() -> RenderedFile {
        HCL.file("versions.tf", [
            HCLBlock("terraform") {
                HCLItem.attribute("required_version", HCL.quote(requiredTerraform))
                HCLItem.blank
                HCLBlock("required_providers") {
                    HCLItem.map("aws", [("source", HCL.quote("hashicorp/aws")), ("version", HCL.quote(providerConstraint))])
                }
            },
        ])
    }

    static func providers() -> RenderedFile {
        HCL.file("providers.tf", [
            HCLBlock("provider", "aws") {
                HCLItem.attribute("region", "var.region")
                HCLItem.blank
                HCLBlock("default_tags") {
                    HCLItem.map("tags", [("ManagedBy", HCL.quote("emmyops")), ("Project", "var.project")])
                }
            },
        ])
    }

    static func backend(_ backend: Infrastructure.StateBackend?) -> RenderedFile {
        guard let backend else {
            return HCL.file("backend.tf", comments: [
                "",
                "No backend block: state is local (terraform.tfstate next to these files).",
                "Set infrastructure.state_backend in emmy.yaml to keep it in S3 with a DynamoDB lock.",
            ], [])
        }
        return HCL.file("backend.tf", [
            HCLBlock("terraform") {
                HCLBlock("backend", "s3") {
                    HCLItem.attribute("bucket", HCL.quote(backend.bucket))
                    HCLItem.attribute("key", HCL.quote(backend.key))
                    HCLItem.attribute("region", HCL.quote(backend.region))
                    HCLItem.attribute("dynamodb_table", HCL.quote(backend.dynamodbTable))
                    HCLItem.attribute("encrypt", "true")
                }
            },
        ])
    }

    static func outputs(_ context: TerraformContext) -> RenderedFile {
        // Maps keyed by the spec's host names: `emmyops` can compare them with emmy.yaml.
        let perHost = { (value: String) in "{ for name, eip in aws_eip.host : name => \(value) }" }
        let url = context.proxy ? "https://${eip.public_ip}" : "http://${eip.public_ip}:\(context.appPort)"
        var blocks = [
            output("public_ips", "Elastic IP address of each host.", perHost("eip.public_ip")),
            output("private_ips", "Private address of each host, which monitoring scrapes (hosts[].private_address).",
                   "{ for name, host in aws_instance.host : name => host.private_ip }"),
            output("ssh_commands", "How to log in to each host as the deploy user.",
                   perHost(HCL.template("ssh -p \(context.sshPort) \(context.sshUser)@${eip.public_ip}"))),
            output("app_urls", context.proxy ? "The app on each host, behind the reverse proxy on 443." : "The app on each host, on its own port.",
                   perHost(HCL.template(url))),
        ]
        if context.backupBucket != nil {
            blocks.append(output("backup_bucket", "S3 bucket receiving the host's backups.", "aws_s3_bucket.backups.bucket"))
        }
        return HCL.file("outputs.tf", blocks)
    }

    static func output(_ name: String, _ description: String, _ value: String) -> HCLBlock {
        HCLBlock("output", name) {
            HCLItem.attribute("description", HCL.quote(description))
            HCLItem.attribute("value", value)
        }
    }
}

/// What the Terraform files need from the spec, resolved once.
struct TerraformContext {
    var spec: Spec
    var infra: Infrastructure
    /// The SSH port and user of the first host (22 and `deploy` by default).
    var sshPort: Int
    var sshUser: String
    var appPort: Int
    var proxy: Bool
    var backupBucket: String?
    /// `app.database` when it is PostgreSQL: the RDS instance's database name and master user.
    var postgres: PostgresSettings?
    var backupPrefix: String
    /// Objects and noncurrent versions expire after this many days, never before retention ends.
    var backupExpiryDays: Int
    var hosts: [TerraformHost]
    /// Outbound ports beyond HTTPS and HTTP: what the receivers of notify: need.
    var egress: [TerraformEgress]

    init(spec: Spec, infra: Infrastructure) {
        self.spec = spec
        self.infra = infra
        sshPort = spec.hosts.first?.port ?? 22
        sshUser = spec.hosts.first?.user ?? "deploy"
        appPort = spec.app.port
        proxy = infra.proxy
        backupBucket = spec.backup.bucket
        postgres = spec.app.postgres
        backupPrefix = spec.backup.prefix.hasSuffix("/") || spec.backup.prefix.isEmpty ? spec.backup.prefix : spec.backup.prefix + "/"
        backupExpiryDays = spec.backup.keep.maximumAgeDays
        let subnets = infra.aws.subnetCIDRs.map(CIDR.init)
        hosts = spec.hosts.enumerated().map { index, host in
            let address = FleetTopology.fleetAddress(host)
            let holding = CIDR(address + "/32").flatMap { ip in subnets.firstIndex { $0?.contains(ip) == true } }
            return TerraformHost(name: host.name, subnet: holding ?? index % max(1, subnets.count),
                                 privateIP: holding == nil ? nil : address,
                                 roles: host.roles.map(\.rawValue).joined(separator: ","))
        }
        egress = TerraformEgress.rules(spec)
    }
}

/// A spec host as Terraform places it.
struct TerraformHost {
    var name: String
    /// Index into var.subnet_cidrs.
    var subnet: Int
    /// The spec's fleet address when it lies in a subnet; else AWS picks one.
    var privateIP: String?
    var roles: String
}
