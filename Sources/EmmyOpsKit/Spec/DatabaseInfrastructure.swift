import EmmyApp

// The `infrastructure.database:` section, whole: its model, schema, reading and checks. With it,
// `render terraform` adds an RDS PostgreSQL instance for `app.database` to point at. The
// database's name and master user come from `app.database` (its host is the instance's
// endpoint, known after the apply), so the spec names them once.

extension Infrastructure {
    /// An RDS PostgreSQL instance in private subnets of the VPC.
    public struct Database: Sendable, Hashable {
        /// The RDS instance class, such as `db.t4g.micro`.
        public var instanceClass: String = "db.t4g.micro"
        /// GiB of encrypted gp3 storage.
        public var allocatedStorage: Int = 20
        /// Days of automated backups (point-in-time recovery); AWS allows 1 to 35.
        public var backupRetentionDays: Int = 7
        /// A standby in a second zone that AWS fails over to.
        public var multiAZ: Bool = true
        /// Private subnets, one per zone (RDS wants at least two): no route to the internet.
        public var subnetCIDRs: [String] = ["10.0.101.0/24", "10.0.102.0/24"]
        public init() {}

        /// The PostgreSQL major version RDS runs: the one EmmyApp is tested against.
        public static let engineVersion = "15"
        /// The port PostgreSQL listens on, in RDS and in compose.
        public static let port = 5432
    }
}

extension AppConfig {
    /// The PostgreSQL server `app.database` names; nil for SQLite (or a URL validation refuses).
    /// What the renderings add for PostgreSQL (compose service, exporter, RDS) hangs on this.
    public var postgres: PostgresSettings? {
        if case .postgres(let settings)? = try? databaseChoice() { return settings }
        return nil
    }
}

// MARK: - Schema

extension SpecSchema {
    static let infrastructureDatabase = SchemaField("database", .object([
        SchemaField("instance_class", .string, "RDS instance class (default \(Infrastructure.Database().instanceClass))."),
        SchemaField("allocated_storage", .integer(min: 20, max: 65536), "GiB of encrypted storage (default \(Infrastructure.Database().allocatedStorage))."),
        SchemaField("backup_retention_days", .integer(min: 1, max: 35), "Days of automated backups (default \(Infrastructure.Database().backupRetentionDays))."),
        SchemaField("multi_az", .boolean, "A standby in a second availability zone (default \(Infrastructure.Database().multiAZ))."),
        SchemaField("subnet_cidrs", .list(.string), "Private subnets for the database, at least two, inside the VPC (default [10.0.101.0/24, 10.0.102.0/24])."),
    ]), "An RDS PostgreSQL \(Infrastructure.Database.engineVersion) instance for app.database (a postgres:// URL), reachable from the hosts only.")
}

// MARK: - Reading

extension SpecBuilder {
    func infrastructureDatabase(_ node: CheckedNode?) -> Infrastructure.Database? {
        guard let node else { return nil }
        var database = Infrastructure.Database()
        set(&database.instanceClass, R.string(R.value(node, "instance_class")))
        set(&database.allocatedStorage, R.int(R.value(node, "allocated_storage")))
        set(&database.backupRetentionDays, R.int(R.value(node, "backup_retention_days")))
        set(&database.multiAZ, R.bool(R.value(node, "multi_az")))
        set(&database.subnetCIDRs, strings(R.value(node, "subnet_cidrs")))
        return database
    }
}

// MARK: - Validation

enum DatabaseInfrastructureValidation {
    static func validate(_ spec: Spec, error: (String, String, String?) -> Void) {
        guard let infra = spec.infrastructure, let database = infra.database else { return }
        let path = "infrastructure.database"
        if let settings = spec.app.postgres {
            // RDS creates the database and its master user from these names.
            for (part, name) in [("user", settings.user), ("database name", settings.database)] where !isRDSName(name) {
                error("app.database", "the \(part) `\(name)` cannot name an RDS PostgreSQL \(part == "user" ? "master user" : "database")",
                      "use 1-63 letters, digits or underscores, starting with a letter (e.g. emmy)")
            }
        } else {
            error(path, "an RDS PostgreSQL instance is rendered, but app.database is `\(spec.app.database)`, so the app would not use it",
                  "set app.database to postgres://USER@ENDPOINT:5432/DB (the endpoint is the `database_endpoint` output after the apply), or remove infrastructure.database")
        }
        if !database.instanceClass.hasPrefix("db.") || database.instanceClass.contains(where: \.isWhitespace) {
            error(path + ".instance_class", "`\(database.instanceClass)` is not an RDS instance class", "write one such as db.t4g.micro")
        }
        if database.subnetCIDRs.count < 2 {
            error(path + ".subnet_cidrs", "RDS needs subnets in at least two availability zones; \(database.subnetCIDRs.count) given",
                  "list two private CIDRs inside \(infra.aws.vpcCIDR), e.g. [10.0.101.0/24, 10.0.102.0/24]")
        }
        let vpc = CIDR(infra.aws.vpcCIDR)
        let others = infra.aws.subnetCIDRs.compactMap(CIDR.init)
        var seen: [CIDR] = []
        for (index, text) in database.subnetCIDRs.enumerated() {
            let at = "\(path).subnet_cidrs[\(index)]"
            guard let cidr = CIDR(text) else {
                error(at, "`\(text)` is not an IPv4 CIDR", "write it like 10.0.101.0/24")
                continue
            }
            if let vpc, !vpc.contains(cidr) {
                error(at, "\(text) is not inside the VPC \(infra.aws.vpcCIDR)", "pick a range inside \(infra.aws.vpcCIDR) that no other subnet uses")
            } else if let clash = (others + seen).first(where: { $0.overlaps(cidr) }) {
                error(at, "\(text) overlaps the subnet \(clash)", "give the database its own ranges, apart from infrastructure.aws.subnet_cidrs")
            }
            seen.append(cidr)
        }
    }

    /// What RDS accepts as a database name or master user name.
    static func isRDSName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter, name.count <= 63, name.lowercased() != "rdsadmin" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}

extension CIDR: CustomStringConvertible {
    func overlaps(_ other: CIDR) -> Bool { contains(other) || other.contains(self) }

    var description: String {
        [24, 16, 8, 0].map { String(address >> UInt32($0) & 0xff) }.joined(separator: ".") + "/\(prefix)"
    }
}
