import Foundation

/// `network.tf`: the VPC, its public subnets and route to the internet, VPC flow logs, the locked
/// default security group and the host's security group.
enum TerraformNetwork {
    /// The zone of a counted subnet: the zones in turn, so consecutive subnets land in different ones.
    static let zoneByCount = "data.aws_availability_zones.available.names[count.index % length(data.aws_availability_zones.available.names)]"

    static func file(_ context: TerraformContext) -> RenderedFile {
        HCL.file("network.tf", [
            HCLBlock("data", "aws_availability_zones", "available") {
                HCLItem.comment("A closed list of zones: a zone AWS adds later never moves a subnet.")
                HCLItem.attribute("state", HCL.quote("available"))
                HCLItem.blank
                HCLBlock("filter") {
                    HCLItem.attribute("name", HCL.quote("zone-name"))
                    HCLItem.attribute("values", HCL.list(["a", "b", "c"].map { HCL.template("${var.region}\($0)") }))
                }
            },
            HCLBlock("resource", "aws_vpc", "main") {
                HCLItem.attribute("cidr_block", "var.vpc_cidr")
                HCLItem.attribute("enable_dns_support", "true")
                HCLItem.attribute("enable_dns_hostnames", "true")
                HCLItem.blank
                HCL.nameTag("vpc")
            },
            HCLBlock("resource", "aws_default_security_group", "default") {
                HCLItem.comment("No rules: nothing may use the VPC's default security group.")
                HCLItem.attribute("vpc_id", "aws_vpc.main.id")
                HCLItem.blank
                HCL.nameTag("default-deny")
            },
            HCLBlock("resource", "aws_subnet", "public") {
                HCLItem.comment("The host reaches the internet through its Elastic IP; nothing gets a public IP by default.")
                HCLItem.attribute("count", "length(var.subnet_cidrs)")
                HCLItem.attribute("vpc_id", "aws_vpc.main.id")
                HCLItem.attribute("cidr_block", "var.subnet_cidrs[count.index]")
                HCLItem.attribute("availability_zone", zoneByCount)
                HCLItem.attribute("map_public_ip_on_launch", "false")
                HCLItem.blank
                HCL.nameTag("public-${count.index}")
            },
            HCLBlock("resource", "aws_internet_gateway", "main") {
                HCLItem.attribute("vpc_id", "aws_vpc.main.id")
                HCLItem.blank
                HCL.nameTag("igw")
            },
            HCLBlock("resource", "aws_route_table", "public") {
                HCLItem.attribute("vpc_id", "aws_vpc.main.id")
                HCLItem.blank
                HCLBlock("route") {
                    HCLItem.attribute("cidr_block", HCL.quote("0.0.0.0/0"))
                    HCLItem.attribute("gateway_id", "aws_internet_gateway.main.id")
                }
                HCLItem.blank
                HCL.nameTag("public")
            },
            HCLBlock("resource", "aws_route_table_association", "public") {
                HCLItem.attribute("count", "length(aws_subnet.public)")
                HCLItem.attribute("subnet_id", "aws_subnet.public[count.index].id")
                HCLItem.attribute("route_table_id", "aws_route_table.public.id")
            },
        ] + flowLogs() + [securityGroup(context)])
    }

    /// Every accepted and rejected flow of the VPC, kept a year in a KMS-encrypted log group.
    static func flowLogs() -> [HCLBlock] {
        [
            HCLBlock("resource", "aws_flow_log", "vpc") {
                HCLItem.attribute("vpc_id", "aws_vpc.main.id")
                HCLItem.attribute("traffic_type", HCL.quote("ALL"))
                HCLItem.attribute("log_destination_type", HCL.quote("cloud-watch-logs"))
                HCLItem.attribute("log_destination", "aws_cloudwatch_log_group.flow_logs.arn")
                HCLItem.attribute("iam_role_arn", "aws_iam_role.flow_logs.arn")
                HCLItem.blank
                HCL.nameTag("flow-logs")
            },
            HCLBlock("resource", "aws_cloudwatch_log_group", "flow_logs") {
                HCLItem.attribute("name", HCL.template("/emmyops/${var.project}/vpc-flow-logs"))
                HCLItem.attribute("retention_in_days", "365")
                HCLItem.attribute("kms_key_id", "aws_kms_key.main.arn")
            },
            TerraformIAM.assumeRolePolicy("flow_logs_assume", service: "vpc-flow-logs.amazonaws.com"),
            HCLBlock("resource", "aws_iam_role", "flow_logs") {
                HCLItem.attribute("name", HCL.template("${var.project}-vpc-flow-logs"))
                HCLItem.attribute("description", HCL.quote("Lets VPC flow logs write to their log group."))
                HCLItem.attribute("assume_role_policy", "data.aws_iam_policy_document.flow_logs_assume.json")
            },
            HCLBlock("data", "aws_iam_policy_document", "flow_logs") {
                TerraformIAM.statement("WriteFlowLogs", actions: ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                                       resources: [HCL.template("${aws_cloudwatch_log_group.flow_logs.arn}:*")])
            },
            HCLBlock("resource", "aws_iam_role_policy", "flow_logs") {
                HCLItem.attribute("name", HCL.quote("write-flow-logs"))
                HCLItem.attribute("role", "aws_iam_role.flow_logs.id")
                HCLItem.attribute("policy", "data.aws_iam_policy_document.flow_logs.json")
            },
        ]
    }

    /// A port opened to some CIDRs.
    struct Ingress {
        var description: String
        var port: Int
        var cidrs: String
    }

    /// The ports the host serves: SSH to the operators, web to `http_cidrs`, nothing else.
    /// Prometheus, Alertmanager, Grafana and node-exporter stay on the host (reach them over SSH).
    static func ingress(_ context: TerraformContext) -> [Ingress] {
        var rules = [Ingress(description: "SSH from infrastructure.ssh_cidrs only", port: context.sshPort, cidrs: "var.ssh_cidrs")]
        if !context.infra.httpCIDRs.isEmpty {
            rules.append(Ingress(description: "HTTP from infrastructure.http_cidrs (redirect to HTTPS, ACME challenges)", port: 80, cidrs: "var.http_cidrs"))
            rules.append(Ingress(description: "HTTPS from infrastructure.http_cidrs", port: 443, cidrs: "var.http_cidrs"))
            if !context.proxy {
                rules.append(Ingress(description: "App port from infrastructure.http_cidrs (no reverse proxy)", port: context.appPort, cidrs: "var.http_cidrs"))
            }
        }
        return rules
    }

    static func securityGroup(_ context: TerraformContext) -> HCLBlock {
        let worldOnHTTP = context.infra.httpCIDRs.contains("0.0.0.0/0")
        return HCLBlock("resource", "aws_security_group", "host") {
            if worldOnHTTP {
                HCLItem.checkovSkip("CKV_AWS_260", "port 80 is open to http_cidrs on purpose: a public web service redirects HTTP to HTTPS and answers ACME challenges there")
            }
            HCLItem.attribute("name", HCL.template("${var.project}-host"))
            HCLItem.attribute("description", HCL.quote("emmyops hosts: SSH from ssh_cidrs, web from http_cidrs, monitoring between hosts, HTTP(S) and alerts out"))
            HCLItem.attribute("vpc_id", "aws_vpc.main.id")
            for rule in ingress(context) {
                HCLItem.blank
                HCLBlock("ingress") {
                    HCLItem.attribute("description", HCL.quote(rule.description))
                    HCLItem.attribute("protocol", HCL.quote("tcp"))
                    HCLItem.attribute("from_port", String(rule.port))
                    HCLItem.attribute("to_port", String(rule.port))
                    HCLItem.attribute("cidr_blocks", rule.cidrs)
                }
            }
            // Between the fleet's own hosts: exactly the ports monitoring uses, both ways.
            for rule in FleetTopology(spec: context.spec).intraFleetPorts {
                for direction in ["ingress", "egress"] {
                    HCLItem.blank
                    HCLBlock(direction) {
                        HCLItem.attribute("description", HCL.quote(rule.purpose + " between the hosts of the fleet only"))
                        HCLItem.attribute("protocol", HCL.quote("tcp"))
                        HCLItem.attribute("from_port", String(rule.port))
                        HCLItem.attribute("to_port", String(rule.port))
                        HCLItem.attribute("self", "true")
                    }
                }
            }
            if let database = TerraformDatabase.hostEgress(context) {
                HCLItem.blank
                database
            }
            let outbound = [TerraformEgress(port: 443, purpose: "HTTPS out: the pinned emmyops release, S3 backups, AWS APIs, Slack and PagerDuty"),
                            TerraformEgress(port: 80, purpose: "HTTP out: Ubuntu package mirrors (signed packages)")] + context.egress
            for rule in outbound {
                HCLItem.blank
                HCLBlock("egress") {
                    HCLItem.attribute("description", HCL.quote(rule.purpose))
                    HCLItem.attribute("protocol", HCL.quote("tcp"))
                    HCLItem.attribute("from_port", String(rule.port))
                    HCLItem.attribute("to_port", String(rule.port))
                    HCLItem.attribute("cidr_blocks", HCL.strings(["0.0.0.0/0"]))
                }
            }
            HCLItem.blank
            HCL.nameTag("host")
        }
    }
}

/// An outbound port the hosts need beyond HTTPS and HTTP.
struct TerraformEgress: Equatable {
    var port: Int
    var purpose: String

    /// What Alertmanager's receivers connect to: each email smarthost's port, and each literal
    /// webhook URL's port. Slack, PagerDuty and webhook URLs kept as secrets go out on 443.
    static func rules(_ spec: Spec) -> [TerraformEgress] {
        var rules: [TerraformEgress] = []
        func add(_ port: Int, _ purpose: String) {
            guard ![443, 80].contains(port), !rules.contains(where: { $0.port == port }) else { return }
            rules.append(TerraformEgress(port: port, purpose: purpose))
        }
        for receiver in spec.notify.receivers {
            if let email = receiver.email {
                let port = email.smarthost.split(separator: ":").last.flatMap { Int($0) } ?? 25
                add(port, "SMTP out: receiver \(receiver.name) sends through \(email.smarthost)")
            }
            if case .literal(let text)? = receiver.webhook?.url, let url = URL(string: text), let host = url.host,
               !SpecValidation.isLocal(host) {
                add(url.port ?? (url.scheme == "http" ? 80 : 443), "Webhook out: receiver \(receiver.name) posts to \(host)")
            }
        }
        return rules
    }
}

/// IAM policy documents, written as `aws_iam_policy_document` data sources.
enum TerraformIAM {
    static func assumeRolePolicy(_ name: String, service: String) -> HCLBlock {
        HCLBlock("data", "aws_iam_policy_document", name) {
            HCLBlock("statement") {
                HCLItem.attribute("sid", HCL.quote("ServiceAssumesRole"))
                HCLItem.attribute("actions", HCL.strings(["sts:AssumeRole"]))
                HCLItem.blank
                principals("Service", [HCL.quote(service)])
            }
        }
    }

    static func principals(_ type: String, _ identifiers: [String]) -> HCLBlock {
        HCLBlock("principals") {
            HCLItem.attribute("type", HCL.quote(type))
            HCLItem.attribute("identifiers", HCL.list(identifiers))
        }
    }

    static func condition(_ test: String, _ variable: String, _ values: [String]) -> HCLBlock {
        HCLBlock("condition") {
            HCLItem.attribute("test", HCL.quote(test))
            HCLItem.attribute("variable", HCL.quote(variable))
            HCLItem.attribute("values", HCL.list(values))
        }
    }

    /// An Allow (or Deny) statement; `extra` holds principals and conditions.
    static func statement(_ sid: String, effect: String = "Allow", actions: [String], resources: [String],
                          @HCLBodyBuilder extra: () -> [HCLItem] = { [] }) -> HCLBlock {
        let more = extra()
        return HCLBlock("statement") {
            HCLItem.attribute("sid", HCL.quote(sid))
            HCLItem.attribute("effect", HCL.quote(effect))
            HCLItem.attribute("actions", HCL.strings(actions))
            HCLItem.attribute("resources", HCL.list(resources))
            for item in more {
                HCLItem.blank
                item
            }
        }
    }
}
