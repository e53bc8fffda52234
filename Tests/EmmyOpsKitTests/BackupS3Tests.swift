import AsyncHTTPClient
import Crypto
@testable import EmmyOpsKit
import Foundation
import Testing

/// The S3 target for real: SigV4 against botocore's own signer, uploads to moto on loopback
/// (single and multipart, checked by boto3), and a fault-injecting proxy between the two.
@Suite struct BackupS3Tests {
    /// The moto virtualenv scripts/install-deps.sh makes; botocore and boto3 come with moto.
    static let python = "/opt/emmyops-tools/moto/bin/python"

    static let botocoreSigner = #"""
    import base64, datetime, json, sys
    import botocore.auth
    from botocore.auth import SigV4Auth, S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    cases = json.load(open(sys.argv[1]))
    out = []
    for case in cases:
        fixed = datetime.datetime.strptime(case["date"], "%Y%m%dT%H%M%SZ")
        botocore.auth.get_current_datetime = lambda *a, **k: fixed
        answers = []
        for cls in (SigV4Auth, S3SigV4Auth):
            request = AWSRequest(method=case["method"], url=case["url"], data=base64.b64decode(case["body"]),
                                 headers={k: v for k, v in case["headers"]})
            cls(Credentials(case["key"], case["secret"], case.get("token")), "s3", case["region"]).add_auth(request)
            answers.append(request.headers["Authorization"])
        out.append(answers)
    json.dump(out, sys.stdout)
    """#

    @Test func sigV4MatchesBotocoreByteForByte() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let date = Date(timeIntervalSince1970: 1_764_560_000)
        let body = Data("{\"id\": \"x\"}".utf8)
        let bodyHash = SHA256.hash(data: body).hexString
        let empty = SHA256.hash(data: Data()).hexString
        let checksum = Data(SHA256.hash(data: body)).base64EncodedString()
        typealias Case = (method: String, host: String, path: String, query: [(String, String?)], headers: [(String, String)], body: Data, token: String?, region: String)
        let cases: [Case] = [
            ("PUT", "127.0.0.1:5000", "/bucket/prod/20261201T000000Z-abcd.manifest.json", [], [("x-amz-checksum-sha256", checksum), ("content-type", "application/json")], body, nil, "us-east-1"),
            ("GET", "acme-emmy-backups.s3.eu-west-1.amazonaws.com", "/prod/a.sqlite.zst.age", [], [], Data(), "FwoGZXIvYXdzEJr//////////token+with/slashes==", "eu-west-1"),
            ("GET", "127.0.0.1:5000", "/bucket/", [("list-type", "2"), ("prefix", "prod/"), ("continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")], [], Data(), nil, "us-east-1"),
            ("POST", "127.0.0.1:5000", "/bucket/prod/x.age", [("uploads", nil)], [("x-amz-checksum-algorithm", "SHA256")], Data(), nil, "us-east-1"),
            ("PUT", "127.0.0.1:5000", "/bucket/prod/x.age", [("uploadId", "a b+c/d=="), ("partNumber", "10")], [("x-amz-checksum-sha256", checksum)], body, "session", "ap-southeast-2"),
            ("HEAD", "s3.amazonaws.com", "/bucket/prod/x.age", [], [("x-amz-checksum-mode", "ENABLED"), ("X-Custom", "  spaced   value  ")], Data(), nil, "us-east-1"),
            ("DELETE", "127.0.0.1:5000", "/bucket/prod/%20space%2Bplus.age", [], [], Data(), nil, "us-east-1"),
        ]
        var json: [[String: Any]] = []
        var ours: [String] = []
        for c in cases {
            let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: c.token)
            let request = SigV4Signer.Request(method: c.method, host: c.host, encodedPath: c.path, query: c.query, headers: c.headers,
                                              payloadHash: c.body.isEmpty ? empty : bodyHash)
            let signed = SigV4Signer(credentials: credentials, region: c.region).sign(request, date: date)
            ours.append(signed.first { $0.0 == "authorization" }!.1)
            let query = request.canonicalQuery
            var item: [String: Any] = [
                "method": c.method, "url": "http://\(c.host)\(c.path)\(query.isEmpty ? "" : "?" + query)", "date": SigV4Signer.timestamp(date),
                "headers": signed.filter { !["authorization", "host"].contains($0.0) }.map { [$0.0, $0.1] },
                "body": c.body.base64EncodedString(), "key": credentials.accessKeyID, "secret": credentials.secretAccessKey, "region": c.region,
            ]
            if let token = c.token { item["token"] = token }
            json.append(item)
        }
        let casesFile = directory.appendingPathComponent("cases.json")
        try JSONSerialization.data(withJSONObject: json).write(to: casesFile)
        let script = directory.appendingPathComponent("sign.py")
        try Self.botocoreSigner.write(to: script, atomically: true, encoding: .utf8)
        let output = try ProcessRunner().run(Self.python, [script.path, casesFile.path], timeout: 60)
        #expect(output.status == 0, "\(output.stderr)")
        let theirs = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String]])
        #expect(theirs.count == cases.count)
        for (index, answers) in theirs.enumerated() {
            // Generic SigV4 encodes an already-encoded path a second time; S3 does not. Keys
            // emmyops writes never need escaping, so there the two agree as well.
            if !cases[index].path.contains("%") {
                #expect(answers[0] == ours[index], "SigV4Auth, case \(index) (\(cases[index].method) \(cases[index].path))")
            }
            #expect(answers[1] == ours[index], "S3SigV4Auth, case \(index) (\(cases[index].method) \(cases[index].path))")
        }
    }

    static let boto3Head = #"""
    import boto3, json, sys
    s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    listed = s3.list_objects_v2(Bucket=sys.argv[2], Prefix=sys.argv[3])
    out = {}
    for obj in listed.get("Contents", []):
        head = s3.head_object(Bucket=sys.argv[2], Key=obj["Key"], ChecksumMode="ENABLED")
        out[obj["Key"]] = {"size": head["ContentLength"], "sha256": head.get("ChecksumSHA256")}
    json.dump(out, sys.stdout)
    """#

    /// `s3://emmy-backups/prod` at `endpoint`, path-style, with moto's test keys; parts of 5 MiB
    /// (S3's smallest), so a database of a few MiB goes up in two parts.
    static func target(_ endpoint: String) throws -> S3Target {
        var settings = Backup()
        settings.endpoint = endpoint
        settings.pathStyle = true
        let target = try S3Target(url: "s3://emmy-backups/prod", settings: settings,
                                  environment: ["AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_EC2_METADATA_DISABLED": "true"])
        target.multipartThreshold = 5 * 1024 * 1024
        target.partSize = 5 * 1024 * 1024
        target.retryBase = 0.02
        return target
    }

    /// 40,000 messages with random bodies: an object over 5 MiB once compressed.
    static func world() throws -> BackupWorld { try BackupWorld(messages: 40_000, bodyBytes: 300, randomBodies: true) }

    @Test func createVerifyAndRestoreThroughMotoSingleAndMultipart() async throws {
        let moto = try await MotoServer(amiName: "unused")
        defer { moto.stop() }
        // 40,000 random-bodied messages make an object over 5 MiB (S3's smallest part), so a
        // 5 MiB threshold sends it in two parts, while the manifest and sidecar go as single PUTs.
        let world = try Self.world()
        defer { world.remove() }
        let target = try Self.target(moto.endpoint)
        _ = try await target.send("PUT", key: nil)  // CreateBucket
        var backups = try world.backups()
        backups.target = target
        let manifest = try await backups.create()
        #expect(manifest.storedBytes > 5 * 1024 * 1024, "the object must need two parts")
        let listed = try await backups.list()
        #expect(listed.map(\.id) == [manifest.id])
        let record = try await backups.verify(.latest)
        #expect(record.ok)

        // boto3 sees what emmyops sent: sizes, and the SHA-256 checksums (composite for the parts).
        let script = world.root.appendingPathComponent("head.py")
        try Self.boto3Head.write(to: script, atomically: true, encoding: .utf8)
        let output = try ProcessRunner().run(Self.python, [script.path, moto.endpoint, "emmy-backups", "prod/"], timeout: 60)
        #expect(output.status == 0, "\(output.stderr)")
        let heads = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: [String: Any]])
        let object = try #require(heads["prod/" + BackupKeys.object(manifest.id)])
        #expect((object["size"] as? Int).map(Int64.init) == manifest.storedBytes)
        // The composite S3 keeps for a multipart object: SHA-256 over the parts' SHA-256s (AWS
        // appends `-2`, moto does not).
        final class Collect: ByteSink {
            var data = Data()
            func write(_ bytes: ArraySlice<UInt8>) throws { data.append(contentsOf: bytes) }
            func finish() throws {}
        }
        let stored = Collect()
        try await target.download(BackupKeys.object(manifest.id), into: stored)
        let partSums = stride(from: 0, to: stored.data.count, by: target.partSize).map { start in
            Data(SHA256.hash(data: stored.data[start..<min(start + target.partSize, stored.data.count)]))
        }
        #expect(partSums.count == 2)
        let composite = Data(SHA256.hash(data: partSums.reduce(Data(), +))).base64EncodedString()
        #expect([composite, composite + "-2"].contains(object["sha256"] as? String ?? ""), "composite checksum of two parts: \(object)")
        let manifestHead = try #require(heads["prod/" + BackupKeys.manifest(manifest.id)])
        let manifestData = try #require(try await target.get(BackupKeys.manifest(manifest.id)))
        #expect(manifestHead["sha256"] as? String == Data(SHA256.hash(data: manifestData)).base64EncodedString())

        // The CLI finds the store the SDKs' way (AWS_ENDPOINT_URL_S3, keys from the environment).
        let cliSpec = world.root.appendingPathComponent("s3.yaml")
        try "version: 1\nbackup:\n  target: s3://emmy-backups/prod\n  recipients: [\(world.recipient)]\n  path_style: true\n"
            .write(to: cliSpec, atomically: true, encoding: .utf8)
        let environment = ProcessInfo.processInfo.environment.merging(
            ["AWS_ENDPOINT_URL_S3": moto.endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_EC2_METADATA_DISABLED": "true"]) { _, new in new }
        let cliList = try CLI.run(["backup", "list", "--spec", cliSpec.path, "--data-dir", world.dataDirectory], in: world.root, environment: environment)
        #expect(cliList.status == 0 && cliList.stdout.contains("\(manifest.id)") && cliList.stdout.contains("verified"), "\(cliList.stdout)\(cliList.stderr)")

        let outcome = try await backups.restore(.latestVerified, dryRun: false) { restored, _ in
            try DatabaseSwap.swap(restored: restored, into: world.databasePath)
        }
        #expect(try DatabaseSnapshot.inspect(world.databasePath).tables == manifest.tables && outcome.id == manifest.id)
    }

    /// A proxy that forwards to moto but injects faults into chosen requests, once each.
    static let faultProxy = #"""
    import http.client, socket, sys, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    port, upstream = int(sys.argv[1]), int(sys.argv[2])
    # Each rule: METHOD, a substring of the path+query, and the fault; used once, in order.
    rules = [r.split("|") for r in sys.argv[3:]]
    lock = threading.Lock()
    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *a): pass
        def handle_one(self):
            length = int(self.headers.get("Content-Length") or 0)
            fault = None
            with lock:
                for rule in rules:
                    if rule[0] == self.command and rule[1] in self.path:
                        fault = rule[2]; rules.remove(rule); break
            print(self.command, self.path, fault or "-", flush=True)
            if fault == "drop":
                self.rfile.read(min(length, 65536))
                self.connection.shutdown(socket.SHUT_RDWR); self.connection.close(); self.close_connection = True
                return
            body = self.rfile.read(length) if length else b""
            if fault in ("500", "503"):
                code = "InternalError" if fault == "500" else "SlowDown"
                payload = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
                self.send_response(int(fault)); self.send_header("Content-Length", str(len(payload))); self.end_headers()
                if self.command != "HEAD": self.wfile.write(payload)
                return
            conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                    self.send_header(k, v)
            if fault == "truncate":
                self.send_header("Content-Length", str(len(data) + 100)); self.end_headers()
                self.wfile.write(data[: len(data) // 2]); self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR); self.connection.close(); self.close_connection = True
                return
            # A HEAD answer has no body but the object's length.
            self.send_header("Content-Length", resp.getheader("Content-Length", "0") if self.command == "HEAD" else str(len(data)))
            self.end_headers()
            if self.command != "HEAD": self.wfile.write(data)
        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_one
    ThreadingHTTPServer(("127.0.0.1", port), Proxy).serve_forever()
    """#

    static func proxy(to moto: MotoServer, rules: [String], in directory: URL) async throws -> (ProcessHarness, String) {
        let port = try LoopbackPorts.pick(1)[0]
        let script = directory.appendingPathComponent("proxy-\(port).py")
        try Self.faultProxy.write(to: script, atomically: true, encoding: .utf8)
        let harness = try ProcessHarness(name: "proxy-\(port)", executable: Self.python, arguments: ["-u", script.path, String(port), String(moto.port)] + rules,
                                         logDirectory: directory)
        _ = try await poll("fault proxy on \(port)", timeout: .seconds(20)) { () -> Bool? in
            try harness.checkAlive()
            return SSHHosts.canConnect(port) ? true : nil
        }
        return (harness, "http://127.0.0.1:\(port)")
    }

    @Test func faultsBetweenEmmyopsAndMotoRetryOrFailWithoutAManifest() async throws {
        let moto = try await MotoServer(amiName: "unused")
        defer { moto.stop() }
        let world = try Self.world()
        defer { world.remove() }
        _ = try await Self.target(moto.endpoint).send("PUT", key: nil)

        // Each fault once: a connection dropped mid-part, 500 and 503 SlowDown on parts, a
        // truncated answer to the completion, a 500 on the manifest. All recovered by retries.
        let (proxy, endpoint) = try await Self.proxy(to: moto, rules: [
            "PUT|partNumber=1|drop", "PUT|partNumber=2|500", "PUT|partNumber=2|503", "HEAD|.age|503",
            "POST|uploadId|truncate", "PUT|manifest.json|500",
        ], in: world.root)
        defer { proxy.stop() }
        var backups = try world.backups()
        backups.target = try Self.target(endpoint)
        let manifest = try await backups.create()
        let log = (try? String(contentsOf: proxy.logURL, encoding: .utf8)) ?? ""
        let injected = log.split(separator: "\n").filter { !$0.hasSuffix(" -") }
        #expect(injected.count == 6, "every fault fired once: \(log)")
        #expect(try await backups.verify(.id(manifest.id)).ok, "the retried upload is whole")

        // Downloads too: a 503, a dropped connection, and bodies cut off midway twice (resumed
        // with a Range request from the last byte received). Verify sees the whole object once.
        let (downloads, downloadEndpoint) = try await Self.proxy(to: moto, rules: [
            "GET|.sqlite.zst.age|503", "GET|.sqlite.zst.age|drop", "GET|.sqlite.zst.age|truncate", "GET|.sqlite.zst.age|truncate",
        ], in: world.root)
        defer { downloads.stop() }
        var reading = backups
        reading.target = try Self.target(downloadEndpoint)
        #expect(try await reading.verify(.id(manifest.id)).ok, "the resumed download is whole")
        let downloadLog = (try? String(contentsOf: downloads.logURL, encoding: .utf8)) ?? ""
        #expect(downloadLog.split(separator: "\n").filter { !$0.hasSuffix(" -") }.count == 4, "every download fault fired once: \(downloadLog)")

        // A store that keeps failing: create says so, and no manifest names a broken object.
        let (failing, failingEndpoint) = try await Self.proxy(to: moto, rules: Array(repeating: "POST|uploadId|500", count: 10), in: world.root)
        defer { failing.stop() }
        backups.target = try Self.target(failingEndpoint)
        do {
            _ = try await backups.create()
            Issue.record("create succeeded although every completion failed")
        } catch {
            #expect("\(error)".contains("failed after 5 attempts: HTTP 500 InternalError"), "\(error)")
        }
        #expect(try await backups.list().map(\.id) == [manifest.id], "only the whole backup is listed")
    }

    @Test func credentialsComeFromTheEnvironmentThenAProfileThenIMDSv2() async throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("credentials")
        try "[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = s1\n\n[backup]\naws_access_key_id=AKPROFILE\naws_secret_access_key=s2\naws_session_token = t2\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let client = HTTPClient.shared
        let env = ["AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "s0", "AWS_SHARED_CREDENTIALS_FILE": file.path]
        #expect(try await AWSCredentials.resolve(environment: env, client: client).accessKeyID == "AKENV")
        #expect(try await AWSCredentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file.path], client: client).accessKeyID == "AKDEFAULT")
        let profile = try await AWSCredentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file.path, "AWS_PROFILE": "backup"], client: client)
        #expect(profile == AWSCredentials(accessKeyID: "AKPROFILE", secretAccessKey: "s2", sessionToken: "t2"))
        await #expect(throws: BackupError.self) {
            try await AWSCredentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file.path, "AWS_PROFILE": "missing"], client: client)
        }

        // IMDSv2 on loopback: the token must come from a PUT and be sent on every GET.
        let port = try LoopbackPorts.pick(1)[0]
        let imds = try FixtureServers.start("imds", script: #"""
        import json, sys
        from http.server import BaseHTTPRequestHandler, HTTPServer
        class H(BaseHTTPRequestHandler):
            def reply(self, code, body):
                self.send_response(code); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
            def do_PUT(self):
                ok = self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
                self.reply(200 if ok else 400, b"TOKEN")
            def do_GET(self):
                if self.headers.get("X-aws-ec2-metadata-token") != "TOKEN": return self.reply(401, b"")
                if self.path == "/latest/meta-data/iam/security-credentials/": return self.reply(200, b"emmy-host\n")
                if self.path == "/latest/meta-data/iam/security-credentials/emmy-host":
                    return self.reply(200, json.dumps({"Code": "Success", "AccessKeyId": "ASIAIMDS", "SecretAccessKey": "s3", "Token": "t3"}).encode())
                self.reply(404, b"")
        HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
        """#, arguments: [String(port)], in: directory)
        defer { imds.stop() }
        _ = try await poll("imds", timeout: .seconds(20)) { () -> Bool? in try imds.checkAlive(); return SSHHosts.canConnect(port) ? true : nil }
        let fromIMDS = try await AWSCredentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": directory.appendingPathComponent("none").path,
                                                                      "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(port)"], client: client)
        #expect(fromIMDS == AWSCredentials(accessKeyID: "ASIAIMDS", secretAccessKey: "s3", sessionToken: "t3"))
    }
}
