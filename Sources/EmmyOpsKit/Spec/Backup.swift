import Foundation
import Yams

// The `backup:` section, whole: the model, its checks, its schema (defaults read off the model)
// and how it is read from the YAML tree. A new key is added here and nowhere else.

/// The `backup:` section: where `emmyops backup` stores encrypted snapshots, for whom, and how
/// many it keeps.
public struct Backup: Sendable, Hashable {
    /// `s3://bucket/prefix` or `file:///path` where backups go.
    public var target: String?
    /// age X25519 recipients (`age1…`) every backup is encrypted to.
    public var recipients: [String]
    /// An S3-compatible endpoint (MinIO, moto) instead of AWS; the SDKs' `AWS_ENDPOINT_URL_S3`
    /// and `AWS_ENDPOINT_URL` are read when this is unset.
    public var endpoint: String?
    /// Path-style addressing (`endpoint/bucket/key`) instead of virtual-hosted buckets.
    public var pathStyle: Bool
    /// The bucket's region; `AWS_REGION`, then infrastructure.aws.region, then us-east-1.
    public var region: String?
    public var keep: Keep

    /// restic-style retention on calendar boundaries; the rules are ORed.
    public struct Keep: Sendable, Hashable {
        /// The newest N backups, whatever their dates.
        public var last: Int = 3
        public var daily: Int = 7
        public var weekly: Int = 4
        public var monthly: Int = 6
        public init() {}

        /// Days the oldest kept backup can reach; object expiry must not come sooner.
        public var maximumAgeDays: Int { max(daily, weekly * 7, monthly * 31) }
    }

    public init(target: String? = nil, recipients: [String] = [], endpoint: String? = nil, pathStyle: Bool = false,
                region: String? = nil, keep: Keep = Keep()) {
        self.target = target
        self.recipients = recipients
        self.endpoint = endpoint
        self.pathStyle = pathStyle
        self.region = region
        self.keep = keep
    }

    /// The bucket of an `s3://bucket/prefix` target.
    public var bucket: String? {
        guard let target, target.hasPrefix("s3://") else { return nil }
        return target.dropFirst(5).split(separator: "/").first.map(String.init)
    }

    public var prefix: String {
        guard let target, target.hasPrefix("s3://") else { return "" }
        return target.dropFirst(5).split(separator: "/", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
    }
}

extension SpecValidation {
    /// A target emmyops can write to, and recipients that are X25519 age public keys.
    static func validateBackup(_ spec: Spec, error: (String, String, String?) -> Void) {
        let backup = spec.backup
        if let target = backup.target {
            if target.hasPrefix("s3://") {
                if backup.bucket?.isEmpty ?? true { error("backup.target", "`\(target)` names no bucket", "write it like s3://acme-emmy-backups/prod") }
            } else if target.hasPrefix("file://") {
                if !target.dropFirst(7).hasPrefix("/") { error("backup.target", "`\(target)` is not an absolute file:///path", nil) }
            } else {
                error("backup.target", "`\(target)` is not an s3://bucket/prefix or file:///path target", nil)
            }
        }
        for (index, recipient) in backup.recipients.enumerated() {
            do {
                _ = try Bech32.ageRecipientKey(recipient)
            } catch let failure {
                error("backup.recipients[\(index)]", "`\(recipient)` is not an age X25519 recipient: \(failure)",
                      "generate a key pair with `age-keygen -o identity.txt` and list its `age1…` public key; keep the identity off the host")
            }
        }
        if backup.target != nil, backup.recipients.isEmpty {
            error("backup.recipients", "a backup target needs at least one recipient", "backups are always encrypted; list an `age1…` public key")
        }
        if let endpoint = backup.endpoint, URL(string: endpoint)?.host == nil || !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            error("backup.endpoint", "`\(endpoint)` is not an http(s) URL", nil)
        }
    }
}

// MARK: - Schema

extension SpecSchema {
    static let backup = SchemaField("backup", .object([
        SchemaField("target", .string, "Where backups go: s3://bucket/prefix or file:///path."),
        SchemaField("recipients", .list(.string), "age X25519 public keys (`age1…`) every backup is encrypted to; keep the identities off the host."),
        SchemaField("endpoint", .string, "S3-compatible endpoint URL (MinIO, moto); default AWS, or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL."),
        SchemaField("path_style", .boolean, "Address buckets as endpoint/bucket/key instead of bucket.endpoint/key (default \(Backup().pathStyle))."),
        SchemaField("region", .string, "Bucket region (default AWS_REGION, then infrastructure.aws.region)."),
        SchemaField("keep", .object([
            SchemaField("last", .integer(min: 0, max: 1000), "Newest backups kept whatever their dates (default \(Backup.Keep().last))."),
            SchemaField("daily", .integer(min: 0, max: 3650), "Daily backups kept (default \(Backup.Keep().daily))."),
            SchemaField("weekly", .integer(min: 0, max: 520), "Weekly backups kept (default \(Backup.Keep().weekly))."),
            SchemaField("monthly", .integer(min: 0, max: 120), "Monthly backups kept (default \(Backup.Keep().monthly))."),
        ]), "Retention on calendar boundaries, rules ORed; the newest verified backup is never pruned, and the bucket lifecycle keeps objects at least this long."),
    ]), "Encrypted database backups.")
}

// MARK: - Reading

extension SpecBuilder {
    func backup(_ node: CheckedNode?) -> Backup {
        var backup = Backup()
        backup.target = R.string(R.value(node, "target"))
        set(&backup.recipients, strings(R.value(node, "recipients")))
        backup.endpoint = R.string(R.value(node, "endpoint"))
        set(&backup.pathStyle, R.bool(R.value(node, "path_style")))
        backup.region = R.string(R.value(node, "region"))
        let keep = R.value(node, "keep")
        set(&backup.keep.last, R.int(R.value(keep, "last")))
        set(&backup.keep.daily, R.int(R.value(keep, "daily")))
        set(&backup.keep.weekly, R.int(R.value(keep, "weekly")))
        set(&backup.keep.monthly, R.int(R.value(keep, "monthly")))
        return backup
    }
}
