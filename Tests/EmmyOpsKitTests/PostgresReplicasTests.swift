import EmmyApp
@testable import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Several `emmyops serve` replicas sharing one PostgreSQL: real processes on loopback, a real
/// nginx balancing them, a throw-away PostgreSQL 15 cluster, and the Twilio stand-in counting
/// every message it accepts, so a message sent twice or never shows.
@Suite("Replicas on one PostgreSQL", .serialized, .postgresCluster)
struct PostgresReplicasTests {
    /// Replicas of one spec, each with its own port and data directory, and nginx in front.
    final class Replicas {
        let dir: URL
        let ports: [Int]
        let balancerPort: Int
        let specPath: String
        let environment: [String: String]
        private(set) var servers: [ProcessHarness?]
        private var nginx: ProcessHarness?

        var balancer: String { "http://127.0.0.1:\(balancerPort)" }
        func url(_ replica: Int) -> String { "http://127.0.0.1:\(ports[replica])" }
        func dataDirectory(_ replica: Int) -> String { dir.appendingPathComponent("data-\(replica)").path }

        /// `publicURL` is where the stand-in posts status callbacks (and what signatures are
        /// checked against): the balancer unless a test points it at one replica.
        init(count: Int, database: String, twilio: TwilioTestServer, publicURL: ((Replicas) -> String)? = nil, in dir: URL) throws {
            self.dir = dir
            let picked = try LoopbackPorts.pick(count + 1)
            ports = Array(picked.prefix(count))
            balancerPort = picked[count]
            specPath = dir.appendingPathComponent("emmy.yaml").path
            servers = Array(repeating: nil, count: count)
            let cluster = try PostgresCluster.current
            let passwordFile = dir.appendingPathComponent("pg-password").path
            try Data((cluster.password + "\n").utf8).write(to: URL(fileURLWithPath: passwordFile))
            environment = ProcessInfo.processInfo.environment.merging(
                ["TWILIO_ACCOUNT_SID": twilio.accountSID, "TWILIO_AUTH_TOKEN": twilio.authToken]) { _, new in new }
            let callbackBase = publicURL?(self) ?? "http://127.0.0.1:\(picked[count])"
            try """
            version: 1
            app:
              database: "postgres://\(cluster.user)@127.0.0.1:\(cluster.port)/\(database)"
              database_password_file: \(passwordFile)
              database_tls: disable
              rate_limits: { messages: 1000/second }
              provider:
            \(SendingCrashTests.twilioProvider(twilio))
              sending:
                workers: 8
                backoff_base: 50ms
                backoff_max: 1s
                max_attempts: 60
                public_url: "\(callbackBase)"
            """.write(toFile: specPath, atomically: true, encoding: .utf8)
        }

        /// Starts replica `index` and waits for its /ready.
        func start(_ index: Int) async throws {
            try launch(index)
            try await waitReady(index)
        }

        /// Starts replica `index` without waiting for it.
        func launch(_ index: Int) throws {
            servers[index] = try ProcessHarness(name: "replica-\(index)-\(UUID().uuidString.prefix(4))", executable: CLI.binary,
                                                arguments: ["serve", "--spec", specPath, "--port", "\(ports[index])", "--data-dir", dataDirectory(index)],
                                                logDirectory: dir, environment: environment)
        }

        func waitReady(_ index: Int) async throws {
            guard let server = servers[index] else { return }
            try await poll("replica \(index) /ready", timeout: .seconds(60)) { () -> Bool? in
                do { try server.checkAlive() } catch { throw SendingCrashTests.Failure(error, server.logTail()) }
                if case .success(200) = HTTPProbe.request(url(index) + "/ready").map(\.status) { return true }
                return nil
            }
        }

        /// nginx round-robin over every replica; a replica that refuses connections is skipped.
        func startBalancer() async throws {
            let prefix = dir.appendingPathComponent("nginx").path
            try FileManager.default.createDirectory(atPath: prefix + "/logs", withIntermediateDirectories: true)
            let upstreams = ports.map { "        server 127.0.0.1:\($0) max_fails=1 fail_timeout=2s;" }.joined(separator: "\n")
            try """
            daemon off;
            master_process off;
            worker_processes 1;
            pid logs/nginx.pid;
            error_log logs/error.log warn;
            events { worker_connections 2048; }
            http {
                access_log off;
                client_max_body_size 0;
                client_body_temp_path logs;
                proxy_temp_path logs;
                upstream replicas {
            \(upstreams)
                    keepalive 32;
                }
                server {
                    listen 127.0.0.1:\(balancerPort);
                    location / {
                        proxy_pass http://replicas;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_request_buffering off;
                        proxy_read_timeout 300s;
                        proxy_next_upstream error timeout;
                    }
                }
            }
            """.write(toFile: prefix + "/nginx.conf", atomically: true, encoding: .utf8)
            let server = try ProcessHarness(name: "nginx", executable: "/usr/sbin/nginx",
                                            arguments: ["-p", prefix, "-c", prefix + "/nginx.conf", "-e", prefix + "/logs/error.log"],
                                            logDirectory: dir)
            nginx = server
            try await poll("nginx in front of the replicas", timeout: .seconds(20)) { () -> Bool? in
                do { try server.checkAlive() } catch { throw SendingCrashTests.Failure(error, server.logTail()) }
                if case .success(200) = HTTPProbe.request(balancer + "/ready").map(\.status) { return true }
                return nil
            }
        }

        func kill9(_ index: Int) { servers[index]?.kill9() }

        func stop() {
            nginx?.stop()
            for server in servers { server?.stop() }
        }

        func logs() -> String { servers.compactMap { $0?.logTail() }.joined(separator: "\n") }

        /// POST /messages through `base`; the answer's JSON.
        func post(_ body: String, to base: String) throws -> [String: Any] {
            let answer = try HTTPProbe.request(base + "/messages", method: "POST", body: body, timeout: 300).get()
            let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
            return try #require(json, "POST /messages answered \(answer.status): \(answer.body.prefix(300))")
        }

        /// Messages by status, as a replica's /health counts them (the shared database's).
        func statuses(at base: String) -> [String: Int]? {
            guard case .success(let answer) = HTTPProbe.request(base + "/health"), answer.status == 200,
                  let json = try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any] else { return nil }
            return json["messages"] as? [String: Int]
        }
    }

    static func contacts(_ range: Range<Int>, prefix: String = "+25471") -> String {
        let contacts = range.map { "{\"phone\":\"\(prefix)\(String(format: "%07d", $0))\",\"name\":\"c\($0)\"}" }
        return "{\"message\":\"Hello {name}, your order is ready.\",\"contacts\":[\(contacts.joined(separator: ","))]}"
    }

    /// The issue's 100,000; EMMY_REPLICA_CONTACTS makes a quicker local run.
    static let total = ProcessInfo.processInfo.environment["EMMY_REPLICA_CONTACTS"].flatMap(Int.init) ?? 100_000
    static let batches = 4

    /// Three replicas behind nginx; 100,000 contacts in four batches through nginx; one replica
    /// killed with SIGKILL while all three send. The others take over its claims through the
    /// in-doubt recovery (asking the provider before sending again), so every message reaches
    /// the provider exactly once and none is left queued, sending or in doubt.
    @Test("three replicas behind nginx, 100,000 contacts, kill -9 of one mid-send: each message sent exactly once",
          .timeLimit(.minutes(30)))
    func killedReplicaLosesAndDoublesNothing() async throws {
        try await SendingCrashTests.withTwilio { twilio in
            let dir = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let database = try await PostgresCluster.current.freshDatabase().database
            let replicas = try Replicas(count: 3, database: database, twilio: twilio, in: dir)
            defer { replicas.stop() }
            // Together, so the migrations race under their advisory lock as in a real roll-out.
            for index in 0..<3 { try replicas.launch(index) }
            for index in 0..<3 { try await replicas.waitReady(index) }
            try await replicas.startBalancer()

            let started = Date()
            let size = Self.total / Self.batches
            for batch in 0..<Self.batches {
                let answer = try replicas.post(Self.contacts(batch * size..<(batch + 1) * size), to: replicas.balancer)
                #expect(answer["accepted"] as? Int == size, "batch \(batch): \(answer)")
            }
            let ingested = Date()
            print(String(format: "postgres replicas: %d contacts ingested through nginx in %.1fs; %d already at the provider",
                         Self.total, ingested.timeIntervalSince(started), twilio.acceptedCount))
            // Mid-send: some accepted by the provider, most not yet.
            _ = try await poll("the provider to accept 10% of the messages", timeout: .seconds(120), every: .milliseconds(20)) {
                twilio.acceptedCount >= Self.total / 10 ? true : nil
            }
            replicas.kill9(1)
            let killedAt = twilio.acceptedCount
            print(String(format: "postgres replicas: replica 2 killed at %d accepted, %.1fs after ingest", killedAt, Date().timeIntervalSince(ingested)))

            var last: [String: Int] = [:]
            do {
                _ = try await poll("every message sent", timeout: .seconds(1500), every: .milliseconds(500)) { () -> Bool? in
                    guard let counts = replicas.statuses(at: replicas.url(0)) else { return nil }
                    last = counts
                    let open = ["queued", "sending", "in_doubt"].reduce(0) { $0 + (counts[$1] ?? 0) }
                    return open == 0 && (counts["sent"] ?? 0) + (counts["delivered"] ?? 0) == Self.total ? true : nil
                }
            } catch {
                throw SendingCrashTests.Failure(error, "last statuses: \(last), accepted \(twilio.acceptedCount)\n\(replicas.logs())")
            }
            let done = Date()
            print(String(format: "postgres replicas: every message final %.1fs after ingest; replica 2 killed at %d accepted",
                         done.timeIntervalSince(ingested), killedAt))
            #expect(twilio.duplicates.isEmpty, "sent twice: \(twilio.duplicates.prefix(5))")
            #expect(twilio.distinctAccepted == Self.total && twilio.acceptedCount == Self.total,
                    "accepted \(twilio.acceptedCount) for \(twilio.distinctAccepted) distinct")
            #expect(last["failed"] ?? 0 == 0, "\(last)")
        }
    }

    /// Callbacks and replies land wherever the provider sends them. Replica 1 is paused (the
    /// incident switch), so replica 0 sends everything; every status callback is addressed to
    /// replica 1, which moves the messages it never sent. A STOP reply received by replica 1
    /// suppresses the number for a batch posted through replica 2.
    @Test("a callback at a replica other than the sender moves the message; a STOP at one replica suppresses the number on all",
          .timeLimit(.minutes(3)))
    func callbacksAndStopRepliesCrossReplicas() async throws {
        try await SendingCrashTests.withTwilio { twilio in
            let dir = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let database = try await PostgresCluster.current.freshDatabase().database
            let replicas = try Replicas(count: 3, database: database, twilio: twilio, publicURL: { $0.url(1) }, in: dir)
            defer { replicas.stop() }
            for index in [1, 2] {
                try FileManager.default.createDirectory(atPath: replicas.dataDirectory(index), withIntermediateDirectories: true)
                try SendingPause(dataDirectory: replicas.dataDirectory(index)).pause(.init(reason: "test: only replica 0 sends", who: "test", since: "now"))
            }
            for index in 0..<3 { try await replicas.start(index) }

            let count = 50
            let answer = try replicas.post(Self.contacts(0..<count, prefix: "+25472"), to: replicas.url(0))
            #expect(answer["accepted"] as? Int == count, "\(answer)")
            _ = try await poll("\(count) messages delivered", timeout: .seconds(90), every: .milliseconds(200)) { () -> Bool? in
                replicas.statuses(at: replicas.url(2))?["delivered"] == count ? true : nil
            }
            #expect(twilio.acceptedCount == count && twilio.duplicates.isEmpty)
            // Replica 0 made every send attempt and received no callback; replica 1 sent nothing and
            // received them all. A callback that beats the sender's own record of the send is kept
            // and applied when the sender records it, so each replica counts some of the 50.
            #expect(replicas.metric("emmy_send_attempts_total", at: replicas.url(0)) == Double(count))
            #expect(replicas.metric("emmy_send_attempts_total", at: replicas.url(1)) == 0)
            let delivered = [0, 1].map { replicas.metric("emmy_messages_total", matching: "status=\"delivered\"", at: replicas.url($0)) }
            #expect(delivered[1] > 0 && delivered[0] + delivered[1] == Double(count), "delivered counted by replica 0 and 1: \(delivered)")

            // STOP at replica 1, then a batch through replica 2 naming that number and another.
            let stopped = "+254729999001"
            let reply = try Self.signedPost(replicas.url(1) + "/webhooks/twilio/inbound", authToken: twilio.authToken, parameters: [
                ("MessageSid", "SM" + String(repeating: "ab", count: 16)), ("From", stopped), ("To", "+15005550006"),
                ("Body", "STOP"), ("AccountSid", twilio.accountSID)])
            #expect(reply == 200)
            let after = try replicas.post("{\"message\":\"Hi\",\"contacts\":[{\"phone\":\"\(stopped)\"},{\"phone\":\"+254729999002\"}]}",
                                          to: replicas.url(2))
            #expect(after["accepted"] as? Int == 1 && after["rejected"] as? Int == 1, "\(after)")

            // A token made with `emmyops token` goes where the spec says: the shared PostgreSQL,
            // not a SQLite file of the machine it runs on.
            let elsewhere = dir.appendingPathComponent("token-cli").path
            let created = try CLI.run(["token", "create", "ops", "--spec", replicas.specPath, "--data-dir", elsewhere], in: dir)
            #expect(created.status == 0 && created.stdout.count > 20, "\(created.stdout)\(created.stderr)")
            let listed = try CLI.run(["token", "list", "--spec", replicas.specPath, "--data-dir", dir.appendingPathComponent("other").path], in: dir)
            #expect(listed.status == 0 && listed.stdout.hasPrefix("ops\t"), "\(listed.stdout)\(listed.stderr)")
            #expect(!FileManager.default.fileExists(atPath: elsewhere + "/emmy.sqlite"))
        }
    }

    /// POSTs a form signed as Twilio signs it; the HTTP status.
    static func signedPost(_ url: String, authToken: String, parameters: [(String, String)]) throws -> Int {
        let signature = TwilioSignature.compute(url: url, parameters: parameters, authToken: authToken)
        let result = try ProcessRunner().run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "X-Twilio-Signature: \(signature)",
                                                              "-H", "Content-Type: application/x-www-form-urlencoded",
                                                              "--data-binary", FormEncoding.encode(parameters), url])
        return Int(result.stdout) ?? -1
    }
}

extension PostgresReplicasTests.Replicas {
    /// The sum of every series of a counter on one replica's /metrics.
    func metric(_ name: String, matching label: String = "", at base: String) -> Double {
        guard case .success(let answer) = HTTPProbe.request(base + "/metrics") else { return -1 }
        return answer.body.split(separator: "\n")
            .filter { ($0.hasPrefix(name + "{") || $0.hasPrefix(name + " ")) && (label.isEmpty || $0.contains(label)) }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0, +)
    }
}
