@testable import EmmyOpsKit
import Foundation
import Testing

/// Issue 18, defects 7 and 8 and the host-address suspicion, at the loader: aliases inside
/// mapping keys, host names that are paths, host addresses that are shell or ssh syntax.
@Suite struct SpecHostileInputTests {
    /// `a0` is a list of eight scalars and each `aN` a list of eight `*a(N-1)`: `*a7` expands to
    /// 8^8 nodes. Yams hashes a key's full expansion, so a key holding `*a7` took 19 s (issue 18).
    static let ladder: String = {
        var text = "version: 1\na0: &a0 [x, x, x, x, x, x, x, x]\n"
        for level in 1...7 {
            text += "a\(level): &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 8).joined(separator: ", "))]\n"
        }
        return text
    }()

    /// The ladder ends on line 9, so the key under test is on line 10 and later.
    static let aliasKeys: [(yaml: String, line: Int, column: Int)] = [
        ("x: {[*a7]: 1}\n", 10, 6),            // the issue's reproduction
        ("x: {*a7}\n", 10, 5),                 // a flow-mapping entry with no value is a key
        ("x: {[*a7]}\n", 10, 6),
        ("x: [[*a7]: 1]\n", 10, 6),            // a single-pair mapping inside a flow sequence
        ("x: {{k: *a7}: 1}\n", 10, 9),         // the alias is a value, but inside a key
        ("x: {[a, [b, *a7]]: 1}\n", 10, 13),
        ("[*a7]: 1\n", 10, 2),                 // a block mapping's implicit key
        ("x:\n- {[*a7]: 1}\n", 11, 5),          // a key inside a block sequence
        ("x: {?[*a7]: 1}\n", 10, 7),           // in flow context `?` needs no space after it
        ("x:\n  {\n    [*a7]: 1\n  }\n", 12, 6), // a flow mapping over several lines
        ("*a7 : 1\n", 10, 1),
    ]

    @Test(arguments: aliasKeys.indices)
    func anAliasInsideAKeyIsRefusedBeforeYamsHashesIt(_ index: Int) {
        let (yaml, line, column) = Self.aliasKeys[index]
        let start = ContinuousClock.now
        let result = SpecLoader.load(text: Self.ladder + yaml, file: "bomb.yaml")
        let elapsed = ContinuousClock.now - start
        #expect(elapsed < .seconds(3), "took \(elapsed) for \(yaml)")
        #expect(result.spec == nil)
        let diagnostic = result.diagnostics.first { $0.message.contains("cannot be used as a mapping key") }
        #expect(diagnostic?.location == SourceLocation(file: "bomb.yaml", line: line, column: column),
                "\(yaml): \(result.diagnostics.map(\.description))")
    }

    @Test func aliasesOutsideKeysAndStarsInTextStillLoad() throws {
        let result = SpecLoader.load(text: """
        version: 1
        # *not: an alias, {[*nor]: this}
        project: "a*b: {[*c]: 1}"
        monitoring: { scrape_interval: &every 10s, evaluation_interval: *every }
        hosts:
          - &web { name: web-1, address: 10.0.0.5 }
        """, file: "emmy.yaml")
        let spec = try #require(result.spec, "\(result.diagnostics)")
        #expect(spec.monitoring.evaluationInterval == .seconds(10))
        #expect(spec.project == "a*b: {[*c]: 1}")
    }

    /// Stars with no alias anywhere: the loader keeps the stand-in copy's tree (one parse)
    /// with every `*` put back, wherever the star was written.
    @Test func starsWithoutAliasesLoadAsWritten() throws {
        let result = SpecLoader.load(text: """
        version: 1
        # *a comment: {[*x]: 1}
        project: 'a*b'
        github: { backup_cron: 17 3 * * * }
        """, file: "emmy.yaml")
        let spec = try #require(result.spec, "\(result.diagnostics)")
        #expect(spec.project == "a*b")
        #expect(spec.github.backupCron == "17 3 * * *")
    }

    @Test func aliasKeysGivenTwiceAreNamedAsWritten() {
        let result = SpecLoader.load(text: Self.ladder + "x: {*a7: 1, *a7: 2}\n", file: "emmy.yaml")
        #expect(result.diagnostics.map(\.message) == ["duplicate key `*a7` in one mapping"], "\(result.diagnostics)")
    }

    @Test func anUndefinedAliasIsStillYamlsError() {
        let result = SpecLoader.load(text: "version: 1\nproject: *nowhere\n", file: "emmy.yaml")
        #expect(result.diagnostics.contains { $0.message.contains("undefined alias") }, "\(result.diagnostics)")
    }

    // MARK: Host names and addresses

    static let badNames = ["../../../../tmp/x/TRAVERSED", "..", "web/1", "web 1", "-web", "web-", "web_1", "web.example.com",
                           "$(id)", "`id`", String(repeating: "a", count: 64), "wéb"]

    @Test(arguments: badNames)
    func aHostNameMustBeADNSLabel(_ name: String) throws {
        let result = SpecLoader.load(text: "version: 1\nhosts:\n  - name: '\(name)'\n    address: 10.0.0.5\n", file: "emmy.yaml")
        #expect(result.spec == nil)
        let diagnostic = try #require(result.diagnostics.first { $0.path == "hosts[0].name" }, "\(result.diagnostics)")
        #expect(diagnostic.message == "host name `\(name)` is not a DNS label")
        #expect(diagnostic.location == SourceLocation(file: "emmy.yaml", line: 3, column: 11))
        #expect(diagnostic.hint?.contains("letters, digits and `-`") == true)
    }

    static let badAddresses = ["$(touch /tmp/pwned)", "`touch /tmp/pwned`", "10.0.0.5 -oProxyCommand=x", "-oProxyCommand=x",
                               "10.0.0.5;id", "host\tname", "web/1", "", "10.0.0.999", "10.0.0.5:22", "a..b", "web_1.example.com",
                               "[::1]", "fe80::1%eth0", "exa mple.com"]

    @Test(arguments: badAddresses)
    func aHostAddressMustBeAnIPOrADNSName(_ address: String) throws {
        let result = SpecLoader.load(text: "version: 1\nhosts: [{ name: web-1, address: \"\(address.replacingOccurrences(of: "\t", with: "\\t"))\" }]\n",
                                     file: "emmy.yaml")
        #expect(result.spec == nil)
        let diagnostic = try #require(result.diagnostics.first { $0.path == "hosts[0].address" }, "\(result.diagnostics)")
        #expect(diagnostic.message == "host address `\(address)` is not an IP address or DNS name")
        #expect(diagnostic.location.line == 2)
    }

    @Test func aLoginInTheAddressPointsAtUser() throws {
        let result = SpecLoader.load(text: "version: 1\nhosts: [{ name: web-1, address: root@10.0.0.5 }]\n", file: "emmy.yaml")
        let diagnostic = try #require(result.diagnostics.first { $0.path == "hosts[0].address" }, "\(result.diagnostics)")
        #expect(diagnostic.message == "host address `root@10.0.0.5` holds a login name")
        #expect(diagnostic.hint == "put the login in `user: root` and only the host in `address`")
        #expect(diagnostic.location == SourceLocation(file: "emmy.yaml", line: 2, column: 33))
    }

    @Test(arguments: ["10.0.0.5", "127.0.0.1", "::1", "2001:db8::5", "localhost", "web-1", "web-1.example.com", "Web-1.Example.COM.",
                      "1e100.net"])
    func ordinaryAddressesStillLoad(_ address: String) throws {
        let result = SpecLoader.load(text: "version: 1\nhosts: [{ name: Web-1, address: \"\(address)\" }]\n", file: "emmy.yaml")
        let spec = try #require(result.spec, "\(result.diagnostics)")
        #expect(spec.hosts[0].address == address)
    }

    @Test func aPathComponentNeverLeavesItsFolder() {
        for name in Self.badNames + ["", ".", "%2E%2E", "web-1"] {
            let component = HostName.pathComponent(name)
            #expect(!component.isEmpty && !component.contains("/") && !component.hasPrefix("."), "\(name) → \(component)")
            #expect(URL(fileURLWithPath: "/base").appendingPathComponent(component + "-compose.yaml").standardizedFileURL.path
                        .hasPrefix("/base/"), "\(name) → \(component)")
        }
        #expect(HostName.pathComponent("web-1") == "web-1")
        #expect(HostName.pathComponent("../x") == "%2E%2E%2Fx")
        #expect(HostName.pathComponent("%2E") != HostName.pathComponent("."))
    }
}
