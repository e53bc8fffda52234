// PostgresCluster.swift is shared with EmmyOpsKitTests (a symlink there); each target tells it
// how it picks a free loopback port.
extension PostgresCluster {
    static func freePort() throws -> Int { try ConnectionLimitTests.freePort() }
}
