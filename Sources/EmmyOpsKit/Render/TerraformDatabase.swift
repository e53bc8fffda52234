import EmmyApp

/// `database.tf`, rendered for `infrastructure.database`: an RDS PostgreSQL instance that only
/// the hosts reach. It lives in private subnets of its own (no route out of the VPC), is
/// encrypted with the project's KMS key, keeps automated backups, cannot be deleted by a stray
/// `terraform destroy`, and its master password is generated and kept by AWS in Secrets Manager:
/// no password is in the spec, the rendering or the Terraform state.
///
/// The database name and master user are `app.database`'s; after the apply, `database_endpoint`
/// is the host and port to write into it.
enum TerraformDatabase {
    static func file(_ context: TerraformContext) -> RenderedFile? {
        guard let database = context.infra.database, let settings = context.postgres else { return nil }
        return HCL.file("database.tf", comments: [
            "",
            "app.database names the database and its master user; after the apply, point it at the",
            "database_endpoint output. The master password lives in AWS Secrets Manager (database_secret_arn).",
        ], variables(database) + network() + [parameterGroup()] + monitoringRole() + [instance(settings)] + outputs())
    }

    static let port = Infrastructure.Database.port
    static let family = "postgres\(Infrastructure.Database.engineVersion)"

    static func variables(_ database: Infrastructure.Database) -> [HCLBlock] {
        [
            TerraformRenderer.variable("database_instance_class", "RDS instance class of the PostgreSQL instance (infrastructure.database.instance_class).",
                                       type: "string", default: HCL.quote(database.instanceClass),
                                       checks: [("startswith(var.database_instance_class, \"db.\")", "database_instance_class must be an RDS class such as db.t4g.micro.")]),
            TerraformRenderer.variable("database_allocated_storage", "GiB of encrypted storage (infrastructure.database.allocated_storage).",
                                       type: "number", default: String(database.allocatedStorage),
                                       checks: [("var.database_allocated_storage >= 20 && var.database_allocated_storage <= 65536", "database_allocated_storage must be between 20 and 65536 GiB.")]),
            TerraformRenderer.variable("database_backup_retention_days", "Days of automated backups (infrastructure.database.backup_retention_days).",
                                       type: "number", default: String(database.backupRetentionDays),
                                       checks: [("var.database_backup_retention_days >= 1 && var.database_backup_retention_days <= 35", "database_backup_retention_days must be between 1 and 35: backups stay on.")]),
            TerraformRenderer.variable("database_multi_az", "A standby in a second availability zone (infrastructure.database.multi_az).",
                                       type: "bool", default: database.multiAZ ? "true" : "false", checks: []),
            TerraformRenderer.variable("database_subnet_cidrs", "IPv4 CIDRs of the database's private subnets, inside vpc_cidr, one per zone (infrastructure.database.subnet_cidrs).",
                                       type: "list(string)", default: HCL.strings(database.subnetCIDRs),
                                       checks: [("length(var.database_subnet_cidrs) >= 2 && alltrue([for cidr in var.database_subnet_cidrs : can(cidrhost(cidr, 0))])",
                                                 "database_subnet_cidrs must list at least two IPv4 CIDRs (RDS spans two zones).")]),
        ]
    }

    /// Private subnets with a route table of their own and no route in it: only the VPC's
    /// local route, so nothing in them reaches or is reached from outside the VPC.
    static func network() -> [HCLBlock] {
        [
            HCLBlock("resource", "aws_subnet", "database") {
                HCLItem.comment("Private: no public addresses and no route to the internet gateway.")
                HCLItem.attribute("count", "length(var.database_subnet_cidrs)")
                HCLItem.attribute("vpc_id", "aws_vpc.main.id")
                HCLItem.attribute("cidr_block", "var.database_subnet_cidrs[count.index]")
                HCLItem.attribute("availability_zone", TerraformNetwork.zoneByCount)
                HCLItem.attribute("map_public_ip_on_launch", "false")
                HCLItem.blank
                HCL.nameTag("database-${count.index}")
            },
            HCLBlock("resource", "aws_route_table", "database") {
                HCLItem.comment("No routes: the VPC's local route only.")
                HCLItem.attribute("vpc_id", "aws_vpc.main.id")
                HCLItem.blank
                HCL.nameTag("database")
            },
            HCLBlock("resource", "aws_route_table_association", "database") {
                HCLItem.attribute("count", "length(aws_subnet.database)")
                HCLItem.attribute("subnet_id", "aws_subnet.database[count.index].id")
                HCLItem.attribute("route_table_id", "aws_route_table.database.id")
            },
            HCLBlock("resource", "aws_db_subnet_group", "main") {
                HCLItem.attribute("name", HCL.template("${var.project}-database"))
                HCLItem.attribute("description", HCL.quote("The private database subnets only."))
                HCLItem.attribute("subnet_ids", "aws_subnet.database[*].id")
                HCLItem.blank
                HCL.nameTag("database")
            },
            HCLBlock("resource", "aws_security_group", "database") {
                HCLItem.attribute("name", HCL.template("${var.project}-database"))
                HCLItem.attribute("description", HCL.quote("PostgreSQL: \(port) from the emmyops hosts only; nothing out"))
                HCLItem.attribute("vpc_id", "aws_vpc.main.id")
                HCLItem.blank
                HCLBlock("ingress") {
                    // AWS refuses an apostrophe in a rule description.
                    HCLItem.attribute("description", HCL.quote("PostgreSQL from the hosts security group only"))
                    HCLItem.attribute("protocol", HCL.quote("tcp"))
                    HCLItem.attribute("from_port", String(port))
                    HCLItem.attribute("to_port", String(port))
                    HCLItem.attribute("security_groups", "[aws_security_group.host.id]")
                }
                HCLItem.blank
                HCL.nameTag("database")
            },
        ]
    }

    /// The hosts' way out to their database. To the rendered RDS instance: its port towards the
    /// database subnets, nowhere else (a CIDR rather than the database's security group: the two
    /// groups would refer to each other, a cycle Terraform cannot order). To a PostgreSQL server
    /// of the operator's own: app.database's port, to wherever its host is.
    static func hostEgress(_ context: TerraformContext) -> HCLBlock? {
        guard let settings = context.postgres else { return nil }
        let rds = context.infra.database != nil
        return HCLBlock("egress") {
            HCLItem.attribute("description", HCL.quote(rds ? "PostgreSQL out to the database subnets (infrastructure.database)"
                                                            : "PostgreSQL out to app.database at \(settings.host)"))
            HCLItem.attribute("protocol", HCL.quote("tcp"))
            HCLItem.attribute("from_port", String(rds ? port : settings.port))
            HCLItem.attribute("to_port", String(rds ? port : settings.port))
            HCLItem.attribute("cidr_blocks", rds ? "var.database_subnet_cidrs" : HCL.strings(["0.0.0.0/0"]))
        }
    }

    /// TLS required of every client, and statements slower than a second and every schema change logged.
    static func parameterGroup() -> HCLBlock {
        HCLBlock("resource", "aws_db_parameter_group", "main") {
            HCLItem.attribute("name", HCL.template("${var.project}-\(family)"))
            HCLItem.attribute("family", HCL.quote(family))
            HCLItem.attribute("description", HCL.quote("emmyops: TLS only, slow statements and schema changes logged"))
            for (name, value) in [("rds.force_ssl", "1"), ("log_statement", "ddl"), ("log_min_duration_statement", "1000")] {
                HCLItem.blank
                HCLBlock("parameter") {
                    HCLItem.attribute("name", HCL.quote(name))
                    HCLItem.attribute("value", HCL.quote(value))
                }
            }
        }
    }

    /// Enhanced monitoring publishes the instance's OS metrics through this role, with AWS's
    /// own policy for exactly that.
    static func monitoringRole() -> [HCLBlock] {
        [
            TerraformIAM.assumeRolePolicy("database_monitoring_assume", service: "monitoring.rds.amazonaws.com"),
            HCLBlock("resource", "aws_iam_role", "database_monitoring") {
                HCLItem.attribute("name", HCL.template("${var.project}-database-monitoring"))
                HCLItem.attribute("description", HCL.quote("Lets RDS enhanced monitoring publish the database's OS metrics."))
                HCLItem.attribute("assume_role_policy", "data.aws_iam_policy_document.database_monitoring_assume.json")
            },
            HCLBlock("resource", "aws_iam_role_policy_attachment", "database_monitoring") {
                HCLItem.attribute("role", "aws_iam_role.database_monitoring.name")
                HCLItem.attribute("policy_arn", HCL.quote("arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"))
            },
        ]
    }

    static func instance(_ settings: PostgresSettings) -> HCLBlock {
        HCLBlock("resource", "aws_db_instance", "main") {
            HCLItem.attribute("identifier", HCL.template("${var.project}-postgres"))
            HCLItem.attribute("engine", HCL.quote("postgres"))
            HCLItem.attribute("engine_version", HCL.quote(Infrastructure.Database.engineVersion))
            HCLItem.attribute("instance_class", "var.database_instance_class")
            HCLItem.attribute("db_name", HCL.quote(settings.database))
            HCLItem.attribute("username", HCL.quote(settings.user))
            HCLItem.attribute("port", String(port))
            HCLItem.blank
            HCLItem.comment("AWS generates the master password and keeps it in Secrets Manager, encrypted with the project key.")
            HCLItem.attribute("manage_master_user_password", "true")
            HCLItem.attribute("master_user_secret_kms_key_id", "aws_kms_key.main.key_id")
            HCLItem.blank
            HCLItem.attribute("allocated_storage", "var.database_allocated_storage")
            HCLItem.attribute("storage_type", HCL.quote("gp3"))
            HCLItem.attribute("storage_encrypted", "true")
            HCLItem.attribute("kms_key_id", "aws_kms_key.main.arn")
            HCLItem.blank
            HCLItem.attribute("db_subnet_group_name", "aws_db_subnet_group.main.name")
            HCLItem.attribute("vpc_security_group_ids", "[aws_security_group.database.id]")
            HCLItem.attribute("publicly_accessible", "false")
            HCLItem.attribute("multi_az", "var.database_multi_az")
            HCLItem.attribute("parameter_group_name", "aws_db_parameter_group.main.name")
            HCLItem.attribute("iam_database_authentication_enabled", "true")
            HCLItem.blank
            HCLItem.comment("Backups on, and a final snapshot: a destroy must first turn deletion_protection off.")
            HCLItem.attribute("backup_retention_period", "var.database_backup_retention_days")
            HCLItem.attribute("copy_tags_to_snapshot", "true")
            HCLItem.attribute("deletion_protection", "true")
            HCLItem.attribute("skip_final_snapshot", "false")
            HCLItem.attribute("final_snapshot_identifier", HCL.template("${var.project}-postgres-final"))
            HCLItem.attribute("auto_minor_version_upgrade", "true")
            HCLItem.blank
            HCLItem.attribute("enabled_cloudwatch_logs_exports", HCL.strings(["postgresql", "upgrade"]))
            HCLItem.attribute("monitoring_interval", "60")
            HCLItem.attribute("monitoring_role_arn", "aws_iam_role.database_monitoring.arn")
            HCLItem.attribute("performance_insights_enabled", "true")
            HCLItem.attribute("performance_insights_kms_key_id", "aws_kms_key.main.arn")
            HCLItem.blank
            HCL.nameTag("postgres")
        }
    }

    static func outputs() -> [HCLBlock] {
        [
            TerraformRenderer.output("database_endpoint", "host:port of the PostgreSQL instance, for app.database.", "aws_db_instance.main.endpoint"),
            TerraformRenderer.output("database_secret_arn", "Secrets Manager secret holding the master password (never in state or the spec).",
                                     "aws_db_instance.main.master_user_secret[0].secret_arn"),
        ]
    }
}
