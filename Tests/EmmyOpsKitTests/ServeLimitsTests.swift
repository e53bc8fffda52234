import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 18, done-when: hostile inputs against the real `emmyops serve` process, measured
/// from outside: what it answers, how much memory it took, whether it stays up.
@Suite(.serialized) struct ServeLimitsTests {
    static var curl: String? { ProcessRunner.which("curl") }

    /// `emmyops serve` on a free port, started by a shell that first sets `ulimit -Sn`
    /// (the shell `exec`s, so the harness's pid is the server's).
    static func serve(in dir: URL, softDescriptorLimit: Int? = nil) async throws -> (ProcessHarness, Int) {
        let port = try LoopbackPorts.pick(1)[0]
        let command = [CLI.binary, "serve", "--port", "\(port)", "--data-dir", dir.appendingPathComponent("data").path]
            .map { "'\($0)'" }.joined(separator: " ")
        let limit = softDescriptorLimit.map { "ulimit -Sn \($0) && " } ?? ""
        let server = try ProcessHarness(name: "serve", executable: "/bin/sh", arguments: ["-c", "\(limit)exec \(command)"], logDirectory: dir)
        try await poll("EmmyApp /ready", timeout: .seconds(20)) { () -> Bool? in
            do { try server.checkAlive() } catch { throw LoopbackPorts.Failure(description: "\(error)\n\(server.logTail())") }
            if case .success(200) = HTTPProbe.request("http://127.0.0.1:\(port)/ready").map(\.status) { return true }
            return nil
        }
        return (server, port)
    }

    /// Peak resident memory of a process (VmHWM), in bytes.
    static func peakRSS(_ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
        let kib = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        return kib * 1024
    }

    /// A 64 MB /messages body (a million contacts) and a million-column CSV: refused while they
    /// stream, with the server's peak memory under 150 MB. Before: 1.1 GB and 2.0 GB.
    @Test(.enabled(if: curl != nil || CLI.toolsRequired, "curl is not on PATH"))
    func hostileBodiesAreRefusedWithinMemoryBudget() async throws {
        let curl = try #require(Self.curl, "EMMY_REQUIRE_TOOLS=1 but curl is not on PATH")
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (server, port) = try await Self.serve(in: dir)
        defer { server.stop() }

        // 64 MB of JSON: one million contacts of 64 bytes.
        let json = dir.appendingPathComponent("big.json")
        var contact = #"{"phone":"+254712345678","name":"Amina Wanjiru Odhiambo Kamau"}"#
        contact += String(repeating: " ", count: 63 - contact.utf8.count) + ","
        let contacts = String(repeating: contact, count: 1_000_000)
        try Data((#"{"message":"Hi {name}","contacts":["# + contacts.dropLast() + "]}").utf8).write(to: json)
        // A CSV with a million columns in each of 20 rows (40 MB).
        let csv = dir.appendingPathComponent("wide.csv")
        let row = String(repeating: "x,", count: 1_000_000) + "x\n"
        try Data(("phone," + row.dropFirst(2) + String(repeating: row, count: 19)).utf8).write(to: csv)

        let base = "http://127.0.0.1:\(port)"
        let messages = try ProcessRunner().run(curl, ["-sS", "-o", "-", "-w", "\n%{http_code}", "-H", "Content-Type: application/json",
                                                      "--data-binary", "@\(json.path)", "\(base)/messages"])
        #expect(messages.stdout.hasSuffix("\n413"), "\(messages.stdout.suffix(300)) \(messages.stderr)")
        #expect(messages.stdout.contains("too_many_contacts"))
        let upload = try ProcessRunner().run(curl, ["-sS", "-o", "-", "-w", "\n%{http_code}", "--form", "csvFile=@\(csv.path)",
                                                    "--form", "message=Hi", "\(base)/upload"])
        #expect(upload.stdout.hasSuffix("\n422"), "\(upload.stdout.suffix(300)) \(upload.stderr)")
        #expect(upload.stdout.contains("too_many_columns"))

        try server.checkAlive()
        let peak = try Self.peakRSS(server.pid)
        #expect(peak < 150 * 1024 * 1024, "peak RSS \(peak / 1024 / 1024) MB")
    }

    /// 2,000 idle, half-sent connections against a server started with the usual soft
    /// descriptor limit of 1024: /health still answers within a second and the process lives.
    /// Before, about a thousand exhausted the descriptors and the server stopped answering.
    @Test func idleConnectionsLeaveHealthAnswering() async throws {
        // This test process holds the 2,000 client sockets.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let needed: rlim_t = 2_000 + 512
        try #require(limit.rlim_max >= needed, "the hard descriptor limit \(limit.rlim_max) is below \(needed)")
        if limit.rlim_cur < needed {
            limit.rlim_cur = needed
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (server, port) = try await Self.serve(in: dir, softDescriptorLimit: 1024)
        defer { server.stop() }

        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        for _ in 0..<2_000 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            try #require(fd >= 0, "the test ran out of descriptors")
            sockets.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            try #require(connected == 0, "connect failed: errno \(errno)")
            _ = "GET /health HTTP/1.1\r\nHost: idle\r\n".withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        }
        // Each probe gets one second; the server may still be accepting the backlog at first.
        try await poll("/health within 1 s past 2,000 idle connections", timeout: .seconds(20)) { () -> Bool? in
            try server.checkAlive()
            let started = ContinuousClock.now
            guard case .success(200) = HTTPProbe.request("http://127.0.0.1:\(port)/health", timeout: 1).map(\.status) else { return nil }
            return ContinuousClock.now - started < .seconds(1) ? true : nil
        }
        try server.checkAlive()
    }
}
