@testable import EmmyApp
import Foundation
import PostgresNIO
import Testing

/// The store a test runs against, on the engine `EMMY_TEST_ENGINE` names: `sqlite` (default,
/// in memory or a file) or `postgres` (a fresh database on one throw-away cluster this process
/// starts at first use and stops at exit). scripts/test.sh runs the suites that matter once
/// per engine, so each of their tests proves both engines keep the same promises.
enum TestStore {
    enum Engine: String { case sqlite, postgres }

    static let engine = Engine(rawValue: ProcessInfo.processInfo.environment["EMMY_TEST_ENGINE"] ?? "sqlite") ?? .sqlite

    /// A fresh, empty store; on SQLite in memory, or in a WAL file under `directory`.
    static func make(directory: String? = nil) async throws -> any AppStore {
        switch engine {
        case .sqlite:
            return try directory.map(AppDatabase.open(directory:)) ?? AppDatabase.inMemory()
        case .postgres:
            let cluster = try sharedCluster()
            let settings = try await cluster.freshDatabase()
            // Left running for the rest of the process: a test's store has no end of its own to
            // stop it at. A few connections each, closed by the pool once idle.
            let engine = PostgresEngine(settings: settings, password: cluster.password, logger: PostgresCluster.logger, maximumConnections: 4)
            Task { await engine.client.run() }
            try await PostgresMigrator().migrate(engine)
            return PostgresStore(engine: engine)
        }
    }

    /// The same data as the next process sees it after this one died: on PostgreSQL a store of
    /// another instance that takes every other run for dead at once (a lease of zero), on
    /// SQLite the same store (one process owns the file, so every other run is dead).
    static func nextRun(of store: any AppStore) -> any AppStore {
        guard let postgres = store as? PostgresStore else { return store }
        return PostgresStore(engine: postgres.engine, lease: .zero)
    }

    /// Stores a batch of `body` to these numbers as ingest would (rows from 1), with `rejections`
    /// beside them, left open unless `complete`; returns the batch id and the messages' ids.
    @discardableResult
    static func queue(_ phones: [String], body: String = "Hi", batch: String = UUID().uuidString.lowercased(),
                      rejections: [RejectedContact] = [], complete: Bool = true, at now: Date = Date(), batchCreatedAt: Date? = nil,
                      in store: any AppStore) async throws -> (batch: String, ids: [Int64]) {
        try await store.createBatch(NewBatch(id: batch, createdAt: batchCreatedAt ?? now, source: "json", template: body, client: nil,
                                             fileName: nil))
        let messages = phones.enumerated().map { index, phone in
            ValidatedMessage(position: index + 1, phone: phone, body: body, bodyHash: ContactValidator.hash(body),
                             encoding: .gsm7, segments: 1, raw: .fields([phone]))
        }
        let keys = messages.map { DedupeKey(phone: $0.phone, bodyHash: $0.bodyHash) }
        let chunk = IngestChunk(batchID: batch, now: now, candidates: messages, keys: keys, recent: nil, rejections: rejections)
        let stored = try await store.storeChunk(chunk) { _, _ in ScreenedChunk(queue: Array(zip(messages, keys)), rejections: []) }
        if complete {
            try await store.completeBatch(id: batch, counts: BatchCounts(accepted: stored.queue.count, rejected: rejections.count, duplicates: 0))
        }
        let ids = try await store.messages(MessageQuery(batchID: batch)).map(\.id)
        return (batch, ids)
    }

    /// One message by id.
    static func message(_ id: Int64, in store: any AppStore) async throws -> MessageRecord? {
        try await store.messages(MessageQuery(afterID: id - 1, limit: 1)).first { $0.id == id }
    }

    // MARK: - The process's cluster

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cluster: PostgresCluster?

    private static func sharedCluster() throws -> PostgresCluster {
        try lock.withLock {
            if let cluster { return cluster }
            let started = try PostgresCluster.start()
            cluster = started
            atexit { TestStore.stopSharedCluster() }
            return started
        }
    }

    private static func stopSharedCluster() {
        lock.withLock { cluster?.stop() }
    }
}

/// The store the suites get is on the engine the run asked for, so a pass that means to test
/// PostgreSQL cannot quietly test SQLite again.
@Suite struct TestStoreTests {
    @Test func storesAreOnTheEngineTheRunAsksFor() async throws {
        let store = try await TestStore.make()
        switch TestStore.engine {
        case .sqlite: #expect(store is AppDatabase)
        case .postgres: #expect(store is PostgresStore)
        }
    }
}
