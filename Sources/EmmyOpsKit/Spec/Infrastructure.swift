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

    public init(aws: AWS = AWS(), sshCIDRs: [String] = [], allowPublicSSH: Bool = false, httpCIDRs: [String] = ["0.0.0.0/0"],
                proxy: Bool = true, sshPublicKey: String? = nil, stateBackend: StateBackend? = nil) {
        self.aws = aws
        self.sshCIDRs = sshCIDRs
        self.allowPublicSSH = allowPublicSSH
        self.httpCIDRs = httpCIDRs
        self.proxy = proxy
        self.sshPublicKey = sshPublicKey
        self.stateBackend = stateBackend
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

/// The `release:` section: the emmyops binary hosts install, pinned by checksum.
public struct Release: Sendable, Hashable {
    public var version: String
    public var url: String?
    public var sha256: String?
    public init(version: String = "0.1.0", url: String? = nil, sha256: String? = nil) {
        self.version = version
        self.url = url
        self.sha256 = sha256
    }
}

/// The `backup:` section (the parts renderings need so far).
public struct Backup: Sendable, Hashable {
    /// `s3://bucket/prefix` where backups go.
    public var target: String?
    public var keep: Keep

    public struct Keep: Sendable, Hashable {
        public var daily: Int = 7
        public var weekly: Int = 4
        public var monthly: Int = 6
        public init() {}

        /// Days the oldest kept backup can reach; object expiry must not come sooner.
        public var maximumAgeDays: Int { max(daily, weekly * 7, monthly * 31) }
    }

    public init(target: String? = nil, keep: Keep = Keep()) {
        self.target = target
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
