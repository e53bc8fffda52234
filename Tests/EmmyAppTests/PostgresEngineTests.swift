@testable import EmmyApp
import Foundation
import PostgresNIO
import Testing

/// The PostgreSQL engine against a real PostgreSQL 15 (one throw-away cluster for the suite):
/// migrations under several starting replicas, the shared send queue, the recovery of a dead
/// replica's claims, ingest's dedupe and opt-outs across batches and replicas, the health check.
@Suite(.postgresCluster) struct PostgresEngineTests {
    @Test func threeReplicasStartingTogetherApplyEachMigrationOnce() async throws {
        let cluster = try PostgresCluster.current
        let settings = try await cluster.freshDatabase()
        // A migration with a visible side effect, slow enough that the starters overlap in it.
        let counted = PostgresMigration("test: counted", [
            "CREATE TABLE migration_hit (at timestamptz NOT NULL DEFAULT clock_timestamp())",
            "INSERT INTO migration_hit DEFAULT VALUES",
            "SELECT pg_sleep(0.3)",
        ])
        let migrations = PostgresSchema.migrations + [counted]
        let applied = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<3 {
                group.addTask {
                    try await PostgresEngine.withRunning(settings: settings, password: cluster.password, logger: PostgresCluster.logger,
                                                         maximumConnections: 2, migrations: []) { engine in
                        try await PostgresMigrator(migrations: migrations).migrate(engine)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(applied.count == 3, "every starter came up")
        #expect(applied.flatMap { $0 }.sorted() == migrations.map(\.name).sorted(), "each migration applied by exactly one starter")
        #expect(applied.filter(\.isEmpty).count == 2, "the starters that waited found everything done")
        let (hits, recorded, again) = try await PostgresEngine.withRunning(settings: settings, password: cluster.password, logger: PostgresCluster.logger,
                                                                           maximumConnections: 1, migrations: migrations) { engine in
            (try await Self.count(engine, "migration_hit"), try await Self.count(engine, "emmy_migration"),
             try await PostgresMigrator(migrations: migrations).migrate(engine))
        }
        #expect(hits == 1)
        #expect(recorded == migrations.count)
        #expect(again.isEmpty, "a later start applies nothing")
    }

    @Test func concurrentClaimersEachTakeEveryMessageExactlyOnce() async throws {
        try await PostgresCluster.current.withEngine(maximumConnections: 8) { engine in
            let total = 3000
            try await Self.queue(total, in: engine)
            let claimers = 6
            let claimed = try await withThrowingTaskGroup(of: (String, [Int64]).self) { group in
                for _ in 0..<claimers {
                    group.addTask {
                        let queue = PostgresSendQueue(engine: engine)
                        var ids: [Int64] = []
                        while true {
                            let (jobs, fresh) = try await queue.claim(limit: 40)
                            if jobs.isEmpty { break }
                            #expect(fresh == jobs.count)
                            ids += jobs.map(\.message.id)
                        }
                        return (queue.runID, ids)
                    }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            let all = claimed.values.flatMap { $0 }
            #expect(all.count == total, "claims: \(claimed.mapValues(\.count))")
            #expect(Set(all).count == total, "no message claimed twice")
            // What the database holds agrees with what each claimer was handed.
            for (run, ids) in claimed {
                let held = try await engine.client.query("SELECT count(*) FROM message WHERE status = 'sending' AND claimed_by = \(run)")
                    .decode(Int.self).array().first
                #expect(held == ids.count)
            }
        }
    }

    @Test func aDeadReplicasClaimsComeBackInDoubtAndALiveOnesStay() async throws {
        try await PostgresCluster.current.withEngine { engine in
            try await Self.queue(10, in: engine)
            let alive = PostgresSendQueue(engine: engine), dead = PostgresSendQueue(engine: engine)
            let neverBeat = PostgresSendQueue(engine: engine)  // died before its first heartbeat
            try await alive.heartbeat()
            try await dead.heartbeat()
            let aliveJobs = try await alive.claim(limit: 3).jobs
            let deadJobs = try await dead.claim(limit: 3).jobs
            let lostJobs = try await neverBeat.claim(limit: 1).jobs
            try await engine.client.query("UPDATE send_run SET heartbeat_at = now() - interval '1 hour' WHERE id = \(dead.runID)")

            let survivor = PostgresSendQueue(engine: engine)
            try await survivor.heartbeat()
            #expect(try await survivor.recoverInDoubt() == 4)
            #expect(try await survivor.recoverInDoubt() == 0, "recovery is done once")
            let stillClaimed = try await engine.client.query("SELECT id FROM message WHERE claimed_by = \(alive.runID) AND NOT in_doubt")
                .decode(Int64.self).array()
            #expect(Set(stillClaimed) == Set(aliveJobs.map(\.message.id)), "a live replica keeps its claims")
            #expect(try await Self.count(engine, "send_run WHERE id = '\(dead.runID)'") == 0, "the dead run is forgotten")
            #expect(try await Self.count(engine, "send_run WHERE id = '\(alive.runID)'") == 1)

            let (jobs, fresh) = try await survivor.claim(limit: 10)
            let recovered = Set((deadJobs + lostJobs).map(\.message.id))
            #expect(Set(jobs.filter(\.inDoubt).map(\.message.id)) == recovered, "in-doubt jobs are the dead runs' claims, to be looked up first")
            #expect(fresh == 3 && jobs.count == 7, "then the rest of the queue")
        }
    }

    /// Sends each message and answers lookups: the messages in `alreadyThere` are those the
    /// dying replica got through to the provider before it died.
    actor RecordingProvider: SMSProvider {
        nonisolated let name = "recording"
        let alreadyThere: Set<Int64>
        var sends: [Int64: Int] = [:]
        var lookups: Set<Int64> = []

        init(alreadyThere: Set<Int64>) { self.alreadyThere = alreadyThere }

        func send(_ message: OutgoingMessage) async -> SendResult {
            sends[message.id, default: 0] += 1
            return .accepted(providerID: "SM-\(message.id)", status: .sent)
        }

        func lookup(_ message: OutgoingMessage) async throws -> ProviderMessage? {
            lookups.insert(message.id)
            return alreadyThere.contains(message.id) ? ProviderMessage(providerID: "SM-earlier-\(message.id)", status: .sent) : nil
        }
    }

    /// A replica that dies mid-send leaves its claims to the replicas still running: their
    /// sender's periodic recovery takes them back once the dead one's heartbeat is older than
    /// the lease (here 1 s), looks each up before sending, and sends only what never arrived;
    /// no restart of anything needed. While the replica lives, its claims are left alone.
    @Test func aRunningSenderRecoversTheClaimsOfAReplicaThatDiesWhileItRuns() async throws {
        try await PostgresCluster.current.withEngine { engine in
            try await Self.queue(60, in: engine)
            let lease = Duration.seconds(1)
            let dying = PostgresStore(engine: engine, lease: lease)
            try await dying.heartbeat(runID: "dying")
            let held = try await dying.claim(limit: 10, runID: "dying", now: Date()).jobs.map(\.message.id)
            try #require(held.count == 10)
            let beating = Task {
                while !Task.isCancelled {
                    try? await dying.heartbeat(runID: "dying")
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            defer { beating.cancel() }

            let provider = RecordingProvider(alreadyThere: Set(held.prefix(4)))
            var config = SendingConfig()
            config.workers = 4
            let survivor = PostgresStore(engine: engine, lease: lease)
            let pool = SendWorkerPool(database: survivor, provider: provider, config: config, metrics: AppMetrics(), logger: PostgresCluster.logger,
                                      idleWait: .milliseconds(20))
            let running = Task { try await pool.run() }
            defer { running.cancel() }
            func statuses() async throws -> [Int64: String] {
                Dictionary(uniqueKeysWithValues: try await survivor.messages(MessageQuery()).map { ($0.id, $0.status) })
            }
            /// Polls until `done` says so or the deadline passes; returns the last statuses.
            let deadline = ContinuousClock.now + .seconds(120)
            func waitUntil(_ done: ([Int64: String]) -> Bool) async throws -> [Int64: String] {
                while true {
                    let seen = try await statuses()
                    if done(seen) || ContinuousClock.now >= deadline { return seen }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            var seen = try await waitUntil { $0.values.count { $0 == "sent" } >= 50 }
            #expect(seen.values.count { $0 == "sent" } == 50, "the survivor sends what nobody holds")
            // Well past a lease: a live replica's claims stay its own.
            try await Task.sleep(for: .seconds(2))
            #expect(Set(try await survivor.messages(MessageQuery(statuses: [.sending])).map(\.id)) == Set(held))
            #expect(await provider.lookups.isEmpty && held.allSatisfy { seen[$0] == "sending" })

            beating.cancel()  // the replica dies
            seen = try await waitUntil { $0.values.allSatisfy { $0 == "sent" } }
            #expect(seen.count == 60 && seen.values.allSatisfy { $0 == "sent" }, "\(seen)")
            #expect(await provider.lookups == Set(held), "each of the dead replica's claims is looked up first")
            let sends = await provider.sends
            #expect(held.prefix(4).allSatisfy { sends[$0] == nil }, "what the dead replica got through is not sent again")
            #expect(sends.count == 56 && sends.values.allSatisfy { $0 == 1 }, "every other message sent exactly once")
            #expect(running.isCancelled == false, "recovered while the survivor kept running")
        }
    }

    @Test func outcomesAndCallbacksMoveMessagesForwardWhicheverReplicaTheyReachAndInWhateverOrder() async throws {
        let cluster = try PostgresCluster.current
        let settings = try await cluster.freshDatabase()
        let logger = PostgresCluster.logger
        try await PostgresEngine.withRunning(settings: settings, password: cluster.password, logger: logger) { senderEngine in
            try await PostgresEngine.withRunning(settings: settings, password: cluster.password, logger: logger) { otherEngine in
                try await Self.queue(4, in: senderEngine)
                let sender = PostgresSendQueue(engine: senderEngine), other = PostgresSendQueue(engine: otherEngine)
                let ids = try await sender.claim(limit: 4).jobs.map(\.message.id)
                try #require(ids.count == 4)

                // The sender's write first, then the callback at the other replica.
                #expect(try await sender.record([.accepted(id: ids[0], providerID: "SM0", status: .sent, attempted: true)]) == [.sent: 1])
                #expect(try await other.applyCallback(providerID: "SM0", status: .delivered, errorCode: nil) == .moved(.delivered))
                #expect(try await other.applyCallback(providerID: "SM0", status: .delivered, errorCode: nil) == .duplicate)
                // The callback first: kept, and applied when the sender's write lands.
                #expect(try await other.applyCallback(providerID: "SM1", status: .undelivered, errorCode: "30003") == .ignored)
                let at = Date().addingTimeInterval(-1)
                let entered = try await sender.record([
                    .accepted(id: ids[1], providerID: "SM1", status: .sent, attempted: true),
                    .failed(id: ids[2], code: "21211", reason: "invalid number"),
                    .retry(id: ids[3], at: at, code: "20429", reason: "too many requests", inDoubt: false, attempted: true),
                ])
                #expect(entered == [.sent: 1, .undelivered: 1, .failed: 1])
                let rows = try await senderEngine.client.query("SELECT id, status, attempts, error_code FROM message ORDER BY id")
                    .decode((Int64, String, Int, String?).self).array()
                #expect(rows.map(\.1) == ["delivered", "undelivered", "failed", "sending"])
                #expect(rows.map(\.2) == [1, 1, 1, 1])
                #expect(rows.map(\.3) == [nil, "30003", "21211", "20429"])
                // The retry is due again, for any replica.
                let (due, fresh) = try await other.claim(limit: 5)
                #expect(due.map(\.message.id) == [ids[3]] && due.first?.attempts == 1 && fresh == 0)
            }
        }
    }

    @Test func ingestQueuesEachPairOnceAcrossBatchesAndReplicasAndRefusesOptedOutNumbers() async throws {
        try await PostgresCluster.current.withEngine { engine in
            let store = PostgresStore(engine: engine)
            let now = Date()
            let first = try await Self.ingest(["+254700000001", "+254700000002", "+254700000003"], batch: "first", at: now, store: store)
            #expect(first.queued == 3 && first.errors.isEmpty)

            let stop = try await store.addOptOuts(["+254700000002", "+254700000004"], source: "sms", now: now)
            #expect(stop == OptOutList.Added(added: 2, canceled: 1), "the STOP cancels what was waiting")

            let refused = RowError(position: 1, field: "phone", kind: .invalidNumber, reason: "not a number")
            let second = try await Self.ingest(["+254700000001", "+254700000002", "+254700000003", "+254700000004"], batch: "second",
                                               at: now.addingTimeInterval(60), store: store,
                                               known: [RejectedContact(error: refused, raw: .fields(["oops", "Ann"]))])
            #expect(second.queued == 0)
            // As on SQLite, a repeat is reported as such before an opt-out (+…002 is both).
            #expect(second.errors.map(\.kind) == [.invalidNumber, .duplicate, .duplicate, .duplicate, .optedOut])
            #expect(second.errors.map(\.position) == [1, 2, 3, 4, 5])
            let raws = try await engine.client.query("SELECT kind, raw FROM rejection WHERE batch_id = 'second' ORDER BY row")
                .decode((String, String).self).array().map { "\($0.0) \($0.1)" }
            #expect(raws == ["invalid_number oops,Ann", "duplicate +254700000001,Hi", "duplicate +254700000002,Hi", "duplicate +254700000003,Hi",
                             "opted_out +254700000004,Hi"])

            // Past the window the same text may go again.
            let later = try await Self.ingest(["+254700000001"], batch: "later", at: now.addingTimeInterval(2 * 86_400), store: store)
            #expect(later.queued == 1)

            // Two replicas storing the same 1,000 pairs at the same moment: each pair once.
            let phones = (0..<1000).map { "+2547110\(String(format: "%05d", $0))" }
            async let a = Self.ingest(phones, batch: "replica-a", at: now, store: store)
            async let b = Self.ingest(phones.reversed(), batch: "replica-b", at: now, store: store)
            let (resultA, resultB) = try await (a, b)
            #expect(resultA.queued + resultB.queued == 1000)
            #expect(resultA.errors.count + resultB.errors.count == 1000)
            #expect(try await Self.count(engine, "message WHERE phone LIKE '+2547110%'") == 1000)
        }
    }

    @Test func healthCheckSaysMigratedWritableAndCountsAndFailsWhenTheServerSaysNo() async throws {
        let cluster = try PostgresCluster.current
        try await cluster.withEngine { engine in
            try await Self.queue(5, in: engine)
            _ = try await PostgresSendQueue(engine: engine).claim(limit: 2)
            let check = try await engine.check()
            #expect(check == PostgresEngine.Check(migrated: true, writable: true, messages: ["queued": 3, "sending": 2]))
        }
        var missing = try await cluster.freshDatabase()
        missing.database = "no_such_database"
        let engine = PostgresEngine(settings: missing, password: cluster.password, logger: PostgresCluster.logger)
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await engine.run() }
            await #expect(throws: (any Error).self) { try await engine.check(timeout: .seconds(3)) }
            group.cancelAll()
        }
    }

    // MARK: - Helpers

    static func count(_ engine: PostgresEngine, _ table: String) async throws -> Int {
        try await engine.client.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)")).decode(Int.self).array().first ?? -1
    }

    /// Queues `count` distinct messages in one batch.
    static func queue(_ count: Int, in engine: PostgresEngine) async throws {
        let phones = (0..<count).map { "+2547000\(String(format: "%05d", $0))" }
        let outcome = try await ingest(phones, batch: "queued", at: Date(), store: PostgresStore(engine: engine))
        #expect(outcome.queued == count)
    }

    /// One batch of "Hi" to these numbers, rows numbered from 2 (after the rows in `known`),
    /// stored as ingest stores a chunk: the snapshot read, then the screening write.
    static func ingest(_ phones: [String], batch: String, at now: Date, store: PostgresStore,
                       known: [RejectedContact] = []) async throws -> (queued: Int, errors: [RowError]) {
        try await store.createBatch(NewBatch(id: batch, createdAt: now, source: "csv", template: "Hi", client: nil, fileName: nil))
        let messages = phones.enumerated().map { index, phone in
            ValidatedMessage(position: known.count + index + 1, phone: phone, body: "Hi", bodyHash: ContactValidator.hash("Hi"),
                             encoding: .gsm7, segments: 1, raw: .fields([phone, "Hi"]))
        }
        let keys = messages.map { DedupeKey(phone: $0.phone, bodyHash: $0.bodyHash) }
        let window: TimeInterval = 86_400
        let recent = try await store.recentMessages(among: keys, since: now.addingTimeInterval(-window), otherThan: nil)
        let chunk = IngestChunk(batchID: batch, now: now, candidates: messages, keys: keys, recent: recent, rejections: known)
        let stored = try await store.storeChunk(chunk) { recent, optedOut in
            BatchIngest.screen(messages, keys: keys, recent: recent, optedOut: optedOut, window: window, phoneField: "phone")
        }
        let errors = stored.rejections.map(\.error).sorted { $0.position < $1.position }
        try await store.completeBatch(id: batch, counts: BatchCounts(accepted: stored.queue.count, rejected: errors.count, duplicates: 0))
        return (stored.queue.count, errors)
    }
}
