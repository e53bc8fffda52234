import EmmyOpsKit
import Foundation
import Testing

/// Issue 17: curl sends `Expect: 100-continue` with every body over 1 MB and waits a second for
/// `100 Continue` before sending it. Asserted on curl's own trace (it logs the 100 it received,
/// or that it gave up waiting), not on timings.
@Suite(.serialized) struct ExpectContinueTests {
    static var curl: String? { ProcessRunner.which("curl") }

    /// A 100,000-row CSV (about 3 MB): curl asks before sending it.
    static func bigCSV(in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("big.csv")
        var text = "phone,name\n"
        for row in 0..<100_000 { text += "+2547\(String(format: "%08d", row)),Name \(row)\n" }
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test(.enabled(if: curl != nil || CLI.toolsRequired, "curl is not on PATH"))
    func plainCurlUploadGetsContinueAndRefusalsDoNot() async throws {
        let curl = try #require(Self.curl, "EMMY_REQUIRE_TOOLS=1 but curl is not on PATH")
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (server, port) = try await ServeLimitsTests.serve(in: dir)
        defer { server.stop() }
        let csv = try Self.bigCSV(in: dir)
        let url = "http://127.0.0.1:\(port)/upload"
        // Long enough that a missing 100 shows as a hang the harness reports, not a quiet second.
        let wait = ["--expect100-timeout", "120"]

        let upload = try ProcessRunner().run(curl, ["-sS", "-v", "-o", "-", "-w", "\n%{http_code}"] + wait
                                             + ["-F", "csvFile=@\(csv.path)", "-F", "message=Hi {name}", url])
        #expect(upload.stderr.contains("< HTTP/1.1 100 Continue"), "\(upload.stderr.suffix(2000))")
        #expect(!upload.stderr.contains("Done waiting for 100-continue"))
        #expect(upload.stdout.hasSuffix("\n202"), "\(upload.stdout.suffix(500))")
        #expect(upload.stdout.contains("\"accepted\":100000"), "\(upload.stdout.prefix(500))")

        // Refused on the head: a final answer instead of a 100, and the body is never sent.
        let crossSite = try ProcessRunner().run(curl, ["-sS", "-v", "-o", "/dev/null", "-w", "%{http_code}"] + wait
                                                + ["-H", "Origin: http://evil.example", "-F", "csvFile=@\(csv.path)", url])
        #expect(crossSite.stdout == "403", "\(crossSite.stdout) \(crossSite.stderr.suffix(1500))")
        #expect(!crossSite.stderr.contains("100 Continue"))
        let wrongType = try ProcessRunner().run(curl, ["-sS", "-v", "-o", "/dev/null", "-w", "%{http_code}"] + wait
                                                + ["-H", "Content-Type: text/csv", "-H", "Expect: 100-continue", "--data-binary", "@\(csv.path)", url])
        #expect(wrongType.stdout == "415", "\(wrongType.stdout) \(wrongType.stderr.suffix(1500))")
        #expect(!wrongType.stderr.contains("100 Continue"))
        try server.checkAlive()
    }
}
