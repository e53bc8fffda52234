import EmmyApp
import EmmyOpsKit
import Foundation
import Testing

/// The managed nginx and the app it fronts must agree (issue 18's proxy suspicions): each was
/// confirmed against the rendered configuration of the seed's version and fixed here.
@Suite(.serialized) struct NginxConfigTests {
    static let nginx = "/usr/sbin/nginx"
    static var tools: Bool { (FileManager.default.isExecutableFile(atPath: nginx) && ProcessRunner.which("curl") != nil) || CLI.toolsRequired }

    static func rendered() throws -> String {
        try ProxySwitch.render(listen: "0.0.0.0", httpPort: 80, metricsPath: "/metrics", drainSeconds: 30, version: "v1")
    }

    /// The value of the first `name value;` directive.
    static func directive(_ name: String, in config: String) -> String? {
        for line in config.split(separator: "\n") {
            let words = line.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
            if words.count == 2, words[0] == name { return String(words[1].dropLast()) }
        }
        return nil
    }

    /// nginx sizes: `512m` → bytes.
    static func bytes(_ size: String) -> Int? {
        let units: [Character: Int] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30]
        guard let unit = size.last.flatMap({ units[$0] }) else { return Int(size) }
        return Int(size.dropLast()).map { $0 * unit }
    }

    /// Was 20m: an upload the app accepts (up to its 512 MiB limit) got nginx's 413.
    @Test func bodyCapIsTheAppsUploadLimitAndBodiesStream() throws {
        let config = try Self.rendered()
        let cap = try #require(Self.directive("client_max_body_size", in: config).flatMap(Self.bytes))
        #expect(cap >= ServerConfig.Limits().uploadBytes, "nginx refuses uploads the app accepts: \(cap) bytes")
        #expect(Self.directive("proxy_request_buffering", in: config) == "off", "nginx would spool a second copy of each upload first")
    }

    /// Was 60s: the app answers an upload once every row is queued, which for a large file
    /// takes longer than that, so nginx answered 504 while the batch carried on.
    @Test func proxyWaitsLongEnoughForALargeIngest() throws {
        let timeout = try #require(Self.directive("proxy_read_timeout", in: try Self.rendered()))
        let seconds = try #require(Int(timeout.dropLast()), "\(timeout)")
        #expect(timeout.hasSuffix("s") && seconds >= 600, "proxy_read_timeout \(timeout)")
    }

    /// Was: the app trusted no proxy by default, so every client behind nginx shared one bucket.
    /// The real nginx (rendered config) in front of `emmyops serve` with the default spec but for
    /// a `messages` limit of 1/minute (so the test does not race the clock); two clients on
    /// different loopback addresses: the first one's second post is limited, the other's first is not.
    @Test(.enabled(if: tools, "nginx or curl is not installed"))
    func clientsBehindTheManagedNginxHaveTheirOwnBuckets() async throws {
        let curl = try #require(ProcessRunner.which("curl"), "EMMY_REQUIRE_TOOLS=1 but curl is not on PATH")
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ports = try LoopbackPorts.pick(2)
        let (appPort, proxyPort) = (ports[0], ports[1])
        let prefix = dir.appendingPathComponent("nginx")
        for folder in ["logs", "temp"] { try FileManager.default.createDirectory(at: prefix.appendingPathComponent(folder), withIntermediateDirectories: true) }
        try ProxySwitch.render(listen: "127.0.0.1", httpPort: proxyPort, metricsPath: "/metrics", drainSeconds: 1, version: "v1")
            .write(to: prefix.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        try ProxySwitch.upstream(port: appPort).write(to: prefix.appendingPathComponent("upstream.conf"), atomically: true, encoding: .utf8)
        let spec = dir.appendingPathComponent("emmy.yaml")
        try "version: 1\napp:\n  rate_limits:\n    messages: 1/minute\n".write(to: spec, atomically: true, encoding: .utf8)
        let app = try ProcessHarness(name: "serve", executable: CLI.binary,
                                     arguments: ["serve", "--spec", spec.path, "--port", "\(appPort)", "--data-dir", dir.appendingPathComponent("data").path],
                                     logDirectory: dir)
        defer { app.stop() }
        let proxy = try ProcessHarness(name: "nginx", executable: Self.nginx,
                                       arguments: ["-p", prefix.path + "/", "-c", prefix.path + "/nginx.conf", "-e", prefix.path + "/logs/error.log",
                                                   "-g", "daemon off;"], logDirectory: dir)
        defer { proxy.stop() }
        try await poll("EmmyApp /ready through nginx", timeout: .seconds(20)) { () -> Bool? in
            try app.checkAlive()
            try proxy.checkAlive()
            if case .success(200) = HTTPProbe.request("http://127.0.0.1:\(proxyPort)/ready").map(\.status) { return true }
            return nil
        }
        func post(from address: String, phone: String) throws -> String {
            try ProcessRunner().run(curl, ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--interface", address, "-H", "Content-Type: application/json",
                                           "--data", #"{"contacts":[{"phone":"\#(phone)"}],"message":"hi"}"#,
                                           "http://127.0.0.1:\(proxyPort)/messages"]).stdout
        }
        let outcome = [try post(from: "127.0.0.2", phone: "+254712345601"), try post(from: "127.0.0.2", phone: "+254712345602"),
                       try post(from: "127.0.0.3", phone: "+254712345603")]
        #expect(outcome == ["202", "429", "202"], "\(outcome): 127.0.0.3 must not pay for 127.0.0.2's requests\n\(app.logTail())")
    }

    @Test func appTrustsTheAddressNginxConnectsFrom() throws {
        let config = try Self.rendered()
        #expect(config.contains("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"))
        // nginx reaches the release on loopback (upstream.conf), which the default spec trusts.
        #expect(ProxySwitch.upstream(port: 5001).contains("127.0.0.1:5001"))
        #expect(Set(AppConfig().trustedProxies).contains("127.0.0.1"))
    }
}
