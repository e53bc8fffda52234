import EmmyApp
import EmmyOpsKit
import Foundation
import Testing

/// The managed nginx and the app it fronts must agree (issue 18's proxy suspicions): each was
/// confirmed against the rendered configuration of the seed's version and fixed here.
@Suite struct NginxConfigTests {
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
    @Test func appTrustsTheAddressNginxConnectsFrom() throws {
        let config = try Self.rendered()
        #expect(config.contains("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"))
        // nginx reaches the release on loopback (upstream.conf), which the default spec trusts.
        #expect(ProxySwitch.upstream(port: 5001).contains("127.0.0.1:5001"))
        #expect(Set(AppConfig().trustedProxies).contains("127.0.0.1"))
    }
}
