/// `compute.tf`: the Ubuntu image, the deploy key, the hosts' IAM role, and one instance with an
/// Elastic IP per host of emmy.yaml, each at the spec's private address in its subnet.
enum TerraformCompute {
    static func file(_ context: TerraformContext) -> RenderedFile {
        HCL.file("compute.tf", [
            hosts(context),
            HCLBlock("data", "aws_ami", "ubuntu") {
                HCLItem.comment("Canonical's account: no one else's image named like Ubuntu is ever used.")
                HCLItem.attribute("most_recent", "true")
                HCLItem.attribute("owners", HCL.strings([TerraformRenderer.canonicalOwner]))
                HCLItem.blank
                filter("name", "[var.ami_name]")
                HCLItem.blank
                filter("virtualization-type", HCL.strings(["hvm"]))
            },
            HCLBlock("resource", "aws_key_pair", "deploy") {
                HCLItem.comment("Only the public key: the private key never leaves the operator's machine or enters state.")
                HCLItem.attribute("key_name", HCL.template("${var.project}-deploy"))
                HCLItem.attribute("public_key", "var.ssh_public_key")
            },
            TerraformIAM.assumeRolePolicy("host_assume", service: "ec2.amazonaws.com"),
            HCLBlock("resource", "aws_iam_role", "host") {
                HCLItem.attribute("name", HCL.template("${var.project}-host"))
                HCLItem.attribute("description", HCL.quote(context.backupBucket == nil
                    ? "The emmyops host's role; it grants nothing until a backup bucket is configured."
                    : "The emmyops host's role: its backup prefix, nothing else."))
                HCLItem.attribute("assume_role_policy", "data.aws_iam_policy_document.host_assume.json")
            },
            HCLBlock("resource", "aws_iam_instance_profile", "host") {
                HCLItem.attribute("name", HCL.template("${var.project}-host"))
                HCLItem.attribute("role", "aws_iam_role.host.name")
            },
            instance(),
            HCLBlock("resource", "aws_eip", "host") {
                HCLItem.attribute("for_each", "aws_instance.host")
                HCLItem.attribute("domain", HCL.quote("vpc"))
                HCLItem.attribute("instance", "each.value.id")
                HCLItem.attribute("depends_on", "[aws_internet_gateway.main]")
                HCLItem.blank
                HCL.nameTag("${each.key}")
            },
        ])
    }

    static func filter(_ name: String, _ values: String) -> HCLBlock {
        HCLBlock("filter") {
            HCLItem.attribute("name", HCL.quote(name))
            HCLItem.attribute("values", values)
        }
    }

    /// `local.hosts`: the spec's hosts, keyed by name, with the subnet each one lands in.
    static func hosts(_ context: TerraformContext) -> HCLBlock {
        HCLBlock("locals") {
            HCLItem.comment("The hosts of emmy.yaml: a fixed private address puts a host in the subnet holding it;")
            HCLItem.comment("the others are spread over the subnets in order. Roles are tags.")
            HCLItem.value("hosts", .object(context.hosts.map { host in
                (HCL.quote(host.name), .object([
                    ("subnet", .raw(String(host.subnet))),
                    ("private_ip", .raw(host.privateIP.map(HCL.quote) ?? "null")),
                    ("roles", .raw(HCL.quote(host.roles))),
                ]))
            }))
        }
    }

    static func instance() -> HCLBlock {
        HCLBlock("resource", "aws_instance", "host") {
            HCLItem.attribute("for_each", "local.hosts")
            HCLItem.attribute("ami", "data.aws_ami.ubuntu.id")
            HCLItem.attribute("instance_type", "var.instance_type")
            HCLItem.attribute("subnet_id", "aws_subnet.public[each.value.subnet].id")
            HCLItem.attribute("private_ip", "each.value.private_ip")
            HCLItem.attribute("vpc_security_group_ids", "[aws_security_group.host.id]")
            HCLItem.attribute("key_name", "aws_key_pair.deploy.key_name")
            HCLItem.attribute("iam_instance_profile", "aws_iam_instance_profile.host.name")
            HCLItem.attribute("monitoring", "true")
            HCLItem.attribute("ebs_optimized", "true")
            HCLItem.blank
            HCLItem.comment("cloud-init.yaml is rendered from emmy.yaml; the deploy key comes from var.ssh_public_key.")
            HCLItem.attribute("user_data", "templatefile(\"${path.module}/cloud-init.yaml\", { ssh_public_key = var.ssh_public_key })")
            HCLItem.attribute("user_data_replace_on_change", "false")
            HCLItem.blank
            HCLBlock("metadata_options") {
                HCLItem.comment("IMDSv2 only, and not reachable from containers one hop further.")
                HCLItem.attribute("http_endpoint", HCL.quote("enabled"))
                HCLItem.attribute("http_tokens", HCL.quote("required"))
                HCLItem.attribute("http_put_response_hop_limit", "1")
            }
            HCLItem.blank
            HCLBlock("root_block_device") {
                HCLItem.attribute("volume_type", HCL.quote("gp3"))
                HCLItem.attribute("volume_size", "var.root_volume_gb")
                HCLItem.attribute("encrypted", "true")
                HCLItem.attribute("delete_on_termination", "true")
            }
            HCLItem.blank
            HCLBlock("lifecycle") {
                HCLItem.comment("A newer Ubuntu image must not replace a running host; rebuild it on purpose.")
                HCLItem.attribute("ignore_changes", "[ami]")
            }
            HCLItem.blank
            HCLItem.map("tags", [("Name", "\"${var.project}-${each.key}\""), ("Roles", "each.value.roles")])
        }
    }
}
