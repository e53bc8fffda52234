import EmmyOpsKit
import Foundation
import Testing

/// `emmyops serve` as users run it, driven by the seed README's own curl commands.
@Suite(.serialized) struct ServeTests {
    static var curl: String? { ProcessRunner.which("curl") }

    @Test(.enabled(if: curl != nil || CLI.toolsRequired, "curl is not on PATH"))
    func seedCurlExamplesWorkUnchanged() async throws {
        let curl = try #require(Self.curl, "EMMY_REQUIRE_TOOLS=1 but curl is not on PATH")
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try LoopbackPorts.pick(1)[0]
        let server = try ProcessHarness(name: "serve", executable: CLI.binary,
                                        arguments: ["serve", "--port", "\(port)", "--data-dir", dir.appendingPathComponent("data").path],
                                        logDirectory: dir)
        defer { server.stop() }
        try await poll("EmmyApp /ready", timeout: .seconds(20)) { () -> Bool? in
            try server.checkAlive()
            if case .success(200) = HTTPProbe.request("http://127.0.0.1:\(port)/ready").map(\.status) { return true }
            return nil
        }
        let base = "http://localhost:\(port)"

        // The seed README's JSON example, byte for byte apart from the port.
        let json = try ProcessRunner().run(curl, ["-sS", "--request", "POST", "--url", "\(base)/messages",
            "--header", "Content-Type: application/json", "--header", "User-Agent: insomnia/11.4.0", "--data", """
             {
           "contacts": [
             {
        			 "phone": "25475552671",
        			 "name": "Jane",
        			 "company": "Soma Readers Platform"
        		 },
        		  {
        			 "phone": "+25475552671",
        			 "name": "Mukwano",
        			 "company": "Mabenga Suppliers"
        		 },
        		 {
        			 "phone": "+25475552673",
        			 "name": "Wafula",
        			 "company": "Jangi Millers"
        		 }

           ],
           "message": "Hello, {name} your company {company} has been approved for tranfers."
        }
        """])
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)\(json.stderr)")
        #expect(answer["rejected"] as? Int == 3, "the README's numbers are all invalid: \(answer)")
        #expect((answer["errors"] as? [[String: Any]])?.count == 3)

        // The seed README's upload example, with a contacts.csv like the web UI's.
        let csv = dir.appendingPathComponent("contacts.csv")
        try "phone,name,company\n+254712345678,Jane,Soma Readers Platform\n+254722345679,Wafula,Jangi Millers\n"
            .write(to: csv, atomically: true, encoding: .utf8)
        let upload = try ProcessRunner().run(curl, ["-sS", "--request", "POST", "--url", "\(base)/upload",
            "--form", "csvFile=@\(csv.path)", "--form", "message=Hello {name}, your company {company} has been selected!"])
        let uploaded = try #require(try JSONSerialization.jsonObject(with: Data(upload.stdout.utf8)) as? [String: Any], "\(upload.stdout)")
        #expect(uploaded["accepted"] as? Int == 2, "\(uploaded)")

        // Logs are JSON lines with a request id.
        try server.checkAlive()
        let log = try String(contentsOf: server.logURL, encoding: .utf8)
        let requestLines = log.split(separator: "\n").filter { $0.contains("\"message\":\"request\"") }
        #expect(requestLines.count >= 3)
        #expect(requestLines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil && $0.contains("request_id") })
    }
}
