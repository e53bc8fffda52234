@testable import EmmyApp
import Foundation
import GRDB
import Synchronization
import Testing

/// A duplicate lookup skips the dedupe index when no other batch queued a message within the
/// window (`BatchLastMessage.swift`), and still finds every repeat when one did.
@Suite struct DedupeSkipTests {
    private static let hi = ContactValidator.hash("Hi")

    private static func queue(_ phones: [String], batch: String, at time: Date, in store: AppDatabase) async throws {
        let messages = phones.enumerated().map { index, phone in
            ValidatedMessage(position: index + 2, phone: phone, body: "Hi", bodyHash: hi, encoding: .gsm7, segments: 1, raw: .none)
        }
        let keys = messages.map { DedupeKey(phone: $0.phone, bodyHash: $0.bodyHash) }
        let chunk = IngestChunk(batchID: batch, now: time, candidates: messages, keys: keys, recent: nil, rejections: [])
        _ = try await store.storeChunk(chunk) { _, _ in ScreenedChunk(queue: Array(zip(messages, keys)), rejections: []) }
    }

    private static func newBatch(in store: AppDatabase) async throws -> String {
        let id = UUID().uuidString.lowercased()
        try await store.createBatch(NewBatch(id: id, createdAt: Date(), source: "csv", template: "Hi", client: nil, fileName: nil))
        return id
    }

    /// Counts the key queries the lookup runs (a `DatabaseQueue` reads on the traced connection).
    private static func keyQueries(in store: AppDatabase, during body: () async throws -> Void) async throws -> Int {
        let count = Mutex(0)
        try await store.writer.writeWithoutTransaction { db in
            db.trace { event in
                if case .statement(let statement) = event, statement.sql.contains("dedupe_key IN") { count.withLock { $0 += 1 } }
            }
        }
        try await body()
        try await store.writer.writeWithoutTransaction { db in db.trace(nil) }
        return count.withLock { $0 }
    }

    @Test func aRepeatIsFoundOnlyWhenAnotherBatchQueuedItWithinTheWindow() async throws {
        let store = try AppDatabase.inMemory()
        let now = Date()
        let earlier = try await Self.newBatch(in: store)
        try await Self.queue(["+254711000001", "+254711000002"], batch: earlier, at: now.addingTimeInterval(-7200), in: store)
        let key = DedupeKey(phone: "+254711000002", bodyHash: Self.hi)
        let asking = try await Self.newBatch(in: store)

        // The earlier batch's last message is 2 h old: a 1 h window skips the index.
        var recent = RecentMessages(keys: [], watermark: 0, since: now)
        let skipped = try await Self.keyQueries(in: store) {
            recent = try await store.recentMessages(among: [key], since: now.addingTimeInterval(-3600), otherThan: asking)
        }
        #expect(skipped == 0 && recent.keys.isEmpty)
        #expect(recent.watermark == 2)  // the recheck inside the write still sees rows committed later

        // A 3 h window reaches it: the index is probed and the repeat found.
        let probed = try await Self.keyQueries(in: store) {
            recent = try await store.recentMessages(among: [key], since: now.addingTimeInterval(-10800), otherThan: asking)
        }
        #expect(probed == 1 && recent.keys == [key])

        // A batch's own rows never count as a repeat of its own, so they call for no probe.
        let own = try await Self.keyQueries(in: store) {
            recent = try await store.recentMessages(among: [key], since: now.addingTimeInterval(-10800), otherThan: earlier)
        }
        #expect(own == 0 && recent.keys.isEmpty)
    }

    /// Through a whole ingest: a later batch within the window still skips the repeated number.
    @Test func aSecondUploadWithinTheWindowStillSkipsTheRepeat() async throws {
        let store = try AppDatabase.inMemory()
        func upload(_ phones: [String]) async throws -> BatchSummary {
            let ingest = BatchIngest(database: store, options: IngestOptions(template: try MessageTemplate("Hi"), templateText: "Hi", defaultRegion: "KE"), source: .json, client: nil, dedupeWindow: 3600)
            try await ingest.begin()
            try await ingest.add(phones.enumerated().map { ContactInput(position: $0.offset, values: ["phone": $0.element], raw: .none) })
            return try await ingest.finish()
        }
        let first = try await upload(["+254711000001", "+254711000002"])
        let second = try await upload(["+254711000002", "+254711000003"])
        #expect(first.accepted == 2 && second.accepted == 1 && second.duplicates == 1)
        #expect(second.errors.map(\.position) == [0])
    }

    /// An existing database learns each batch's latest message time from its messages.
    @Test func theMigrationBackfillsEachBatchsLatestMessageTime() throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator.migrate(queue, upTo: "2026-12-01 batch file name")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO batch (id, created_at, source, template) VALUES ('a', 1, 'csv', 'Hi'), ('b', 1, 'csv', 'Hi');
                INSERT INTO message (batch_id, row, phone, body, body_hash, encoding, segments, status, created_at, updated_at, dedupe_key)
                VALUES ('a', 2, '+254711000001', 'Hi', 1, 'GSM-7', 1, 'sent', 100, 100, 1),
                       ('a', 3, '+254711000002', 'Hi', 1, 'GSM-7', 1, 'sent', 300, 300, 2),
                       ('a', 4, '+254711000003', 'Hi', 1, 'GSM-7', 1, 'sent', 200, 200, 3);
                """)
        }
        try AppDatabase.migrator.migrate(queue)
        let times = try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, last_message_at FROM batch ORDER BY id").map { [$0["id"] as String: $0["last_message_at"] as Double?] }
        }
        #expect(times == [["a": 300], ["b": nil]])
    }
}
