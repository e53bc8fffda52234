extension SpecSchema {
    static let infrastructure = SchemaField("infrastructure", .object([
        SchemaField("aws", .object([
            SchemaField("region", .string, "AWS region (default us-east-1)."),
            SchemaField("instance_type", .string, "EC2 instance type (default t3.small)."),
            SchemaField("vpc_cidr", .string, "VPC CIDR (default 10.0.0.0/16)."),
            SchemaField("subnet_cidrs", .list(.string), "Public subnet CIDRs inside the VPC (default [10.0.1.0/24])."),
            SchemaField("root_volume_gb", .integer(min: 8, max: 16384), "Encrypted root volume size (default 20)."),
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
    ]), "Cloud infrastructure rendered as Terraform.")
}
