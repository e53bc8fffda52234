@testable import EmmyApp
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 18, defect 5: silent connections are closed, and the number served at once is capped.
/// Serialized: the cap test binds a port it picked, which a parallel server could take.
@Suite(.serialized) struct ConnectionLimitTests {
    /// A blocking loopback TCP socket with a receive timeout.
    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func send(_ fd: Int32, _ text: String) {
        _ = text.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }

    /// True once the server has closed the connection (read gives end of file).
    static func closedByPeer(_ fd: Int32) -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }

    /// True when a byte of an answer arrives before the deadline (reads time out every 200 ms).
    static func answered(_ fd: Int32, within limit: Duration) -> Bool {
        let deadline = ContinuousClock.now + limit
        var byte: UInt8 = 0
        while ContinuousClock.now < deadline {
            let count = recv(fd, &byte, 1, 0)
            if count == 1 { return true }
            if count == 0 { return false }
        }
        return false
    }

    /// Runs blocking socket reads on a thread of their own: on two cores the cooperative pool
    /// has two threads, and a test blocking one of them (while the parallel suite holds the
    /// other) leaves the server's handlers no thread to answer on.
    static func offThePool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    static func app(_ configure: (inout ServerConfig) -> Void) async throws -> some ApplicationProtocol {
        var config = ServerConfig()
                config.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("emmy-test-\(UUID())").path
        configure(&config)
        return try await EmmyServer.buildApplication(config: config, database: try AppDatabase.inMemory(), logger: ServerTests.Harness.quietLogger)
    }

    /// A client that sends half a request head and goes quiet is cut off (the header
    /// timeout); so is one that stops sending its body. Before, both were kept forever.
    @Test func silentConnectionsAreClosedAfterTheIdleTimeout() async throws {
        let app = try await Self.app {
            $0.port = 0
            // Long enough that a loaded machine still reads the probe's request in time.
            $0.connections.idleTimeout = .seconds(2)
        }
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let halfHead = try Self.connect(port: port)
            defer { close(halfHead) }
            Self.send(halfHead, "POST /messages HTTP/1.1\r\nHost: x\r\n")
            let halfBody = try Self.connect(port: port)
            defer { close(halfBody) }
            Self.send(halfBody, "POST /messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"contacts\": [")
            let closed = await Self.offThePool {
                let deadline = ContinuousClock.now + .seconds(30)
                var closed = (head: false, body: false)
                while !(closed.head && closed.body), ContinuousClock.now < deadline {
                    if !closed.head { closed.head = Self.closedByPeer(halfHead) }
                    if !closed.body { closed.body = Self.closedByPeer(halfBody) }
                }
                return closed
            }
            #expect(closed.head, "a half-sent head is cut off")
            #expect(closed.body, "a body that stops arriving is cut off")
            // A fresh connection is served: retried while the deadline lasts, since on a starved
            // machine the probe itself may sit idle past the timeout before it is read.
            let answered = await Self.offThePool {
                let deadline = ContinuousClock.now + .seconds(30)
                while ContinuousClock.now < deadline {
                    guard let probe = try? Self.connect(port: port) else { continue }
                    defer { close(probe) }
                    Self.send(probe, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                    if Self.answered(probe, within: deadline - ContinuousClock.now) { return true }
                }
                return false
            }
            #expect(answered, "the server still answers")
        }
    }

    /// Connections past the cap wait in the backlog instead of taking a descriptor each. Run
    /// as a real service: HummingbirdTesting's live mode drops the cap when it picks a port.
    @Test func connectionsPastTheCapWaitUntilOneCloses() async throws {
        let port = try Self.freePort()
        let app = try await Self.app {
            $0.port = port
            $0.connections.maxConnections = 2
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            defer { group.cancelAll() }
            // Two kept-alive connections, each known to be accepted because it was answered.
            var idle: [Int32] = []
            defer { idle.forEach { close($0) } }
            let deadline = ContinuousClock.now + .seconds(20)
            while idle.count < 2, ContinuousClock.now < deadline {
                guard let fd = try? Self.connect(port: port) else { continue }  // not listening yet
                Self.send(fd, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                if Self.answered(fd, within: .seconds(10)) { idle.append(fd) } else { close(fd) }
            }
            try #require(idle.count == 2)
            let third = try Self.connect(port: port)
            defer { close(third) }
            Self.send(third, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(!Self.answered(third, within: .milliseconds(500)), "served past the cap of 2")
            close(idle.removeLast())
            #expect(Self.answered(third, within: .seconds(10)), "served once a connection closed")
        }
    }

    /// A port free at the time of asking.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
