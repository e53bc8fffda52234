// PostgresCluster.swift is EmmyAppTests' (this target links it by a symlink); each target tells
// it how it picks a free loopback port.
extension PostgresCluster {
    static func freePort() throws -> Int { try LoopbackPorts.pick(1)[0] }
}
