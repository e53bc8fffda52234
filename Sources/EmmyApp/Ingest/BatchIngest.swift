import Foundation
import GRDB

/// What the client is told about a batch.
public struct BatchSummary: Sendable, Codable {
    public var batchID: String
    public var accepted: Int
    public var rejected: Int
    public var duplicates: Int
    public var message: String
    public var errors: [RowError]
    /// True when more rows were rejected than `errors` lists; all are in rejected.csv.
    public var errorsTruncated: Bool
}

/// Ingests one batch in chunks: validates each chunk (in parallel when large), then stores it
/// in one write transaction. Rows are reported by position; one bad row never costs another.
public final class BatchIngest: @unchecked Sendable {
    public enum Source: String, Sendable { case json, csv }

    /// Row errors returned inline; the rest are in the rejected-rows download.
    public static let maxInlineErrors = 1000

    let database: AppDatabase
    let validator: ContactValidator
    let source: Source
    let client: String?
    let dedupeWindow: TimeInterval
    let clock: @Sendable () -> Date
    public let batchID: String

    // Touched only from the task driving this ingest.
    private var seenPhones: Set<Int64> = []
    private var accepted = 0
    private var rejected = 0
    private var duplicates = 0
    private var errors: [RowError] = []
    private var byReason: [RowError.Kind: Int] = [:]

    public init(database: AppDatabase, options: IngestOptions, source: Source, client: String?,
                dedupeWindow: TimeInterval, clock: @escaping @Sendable () -> Date = Date.init) {
        self.database = database
        self.validator = ContactValidator(options: options)
        self.source = source
        self.client = client
        self.dedupeWindow = dedupeWindow
        self.clock = clock
        self.batchID = UUID().uuidString.lowercased()
    }

    /// Records the batch before any row, so a crash mid-upload leaves an incomplete batch
    /// whose stored rows are still visible and sendable.
    public func begin() async throws {
        let (id, now, source, template, client) = (batchID, clock().timeIntervalSince1970, source.rawValue, validator.options.templateText, client)
        try await database.writer.write { db in
            try db.execute(sql: "INSERT INTO batch (id, created_at, source, template, client) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, now, source, template, client])
        }
    }

    /// The write of the previous chunk, still running while the next chunk is parsed and
    /// validated: SQLite's single writer and the validating cores work at the same time.
    private var pendingWrite: Task<ChunkOutcome, any Error>?

    struct ChunkOutcome: Sendable {
        var queued: Int
        var errors: [RowError]
    }

    /// Validates a chunk of contacts and hands it to the writer; returns before it is stored.
    public func add(_ contacts: [ContactInput]) async throws {
        guard !contacts.isEmpty else { return }
        let results = await validate(contacts)
        // In-batch duplicates are decided here, in order, before touching the database.
        var fresh: [ValidatedMessage] = []
        var rowErrors: [RowError] = []
        for result in results {
            switch result {
            case .success(let message):
                if seenPhones.insert(Self.key(message.phone)).inserted {
                    fresh.append(message)
                } else {
                    rowErrors.append(RowError(position: message.position, field: validator.options.phoneField, kind: .duplicate,
                                              reason: "\(message.phone) appears earlier in this batch"))
                }
            case .failure(let error):
                rowErrors.append(error)
            }
        }
        try await drainPendingWrite()
        let (database, batchID, window, now) = (self.database, self.batchID, dedupeWindow, clock().timeIntervalSince1970)
        let candidates = fresh, knownErrors = rowErrors, phoneField = validator.options.phoneField
        pendingWrite = Task {
            try await Self.store(candidates, errors: knownErrors, contacts: contacts, batchID: batchID, window: window, now: now,
                                 phoneField: phoneField, in: database)
        }
    }

    /// Waits for the chunk in flight and counts what it stored.
    private func drainPendingWrite() async throws {
        guard let pending = pendingWrite else { return }
        pendingWrite = nil
        let outcome = try await pending.value
        accepted += outcome.queued
        for error in outcome.errors {
            byReason[error.kind, default: 0] += 1
            if error.kind == .duplicate { duplicates += 1 } else { rejected += 1 }
            if errors.count < Self.maxInlineErrors { errors.append(error) }
        }
    }

    /// One write transaction: queue the fresh messages (unless the same text went to the same
    /// number within the window) and record every rejection with the contact as sent.
    private static func store(_ candidates: [ValidatedMessage], errors knownErrors: [RowError], contacts: [ContactInput],
                              batchID: String, window: TimeInterval, now: Double, phoneField: String,
                              in database: AppDatabase) async throws -> ChunkOutcome {
        try await database.writer.write { db in
            var errors = knownErrors
            var queued = 0
            let recent = window > 0 ? try recentlyQueued(candidates, since: now - window, in: db) : []
            let insert = try db.makeStatement(sql: """
                INSERT INTO message (batch_id, row, phone, body, body_hash, encoding, segments, status, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)
                """)
            let optedOut = try OptOutList.optedOut(candidates.map(\.phone), in: db)
            for message in candidates {
                if optedOut.contains(message.phone) {
                    errors.append(RowError(position: message.position, field: phoneField, kind: .optedOut,
                                           reason: "\(message.phone) opted out (replied STOP or was added to the opt-out list)"))
                    continue
                }
                if recent.contains(DedupeKey(phone: message.phone, bodyHash: message.bodyHash)) {
                    errors.append(RowError(position: message.position, field: "message", kind: .duplicate,
                                           reason: "the same text was queued for \(message.phone) within the last \(Int(window / 3600))h"))
                    continue
                }
                insert.setUncheckedArguments([batchID, message.position, message.phone, message.body, message.bodyHash,
                                              message.encoding.rawValue, message.segments, now, now])
                try insert.execute()
                queued += 1
            }
            if !errors.isEmpty {
                let raws = Dictionary(contacts.map { ($0.position, $0.raw) }, uniquingKeysWith: { first, _ in first })
                let reject = try db.makeStatement(sql: "INSERT INTO rejection (batch_id, row, field, kind, reason, raw) VALUES (?, ?, ?, ?, ?, ?)")
                for error in errors {
                    reject.setUncheckedArguments([batchID, error.position, error.field, error.kind.rawValue, error.reason,
                                                  raws[error.position]?.text ?? ""])
                    try reject.execute()
                }
            }
            return ChunkOutcome(queued: queued, errors: errors)
        }
    }

    struct DedupeKey: Hashable {
        var phone: String
        var bodyHash: Int64
    }

    /// Which of these messages' (number, text) pairs were queued since `cutoff`: one indexed
    /// query per 500 numbers instead of one per message.
    private static func recentlyQueued(_ messages: [ValidatedMessage], since cutoff: Double, in db: Database) throws -> Set<DedupeKey> {
        var found: Set<DedupeKey> = []
        let phones = Array(Set(messages.map(\.phone)))
        for start in stride(from: 0, to: phones.count, by: 500) {
            let slice = phones[start..<min(phones.count, start + 500)]
            let marks = Array(repeating: "?", count: slice.count).joined(separator: ",")
            let rows = try Row.fetchCursor(db, sql: "SELECT phone, body_hash FROM message WHERE phone IN (\(marks)) AND created_at >= ?",
                                           arguments: StatementArguments(slice.map { $0 as any DatabaseValueConvertible } + [cutoff]))
            while let row = try rows.next() {
                found.insert(DedupeKey(phone: row["phone"], bodyHash: row["body_hash"]))
            }
        }
        return found
    }

    /// Marks the batch complete with its counts.
    public func finish() async throws -> BatchSummary {
        try await drainPendingWrite()
        let (id, accepted, rejected, duplicates) = (batchID, self.accepted, self.rejected, self.duplicates)
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE batch SET accepted = ?, rejected = ?, duplicates = ?, complete = 1 WHERE id = ?",
                           arguments: [accepted, rejected, duplicates, id])
        }
        var text = "\(accepted) queued"
        if rejected > 0 { text += ", \(rejected) rejected" }
        if duplicates > 0 { text += ", \(duplicates) duplicate\(duplicates == 1 ? "" : "s") skipped" }
        return BatchSummary(batchID: id, accepted: accepted, rejected: rejected, duplicates: duplicates, message: text,
                            errors: errors, errorsTruncated: rejected + duplicates > errors.count)
    }

    /// Rejections by kind so far, for metrics.
    public var rejectionsByKind: [RowError.Kind: Int] { byReason }

    /// Validation is CPU-bound and pure: large chunks are split across the cores.
    private func validate(_ contacts: [ContactInput]) async -> [Result<ValidatedMessage, RowError>] {
        let validator = self.validator
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, max(1, contacts.count / 1000))
        guard workers > 1 else { return contacts.map(validator.validate) }
        let size = (contacts.count + workers - 1) / workers
        return await withTaskGroup(of: (Int, [Result<ValidatedMessage, RowError>]).self) { group in
            for start in stride(from: 0, to: contacts.count, by: size) {
                let slice = contacts[start..<min(contacts.count, start + size)]
                group.addTask { (start, slice.map(validator.validate)) }
            }
            var parts: [(Int, [Result<ValidatedMessage, RowError>])] = []
            for await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
    }

    /// E.164 digits fit an Int64 (at most 15 digits), a quarter of the memory of the string.
    static func key(_ e164: String) -> Int64 {
        Int64(e164.dropFirst()) ?? Int64(bitPattern: UInt64(truncatingIfNeeded: e164.hashValue))
    }
}
