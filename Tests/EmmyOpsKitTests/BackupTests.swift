import EmmyApp
@testable import EmmyOpsKit
import Foundation
import GRDB
import Testing

/// `emmyops backup create|list|verify|restore|prune` run as users run them, against a real
/// EmmyApp database and a file:// target, with Debian's `age` and `zstd` reading the result.
@Suite struct BackupTests {
    struct Listed: Decodable {
        var manifest: BackupManifest
        var verification: BackupVerification?
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try BackupJSON.decoder().decode(type, from: Data(text.utf8))
    }

    @Test func createListVerifyRestoreRoundTrip() async throws {
        let world = try BackupWorld(messages: 3_000)
        defer { world.remove() }
        let before = try DatabaseSnapshot.inspect(world.databasePath)

        let created = try world.backup(["create", "--format", "json"], identity: false)
        #expect(created.status == 0, "\(created.stderr)")
        let manifest = try Self.decode(BackupManifest.self, created.stdout)
        #expect(manifest.tables == before.tables && manifest.tables["message"] == 3_000)
        #expect(manifest.integrityCheck == "ok" && manifest.migrations == before.migrations && !manifest.migrations.isEmpty)
        #expect(manifest.recipients == [world.recipient])
        // The staging directory keeps no plaintext once create is done.
        let staging = try FileManager.default.contentsOfDirectory(atPath: world.dataDirectory + "/backup-staging")
        #expect(staging.filter { $0 != ".lock" }.isEmpty, "left in staging: \(staging)")

        // Debian's age and zstd restore it without emmyops.
        let object = world.targetDirectory + "/" + BackupKeys.object(manifest.id)
        let decrypted = try ProcessRunner().run("/usr/bin/age", ["-d", "-i", world.identityFile, "-o", world.root.path + "/plain.zst", object], timeout: 60)
        #expect(decrypted.status == 0, "\(decrypted.stderr)")
        let unpacked = try ProcessRunner().run(BackupWorld.zstd ?? "/usr/bin/zstd", ["-q", "-d", world.root.path + "/plain.zst", "-o", world.root.path + "/plain.sqlite"], timeout: 60)
        #expect(unpacked.status == 0, "\(unpacked.stderr)")
        let external = try DatabaseSnapshot.inspect(world.root.path + "/plain.sqlite")
        #expect(external.integrityCheck == "ok" && external.tables == manifest.tables)

        let verified = try world.backup(["verify", "--latest", "--format", "json"])
        #expect(verified.status == 0, "\(verified.stderr)")
        let record = try Self.decode(BackupVerification.self, verified.stdout)
        #expect(record.ok && record.id == manifest.id && record.restoreSeconds > 0)
        let listed = try world.backup(["list", "--format", "json"], identity: false)
        let entries = try Self.decode([Listed].self, listed.stdout)
        #expect(entries.map(\.manifest.id) == [manifest.id] && entries.first?.verification?.ok == true)
        let status = try #require(BackupStatusFile.read(dataDirectory: world.dataDirectory))
        #expect(status.lastSuccessID == manifest.id && status.lastVerifiedID == manifest.id)
        // What EmmyApp exposes as emmy_backup_last_*_timestamp_seconds.
        let exposed = BackupTimestamps.read(dataDirectory: world.dataDirectory)
        #expect(exposed.lastSuccess == status.lastSuccess?.timeIntervalSince1970 && (exposed.lastVerified ?? 0) > 0)

        // New writes after the backup; restore brings back exactly the manifest's rows.
        let database = try AppDatabase.open(directory: world.dataDirectory)
        try BackupWorld.insert(500, bodyBytes: 40, into: database.writer, batchPrefix: "later")
        try database.writer.close()
        let dry = try world.backup(["restore", "--latest-verified", "--dry-run"])
        #expect(dry.status == 0 && dry.stdout.contains("dry run"), "\(dry.stderr)")
        #expect(try DatabaseSnapshot.inspect(world.databasePath).tables["message"] == 3_500, "a dry run swaps nothing")

        // An app (here a bare connection) holding the database without a supervisor: refused.
        let holder = try DatabaseQueue(path: world.databasePath)
        let fingerprint = try world.fingerprint()
        let held = try world.backup(["restore", "--latest-verified"])
        #expect(held.status == 1 && held.stderr.contains("has \(world.databasePath) open"), "\(held.stderr)")
        #expect(try world.fingerprint() == fingerprint)
        try holder.close()

        let restored = try world.backup(["restore", "--latest-verified", "--format", "json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        let outcome = try JSONSerialization.jsonObject(with: Data(restored.stdout.utf8)) as? [String: Any]
        let aside = try #require(outcome?["replaced_to"] as? String)
        #expect(try DatabaseSnapshot.inspect(world.databasePath).tables == manifest.tables)
        #expect(try DatabaseSnapshot.inspect(aside + "/emmy.sqlite").tables["message"] == 3_500, "the replaced database is kept aside")
    }

    @Test func aFlippedByteFailsVerifyAndRestoreRefusesLeavingTheDatabaseUnchanged() async throws {
        let world = try BackupWorld(messages: 2_000)
        defer { world.remove() }
        let created = try world.backup(["create", "--format", "json"], identity: false)
        let manifest = try Self.decode(BackupManifest.self, created.stdout)
        let object = URL(fileURLWithPath: world.targetDirectory + "/" + BackupKeys.object(manifest.id))
        var bytes = try Data(contentsOf: object)
        bytes[bytes.count / 2] ^= 0x20
        try bytes.write(to: object)
        let fingerprint = try world.fingerprint()

        let verified = try world.backup(["verify", manifest.id])
        #expect(verified.status == 1)
        #expect(verified.stderr.contains("backup \(manifest.id) failed verification") && verified.stderr.contains("SHA-256"), "\(verified.stderr)")
        let listed = try Self.decode([Listed].self, try world.backup(["list", "--format", "json"], identity: false).stdout)
        #expect(listed.first?.verification?.ok == false, "the failure is recorded in the sidecar")

        let restored = try world.backup(["restore", manifest.id])
        #expect(restored.status == 1)
        #expect(restored.stderr.contains("restore refused") && restored.stderr.contains(manifest.id), "\(restored.stderr)")
        #expect(try world.fingerprint() == fingerprint, "row counts and hash of the running database")
        // And no verified backup exists to fall back on.
        #expect(try world.backup(["restore", "--latest-verified"]).status == 1)
        #expect(try world.fingerprint() == fingerprint)
    }

    @Test func killingCreateAtRandomMomentsNeverListsAPartialBackup() async throws {
        // Large enough that create runs for a while on a loaded machine.
        let world = try BackupWorld(messages: 60_000, bodyBytes: 300)
        defer { world.remove() }
        var environment = ProcessInfo.processInfo.environment
        environment["EMMY_BACKUP_IDENTITY_FILE"] = world.identityFile
        // Kill moments are drawn within the time one whole create takes here, measured first,
        // so they land mid-create whether the machine is idle or loaded.
        let started = ContinuousClock.now
        #expect(try world.backup(["create"], identity: false).status == 0)
        let createMilliseconds = max(50, Int((ContinuousClock.now - started) / .milliseconds(1)))
        var killedMidway = 0
        for round in 0..<10 {
            let harness = try ProcessHarness(name: "create-\(round)", executable: CLI.binary,
                                             arguments: ["backup", "create", "--spec", world.specPath, "--data-dir", world.dataDirectory],
                                             logDirectory: world.root, environment: environment)
            try await Task.sleep(for: .milliseconds(Int.random(in: createMilliseconds / 20...createMilliseconds * 9 / 10)))
            if harness.isRunning { killedMidway += 1 }
            harness.kill9()
            for entry in try await world.backups().list() {
                let object = world.targetDirectory + "/" + BackupKeys.object(entry.id)
                let digest = DigestSink()
                try FileStream.pump(object, into: digest)
                #expect(digest.digest == entry.manifest.sha256, "a listed backup points at a whole object")
            }
        }
        #expect(killedMidway > 0, "no kill landed while create was running")
        let next = try world.backup(["create"], identity: false)
        #expect(next.status == 0, "\(next.stderr)")
        let verified = try world.backup(["verify", "--latest"])
        #expect(verified.status == 0, "\(verified.stderr)")
        let staging = try FileManager.default.contentsOfDirectory(atPath: world.dataDirectory + "/backup-staging")
        #expect(staging.filter { $0 != ".lock" }.isEmpty, "no plaintext left after the next create: \(staging)")
    }

    @Test func restoreUnderARunningSupervisorSwapsBetweenChildrenAndWaitsForReady() async throws {
        let world = try BackupWorld(messages: 1_000)
        defer { world.remove() }
        let port = try LoopbackPorts.pick(1)[0]
        let superviseSpec = world.root.appendingPathComponent("supervise.yaml").path
        try SupervisorProcessTests.spec.write(toFile: superviseSpec, atomically: true, encoding: .utf8)
        let supervisor = try ProcessHarness(name: "supervise", executable: CLI.binary,
                                            arguments: ["supervise", "--spec", superviseSpec, "--data-dir", world.dataDirectory, "--port", "\(port)"],
                                            logDirectory: world.root)
        defer { supervisor.stop(grace: .seconds(15)) }
        func get(_ path: String) -> HTTPProbe.Response? {
            try? HTTPProbe.request("http://127.0.0.1:\(port)\(path)", timeout: 2).get()
        }
        func childPID() -> Int32? {
            FileManager.default.contents(atPath: world.dataDirectory + "/supervise.json").flatMap { try? SupervisorState.decode($0) }?.childPID
        }
        _ = try await poll("the supervised app ready", timeout: .seconds(60)) { () -> Bool? in
            try supervisor.checkAlive()
            return get("/ready")?.status == 200 ? true : nil
        }

        // Backed up and verified while the app runs; then the app's database moves on.
        let created = try world.backup(["create", "--format", "json"], identity: false)
        #expect(created.status == 0, "\(created.stderr)")
        let manifest = try Self.decode(BackupManifest.self, created.stdout)
        #expect(try world.backup(["verify", "--latest"]).status == 0)
        let metrics = get("/metrics")?.body ?? ""
        #expect(metrics.contains("emmy_backup_last_verified_timestamp_seconds") && !metrics.contains("emmy_backup_last_verified_timestamp_seconds 0"),
                "the scrape reads the status file verify left")
        let writer = try DatabaseQueue(path: world.databasePath)
        try BackupWorld.insert(200, bodyBytes: 40, into: writer, batchPrefix: "later")
        try writer.close()
        let before = try #require(childPID())

        let restored = try world.backup(["restore", "--latest-verified"], environment: ["EMMY_PORT": "\(port)"])
        #expect(restored.status == 0, "\(restored.stderr)\n\(supervisor.logTail())")
        #expect(get("/ready")?.status == 200, "restore returns once the new child is ready")
        #expect(childPID() != before, "the child was restarted around the swap")
        #expect(try DatabaseSnapshot.inspect(world.databasePath).tables == manifest.tables)
        #expect(supervisor.logTail(40).contains("restored backup \(manifest.id)"), "\(supervisor.logTail(40))")
    }

    @Test func pruneKeepsCalendarBucketsAndTheNewestVerified() async throws {
        func entry(_ id: String, _ iso: String, verified: Bool = false) -> BackupEntry {
            let created = ISO8601DateFormatter().date(from: iso)!
            let manifest = BackupManifest(id: id, created: created, host: "h", appVersion: "t", migrations: [], snapshotMethod: "vacuum-into",
                                          snapshotBytes: 1, storedBytes: 1, sha256: "", recipients: [], tables: [:], integrityCheck: "ok")
            return BackupEntry(manifest: manifest, verification: verified
                ? BackupVerification(id: id, verifiedAt: created, ok: true, restoreSeconds: 1, problem: nil) : nil)
        }
        let entries = [
            entry("a", "2026-10-15T03:00:00Z", verified: true),
            entry("b", "2026-11-28T03:00:00Z"),
            entry("c", "2026-11-30T03:00:00Z"),
            entry("d", "2026-11-30T23:59:59Z"),
            entry("e", "2026-12-01T00:00:01Z"),
            entry("f", "2026-12-01T03:00:00Z"),
        ]
        var keep = Backup.Keep()
        keep.last = 1
        keep.daily = 2
        keep.weekly = 0
        keep.monthly = 2
        let decisions = Dictionary(uniqueKeysWithValues: Retention.decide(entries, keep: keep).map { ($0.id, $0) })
        // f: last, daily 12-01 and monthly 2026-12; d: daily 11-30 (newest of that UTC day) and monthly 2026-11.
        #expect(decisions["f"]?.reasons == ["last", "daily 2026-12-01", "monthly 2026-12"])
        #expect(decisions["d"]?.reasons == ["daily 2026-11-30", "monthly 2026-11"])
        #expect(decisions["a"]?.reasons == ["newest verified"], "beyond every rule, but the newest verified")
        #expect(decisions["b"]?.keep == false && decisions["c"]?.keep == false && decisions["e"]?.keep == false)

        var weekly = Backup.Keep()
        (weekly.last, weekly.daily, weekly.weekly, weekly.monthly) = (0, 0, 2, 0)
        // 2026-11-30 is a Monday: c, d, e and f share ISO week 49; b is the newest of week 48.
        let byWeek = Retention.decide(entries, keep: weekly).filter(\.keep).map(\.id)
        #expect(byWeek == ["f", "b", "a"])
    }

    @Test func pruneDeletesManifestsFirstAndDryRunDeletesNothing() async throws {
        let world = try BackupWorld(messages: 10)
        defer { world.remove() }
        for _ in 0..<4 { #expect(try world.backup(["create"], identity: false).status == 0) }
        #expect(try world.backup(["verify", "--latest"]).status == 0)
        let dry = try world.backup(["prune", "--dry-run", "--format", "json"], identity: false)
        #expect(dry.status == 0)
        #expect(try await world.backups().list().count == 4)
        // keep.last 2, and the other rules collapse onto today: two remain.
        let pruned = try world.backup(["prune"], identity: false)
        #expect(pruned.status == 0, "\(pruned.stderr)")
        let left = try await world.backups().list()
        #expect(left.count == 2 && left.last?.isVerified == true)
        let files = try FileManager.default.contentsOfDirectory(atPath: world.targetDirectory).filter { !$0.hasPrefix(".") }
        #expect(files.count == 2 * 2 + 1, "two objects, two manifests and one sidecar: \(files.sorted())")
    }

    @Test func specChecksTargetsAndRecipients() throws {
        func diagnostics(_ backup: String) throws -> [String] {
            SpecLoader.load(text: "version: 1\nbackup:\n" + backup, file: "emmy.yaml").diagnostics
                .filter { $0.severity == .error }.map { "\($0.path): \($0.message)" }
        }
        let key = AgeIdentity().recipient
        #expect(try diagnostics("  target: file:///srv/backups\n  recipients: [\(key)]\n").isEmpty)
        #expect(try diagnostics("  target: s3://bucket/prefix\n  recipients: [\(key)]\n  endpoint: http://127.0.0.1:9000\n  path_style: true\n  keep: { last: 5 }\n").isEmpty)
        #expect(try diagnostics("  target: s3://bucket/prefix\n").contains { $0.contains("backup.recipients") })
        #expect(try diagnostics("  target: ftp://x\n  recipients: [\(key)]\n").contains { $0.contains("not an s3://bucket/prefix or file:///path") })
        #expect(try diagnostics("  target: s3://b\n  recipients: [\(key.dropLast())x]\n").contains { $0.contains("backup.recipients[0]") })
    }
}
