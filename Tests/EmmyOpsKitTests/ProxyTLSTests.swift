@testable import EmmyOpsKit
import Foundation
import Testing

/// `deploy.proxy.tls`: nginx serves HTTPS (HTTP/1.1 and HTTP/2) with a certificate from a
/// throw-away CA, redirects plain HTTP except the ACME challenge, and sends HSTS.
@Suite("TLS on the managed nginx", .serialized)
struct ProxyTLSTests {
    /// A CA and a server certificate for 127.0.0.1 and localhost, made by openssl in `dir`.
    struct TestCA {
        var ca: String
        var certificate: String
        var key: String

        init(in dir: String) throws {
            ca = dir + "/ca.pem"
            certificate = dir + "/server.pem"
            key = dir + "/server.key"
            let ext = dir + "/server.ext"
            try "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                .write(toFile: ext, atomically: true, encoding: .utf8)
            let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            for argv in [
                ["req", "-x509"] + ec + ["-keyout", dir + "/ca.key", "-out", ca, "-days", "2", "-subj", "/CN=emmyops test CA",
                                         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"],
                ["req"] + ec + ["-keyout", key, "-out", dir + "/server.csr", "-subj", "/CN=localhost"],
                ["x509", "-req", "-in", dir + "/server.csr", "-CA", ca, "-CAkey", dir + "/ca.key", "-set_serial", "1", "-days", "2",
                 "-extfile", ext, "-out", certificate],
            ] {
                let out = try ProcessRunner().run("/usr/bin/openssl", argv)
                guard out.status == 0 else { throw LoopbackPorts.Failure(description: "openssl \(argv[0]): \(out.stderr)") }
            }
        }
    }

    static func spec(_ tls: String) -> SpecLoader.Result {
        SpecLoader.load(text: "version: 1\nhosts: [{ name: a, address: 10.0.0.1 }]\ndeploy:\n  proxy:\n    tls: \(tls)\n", file: "emmy.yaml")
    }

    @Test func tlsNeedsACertificateAndKeyOrAnACMEFolder() throws {
        let good = try #require(Self.spec("{ acme_directory: /etc/letsencrypt/live/sms.example.com }").spec)
        let target = DeployTarget(host: good.hosts[0], spec: good)
        #expect(target.tls?.certificatePath == "/etc/letsencrypt/live/sms.example.com/fullchain.pem")
        #expect(target.tls?.keyPath == "/etc/letsencrypt/live/sms.example.com/privkey.pem")
        #expect(target.tls?.acmeWebroot == "/opt/emmy/shared/acme" && target.tls?.httpsPort == 443)
        for (tls, path) in [("{ certificate: /etc/ssl/a.pem }", "deploy.proxy.tls"),
                            ("{ certificate: /a.pem, key: /a.key, acme_directory: /x }", "deploy.proxy.tls.acme_directory"),
                            ("{ certificate: \"/etc/my cert.pem\", key: /a.key }", "deploy.proxy.tls.certificate"),
                            ("{ certificate: /a.pem, key: /a.key, https_port: 80 }", "deploy.proxy.tls.https_port")] {
            let result = Self.spec(tls)
            #expect(result.spec == nil, "\(tls) must be refused")
            #expect(result.diagnostics.contains { $0.path == path && $0.location.line == 5 }, "\(tls): \(result.diagnostics)")
        }
    }

    @Test func withoutTLSTheConfigIsPlainHTTPAsBefore() throws {
        let config = try ProxySwitch.render(listen: "0.0.0.0", httpPort: 80, metricsPath: "/metrics", drainSeconds: 30, version: "v1")
        #expect(!config.contains("ssl") && !config.contains("return 301") && config.contains("listen 0.0.0.0:80;"))
    }

    @Test("deploy with TLS: 443 answers HTTP/1.1 and HTTP/2 for the test CA, 80 redirects but serves the ACME challenge, HSTS is sent",
          .enabled(if: SSHHosts.missing.isEmpty || SSHHosts.required, "\(SSHHosts.skipReason)"), .timeLimit(.minutes(2)))
    func deployServesHTTPS() async throws {
        try await SSHHosts.with(1) { hosts in
            let host = hosts.hosts[0]
            let ca = try TestCA(in: hosts.dir.path)
            let httpsPort = try LoopbackPorts.pick(1)[0]
            let tls = "tls: { certificate: \(ca.certificate), key: \(ca.key), https_port: \(httpsPort) }"
            let spec = try hosts.writeSpec("emmy.yaml", hosts.spec()
                .replacingOccurrences(of: "proxy: { listen_address: 127.0.0.1 }", with: "proxy: { listen_address: 127.0.0.1, \(tls) }"))
            let deploy = try hosts.emmyops(["deploy", "--all", "--version", "v1"], spec: spec)
            #expect(deploy.status == 0, "\(deploy.stdout)\n\(deploy.stderr)")

            let https = "https://127.0.0.1:\(httpsPort)/ready"
            #expect(try Self.curl(["--cacert", ca.ca, "--http1.1", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", https]) == "200 1.1")
            #expect(try Self.curl(["--cacert", ca.ca, "--http2", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", https]) == "200 2")
            let headers = try Self.curl(["--cacert", ca.ca, "-D", "-", "-o", "/dev/null", https]).lowercased()
            #expect(headers.contains("strict-transport-security: max-age=63072000"), "\(headers)")
            // Without the CA the certificate is not trusted: it really is the test CA's.
            #expect(throws: (any Error).self) { try Self.curl(["-o", "/dev/null", https]) }

            let redirect = try Self.curl(["-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "http://127.0.0.1:\(host.httpPort)/ready?x=1"])
            #expect(redirect == "301 https://127.0.0.1:\(httpsPort)/ready?x=1")
            let challenge = host.root + "/shared/acme/.well-known/acme-challenge"
            try FileManager.default.createDirectory(atPath: challenge, withIntermediateDirectories: true)
            try "token-proof".write(toFile: challenge + "/abc123", atomically: true, encoding: .utf8)
            #expect(try Self.curl(["http://127.0.0.1:\(host.httpPort)/.well-known/acme-challenge/abc123"]) == "token-proof")
            // The local Prometheus still scrapes over plain HTTP.
            #expect(try Self.curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(host.httpPort)/metrics"]) == "200")
        }
    }

    /// curl's stdout; throws when curl fails (a TLS error, a refused connection).
    static func curl(_ arguments: [String]) throws -> String {
        let out = try ProcessRunner().run("/usr/bin/curl", ["-sS", "--max-time", "10"] + arguments, timeout: 20)
        guard out.status == 0 else { throw LoopbackPorts.Failure(description: "curl \(arguments.last ?? ""): \(out.stderr)") }
        return out.stdout
    }
}
