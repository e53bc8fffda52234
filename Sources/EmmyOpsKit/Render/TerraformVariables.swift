extension TerraformRenderer {
    /// `variables.tf`: every input with a description, a type, the spec's value as default, and
    /// validation that fails at plan time rather than half-way through an apply.
    static func variables(_ context: TerraformContext) -> RenderedFile {
        let infra = context.infra, aws = infra.aws
        let cidr = { (name: String) in "can(cidrhost(var.\(name), 0))" }
        let cidrs = { (name: String) in "alltrue([for cidr in var.\(name) : can(cidrhost(cidr, 0))])" }
        var sshChecks = [
            ("length(var.ssh_cidrs) > 0 && \(cidrs("ssh_cidrs"))", "ssh_cidrs must list at least one IPv4 CIDR, such as 198.51.100.0/24."),
        ]
        if !infra.allowPublicSSH {
            sshChecks.append(("alltrue([for cidr in var.ssh_cidrs : !endswith(cidr, \"/0\")])",
                              "ssh_cidrs must not open SSH to the whole internet; set allow_public_ssh in emmy.yaml to acknowledge it."))
        }
        return HCL.file("variables.tf", [
            variable("project", "Project name; prefixes resource names and tags every resource.", type: "string",
                     default: HCL.quote(context.spec.project),
                     checks: [("can(regex(\"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$\", var.project))",
                               "project must be 1-32 letters, digits or dashes, starting with a letter or digit.")]),
            variable("region", "AWS region to deploy into.", type: "string", default: HCL.quote(aws.region),
                     checks: [("can(regex(\"^[a-z]{2}(-[a-z]+)+-[0-9]+$\", var.region))", "region must be an AWS region name such as us-east-1.")]),
            variable("instance_type", "EC2 instance type of the host.", type: "string", default: HCL.quote(aws.instanceType),
                     checks: [("length(trimspace(var.instance_type)) > 0", "instance_type must not be empty.")]),
            variable("ami_name", "Name filter of Canonical's Ubuntu LTS images; the newest match is used.", type: "string",
                     default: HCL.quote(aws.amiName),
                     checks: [("startswith(var.ami_name, \"ubuntu/images/\")", "ami_name must filter Canonical's ubuntu/images/ names.")]),
            variable("root_volume_gb", "Size of the encrypted root volume, in GiB.", type: "number", default: String(aws.rootVolumeGB),
                     checks: [("var.root_volume_gb >= 8 && var.root_volume_gb <= 16384 && floor(var.root_volume_gb) == var.root_volume_gb",
                               "root_volume_gb must be a whole number of GiB between 8 and 16384.")]),
            variable("vpc_cidr", "IPv4 CIDR of the VPC.", type: "string", default: HCL.quote(aws.vpcCIDR),
                     checks: [(cidr("vpc_cidr"), "vpc_cidr must be an IPv4 CIDR such as 10.0.0.0/16.")]),
            variable("subnet_cidrs", "IPv4 CIDRs of the public subnets, inside vpc_cidr; each host runs in the one holding its private address, the others are spread over them.", type: "list(string)",
                     default: HCL.strings(aws.subnetCIDRs),
                     checks: [("length(var.subnet_cidrs) > 0 && \(cidrs("subnet_cidrs"))", "subnet_cidrs must list at least one IPv4 CIDR.")]),
            variable("ssh_cidrs", "IPv4 CIDRs that may reach SSH (infrastructure.ssh_cidrs).", type: "list(string)",
                     default: HCL.strings(infra.sshCIDRs), checks: sshChecks),
            variable("http_cidrs", "IPv4 CIDRs that may reach HTTP and HTTPS (infrastructure.http_cidrs).", type: "list(string)",
                     default: HCL.strings(infra.httpCIDRs),
                     checks: [(cidrs("http_cidrs"), "http_cidrs must hold IPv4 CIDRs only.")]),
            variable("ssh_public_key", "OpenSSH public key of the deploy user (the .pub file's one line; never a private key).",
                     type: "string", default: infra.sshPublicKey.map(HCL.quote),
                     checks: [("can(regex(\"^(ssh-|ecdsa-)[^ ]+ [^ ]+\", var.ssh_public_key)) && !strcontains(var.ssh_public_key, \"PRIVATE KEY\")",
                               "ssh_public_key must be an OpenSSH public key line starting with ssh- or ecdsa-.")]),
        ])
    }

    static func variable(_ name: String, _ description: String, type: String, default value: String?,
                                 checks: [(condition: String, message: String)]) -> HCLBlock {
        HCLBlock("variable", name) {
            HCLItem.attribute("description", HCL.quote(description))
            HCLItem.attribute("type", type)
            if let value { HCLItem.attribute("default", value) }
            for check in checks {
                HCLItem.blank
                HCLBlock("validation") {
                    HCLItem.attribute("condition", check.condition)
                    HCLItem.attribute("error_message", HCL.quote(check.message))
                }
            }
        }
    }
}
