import Yams

extension SpecBuilder {
    func infrastructure(_ node: Node) -> Infrastructure {
        var infra = Infrastructure()
        let aws = R.value(node, "aws")
        set(&infra.aws.region, R.string(R.value(aws, "region")))
        set(&infra.aws.instanceType, R.string(R.value(aws, "instance_type")))
        set(&infra.aws.vpcCIDR, R.string(R.value(aws, "vpc_cidr")))
        set(&infra.aws.subnetCIDRs, strings(R.value(aws, "subnet_cidrs")))
        set(&infra.aws.rootVolumeGB, R.int(R.value(aws, "root_volume_gb")))
        set(&infra.aws.amiName, R.string(R.value(aws, "ami_name")))
        set(&infra.sshCIDRs, strings(R.value(node, "ssh_cidrs")))
        set(&infra.allowPublicSSH, R.bool(R.value(node, "allow_public_ssh")))
        set(&infra.httpCIDRs, strings(R.value(node, "http_cidrs")))
        set(&infra.proxy, R.bool(R.value(node, "proxy")))
        infra.sshPublicKey = R.string(R.value(node, "ssh_public_key"))
        if let backend = R.value(node, "state_backend"), let bucket = R.string(R.value(backend, "bucket")),
           let region = R.string(R.value(backend, "region")), let table = R.string(R.value(backend, "dynamodb_table")) {
            var state = Infrastructure.StateBackend(bucket: bucket, region: region, dynamodbTable: table)
            set(&state.key, R.string(R.value(backend, "key")))
            infra.stateBackend = state
        }
        return infra
    }
}
