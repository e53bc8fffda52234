/// `storage.tf`: the customer-managed KMS key, and (for an `s3://` backup target) the backup
/// bucket with versioning, encryption, no public access, TLS-only access and expiry no sooner
/// than retention, plus the host's permission to read and write its prefix.
enum TerraformStorage {
    static func file(_ context: TerraformContext) -> RenderedFile {
        var blocks = [HCLBlock("data", "aws_caller_identity", "current") {}] + key()
        if let bucket = context.backupBucket { blocks += self.bucket(bucket, context) + hostAccess(context) }
        return HCL.file("storage.tf", blocks)
    }

    static let accountRoot = HCL.template("arn:aws:iam::${data.aws_caller_identity.current.account_id}:root")

    /// Written inline: a key policy's `Resource = "*"` means this key, which IAM-policy checks misread.
    static var keyPolicy: HCLValue {
        let q = { (text: String) in HCLValue.raw(HCL.quote(text)) }
        let administer: HCLValue = .object([
            ("Sid", q("AccountAdministersKey")), ("Effect", q("Allow")), ("Principal", .object([("AWS", .raw(accountRoot))])),
            ("Action", q("kms:*")), ("Resource", q("*")),
        ])
        let logs: HCLValue = .object([
            ("Sid", q("CloudWatchLogsUseKey")), ("Effect", q("Allow")),
            ("Principal", .object([("Service", .raw(HCL.template("logs.${var.region}.amazonaws.com")))])),
            ("Action", .raw(HCL.strings(["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"]))),
            ("Resource", q("*")),
            ("Condition", .object([("ArnLike", .object([(HCL.quote("kms:EncryptionContext:aws:logs:arn"),
                .raw(HCL.template("arn:aws:logs:${var.region}:${data.aws_caller_identity.current.account_id}:log-group:*")))]))])),
        ])
        return .call("jsonencode", .object([("Version", q("2012-10-17")), ("Statement", .array([administer, logs]))]))
    }

    /// One rotating key encrypts the backups and the flow logs; the account administers it and
    /// CloudWatch Logs may use it for this account's log groups only.
    static func key() -> [HCLBlock] {
        [
            HCLBlock("resource", "aws_kms_key", "main") {
                HCLItem.attribute("description", HCL.template("${var.project}: backups and VPC flow logs"))
                HCLItem.attribute("enable_key_rotation", "true")
                HCLItem.attribute("deletion_window_in_days", "30")
                HCLItem.value("policy", keyPolicy)
            },
            HCLBlock("resource", "aws_kms_alias", "main") {
                HCLItem.attribute("name", HCL.template("alias/${var.project}"))
                HCLItem.attribute("target_key_id", "aws_kms_key.main.key_id")
            },
        ]
    }

    static func bucket(_ name: String, _ context: TerraformContext) -> [HCLBlock] {
        let bucketRef = "aws_s3_bucket.backups.id"
        let days = String(context.backupExpiryDays)
        return [
            HCLBlock("resource", "aws_s3_bucket", "backups") {
                HCLItem.checkovSkip("CKV_AWS_18", "access logging needs a second bucket; CloudTrail data events are the place to audit this one")
                HCLItem.checkovSkip("CKV_AWS_144", "backups are already an off-host copy; a cross-region replica is a cost decision for the operator")
                HCLItem.checkovSkip("CKV2_AWS_62", "nothing consumes bucket events; emmyops verifies backups itself")
                HCLItem.attribute("bucket", HCL.quote(name))
                HCLItem.blank
                HCL.nameTag("backups")
            },
            HCLBlock("resource", "aws_s3_bucket_ownership_controls", "backups") {
                HCLItem.attribute("bucket", bucketRef)
                HCLItem.blank
                HCLBlock("rule") {
                    HCLItem.attribute("object_ownership", HCL.quote("BucketOwnerEnforced"))
                }
            },
            HCLBlock("resource", "aws_s3_bucket_public_access_block", "backups") {
                HCLItem.attribute("bucket", bucketRef)
                HCLItem.attribute("block_public_acls", "true")
                HCLItem.attribute("block_public_policy", "true")
                HCLItem.attribute("ignore_public_acls", "true")
                HCLItem.attribute("restrict_public_buckets", "true")
            },
            HCLBlock("resource", "aws_s3_bucket_versioning", "backups") {
                HCLItem.attribute("bucket", bucketRef)
                HCLItem.blank
                HCLBlock("versioning_configuration") {
                    HCLItem.attribute("status", HCL.quote("Enabled"))
                }
            },
            HCLBlock("resource", "aws_s3_bucket_server_side_encryption_configuration", "backups") {
                HCLItem.attribute("bucket", bucketRef)
                HCLItem.blank
                HCLBlock("rule") {
                    HCLItem.attribute("bucket_key_enabled", "true")
                    HCLItem.blank
                    HCLBlock("apply_server_side_encryption_by_default") {
                        HCLItem.attribute("sse_algorithm", HCL.quote("aws:kms"))
                        HCLItem.attribute("kms_master_key_id", "aws_kms_key.main.arn")
                    }
                }
            },
            HCLBlock("resource", "aws_s3_bucket_lifecycle_configuration", "backups") {
                HCLItem.comment("backup.keep reaches back \(days) days; nothing expires sooner. emmyops prunes within that.")
                HCLItem.attribute("bucket", bucketRef)
                HCLItem.attribute("depends_on", "[aws_s3_bucket_versioning.backups]")
                HCLItem.blank
                HCLBlock("rule") {
                    HCLItem.attribute("id", HCL.quote("expire-after-retention"))
                    HCLItem.attribute("status", HCL.quote("Enabled"))
                    HCLItem.blank
                    HCLBlock("filter") {
                        HCLItem.attribute("prefix", HCL.quote(context.backupPrefix))
                    }
                    HCLItem.blank
                    HCLBlock("expiration") {
                        HCLItem.attribute("days", days)
                    }
                    HCLItem.blank
                    HCLBlock("noncurrent_version_expiration") {
                        HCLItem.attribute("noncurrent_days", days)
                    }
                }
                HCLItem.blank
                HCLBlock("rule") {
                    HCLItem.attribute("id", HCL.quote("abort-incomplete-uploads"))
                    HCLItem.attribute("status", HCL.quote("Enabled"))
                    HCLItem.blank
                    HCLBlock("filter") {}
                    HCLItem.blank
                    HCLBlock("abort_incomplete_multipart_upload") {
                        HCLItem.attribute("days_after_initiation", "7")
                    }
                }
            },
            HCLBlock("data", "aws_iam_policy_document", "backups_tls_only") {
                TerraformIAM.statement("DenyInsecureTransport", effect: "Deny", actions: ["s3:*"],
                                       resources: ["aws_s3_bucket.backups.arn", HCL.template("${aws_s3_bucket.backups.arn}/*")]) {
                    TerraformIAM.principals("*", [HCL.quote("*")])
                    TerraformIAM.condition("Bool", "aws:SecureTransport", [HCL.quote("false")])
                }
            },
            HCLBlock("resource", "aws_s3_bucket_policy", "backups") {
                HCLItem.attribute("bucket", bucketRef)
                HCLItem.attribute("policy", "data.aws_iam_policy_document.backups_tls_only.json")
                HCLItem.attribute("depends_on", "[aws_s3_bucket_public_access_block.backups]")
            },
        ]
    }

    /// The host lists its prefix, reads and writes objects under it, and deletes only there
    /// (`emmyops backup prune`). The bucket is versioned, so a delete leaves a noncurrent
    /// version the lifecycle rule keeps for the retention period: a compromised host cannot
    /// destroy its own history sooner. `validate` checks prune and this policy agree.
    /// The statement that lets `backup prune` delete, on the backup prefix only.
    static let pruneStatement = "PruneBackupPrefix"

    static func hostAccess(_ context: TerraformContext) -> [HCLBlock] {
        let prefix = context.backupPrefix
        return [
            HCLBlock("data", "aws_iam_policy_document", "host_backups") {
                TerraformIAM.statement("ListBackupPrefix", actions: ["s3:ListBucket"], resources: ["aws_s3_bucket.backups.arn"]) {
                    TerraformIAM.condition("StringLike", "s3:prefix", [HCL.quote(prefix + "*")])
                }
                HCLItem.blank
                TerraformIAM.statement("ReadWriteBackupObjects", actions: ["s3:GetObject", "s3:PutObject"],
                                       resources: [HCL.template("${aws_s3_bucket.backups.arn}/\(HCL.escape(prefix))*")])
                HCLItem.blank
                TerraformIAM.statement(Self.pruneStatement, actions: ["s3:DeleteObject", "s3:AbortMultipartUpload"],
                                       resources: [HCL.template("${aws_s3_bucket.backups.arn}/\(HCL.escape(prefix))*")])
                HCLItem.blank
                TerraformIAM.statement("UseBackupKey", actions: ["kms:Decrypt", "kms:GenerateDataKey"], resources: ["aws_kms_key.main.arn"])
            },
            HCLBlock("resource", "aws_iam_role_policy", "host_backups") {
                HCLItem.attribute("name", HCL.quote("backups"))
                HCLItem.attribute("role", "aws_iam_role.host.id")
                HCLItem.attribute("policy", "data.aws_iam_policy_document.host_backups.json")
            },
        ]
    }
}
