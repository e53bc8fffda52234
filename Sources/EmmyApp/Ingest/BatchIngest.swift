import Foundation

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

    let store: any AppStore
    let validator: ContactValidator
    let source: Source
    let client: String?
    let dedupeWindow: TimeInterval
    let clock: @Sendable () -> Date
    public let batchID: String
    /// The uploaded file's name, shown instead of the id; set before `begin`.
    public var fileName: String?

    // Touched only from the task driving this ingest.
    private var seenPhones: Set<Int64> = []
    private var accepted = 0
    private var rejected = 0
    private var duplicates = 0
    private var errors: [RowError] = []
    private var byReason: [RowError.Kind: Int] = [:]

    public init(database: any AppStore, options: IngestOptions, source: Source, client: String?,
                dedupeWindow: TimeInterval, clock: @escaping @Sendable () -> Date = Date.init) {
        self.store = database
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
        try await store.createBatch(NewBatch(id: batchID, createdAt: clock(), source: source.rawValue, template: validator.options.templateText,
                                             client: client, fileName: NewBatch.cleanFileName(fileName)))
    }

    /// Write transactions handed to SQLite's single writer, oldest first, each starting when
    /// the one before it ends. Parsing and validation run ahead of the writer by up to
    /// `maxQueuedWrites` transactions, so the writer finds the next rows ready: with only one
    /// in flight, writer and validators took turns waiting for each other and the writer, the
    /// longest path of a big upload, ran three quarters of the time.
    private var writes: [Task<ChunkOutcome, any Error>] = []
    /// Transactions in flight at most (one writing, one ready); past it `add` waits for the
    /// oldest, so memory stays bounded for any size of upload.
    static let maxQueuedWrites = 2

    /// Validated contacts waiting for the next write transaction, their keys, and the
    /// duplicate lookups of those keys, running.
    private var buffered: [ValidatedMessage] = []
    private var bufferedKeys: [DedupeKey] = []
    private var lookups: [Task<RecentMessages, any Error>] = []
    /// The lookup started last, which the next one waits for.
    private var lastLookup: Task<RecentMessages, any Error>?
    private var bufferedErrors: [RejectedContact] = []
    /// Rows per write transaction: small at first so the writer starts early and a small
    /// batch still overlaps validation with writing, then larger, because each commit of a big
    /// batch dirties index pages all over the dedupe index and fewer, larger commits write
    /// each page fewer times.
    private var flushAt = 1000
    static let maxRowsPerTransaction = 40_000

    struct ChunkOutcome: Sendable {
        var queued: Int
        var errors: [RowError]
    }

    /// Validates a chunk of contacts and buffers it for the writer; returns before it is stored.
    /// The chunk's duplicate lookup starts at once on a reader, so by the time the writer takes
    /// these rows their lookup is done: started at flush instead, the last lookup of a big batch
    /// kept the writer waiting (100 ms at 100,000 rows).
    public func add(_ contacts: [ContactInput]) async throws {
        guard !contacts.isEmpty else { return }
        let (fresh, rejections) = screenInBatch(contacts, await validate(contacts))
        let keys = fresh.map { DedupeKey(phone: $0.phone, bodyHash: $0.bodyHash) }
        if dedupeWindow > 0, !keys.isEmpty {
            // One lookup at a time, in order: side by side, each took a reader of its own, whose
            // cold page cache read the index again, and together they took the cores the
            // writer needed (0.23 s of CPU at 100,000 rows instead of 0.09 s).
            let (store, since, previous, batchID) = (self.store, clock().addingTimeInterval(-dedupeWindow), lookups.last ?? lastLookup, self.batchID)
            let lookup = Task {
                _ = try? await previous?.value
                return try await store.recentMessages(among: keys, since: since, otherThan: batchID)
            }
            lookups.append(lookup)
            lastLookup = lookup
        }
        buffered += fresh
        bufferedKeys += keys
        bufferedErrors += rejections
        if buffered.count >= flushAt {
            try await flush()
            flushAt = min(flushAt * 2, Self.maxRowsPerTransaction)
        }
    }

    /// Queues the buffered rows as the next write transaction. The duplicate lookups ran on
    /// readers meanwhile, so the single writer only rechecks the rows committed since the
    /// earliest lookup's snapshot.
    private func flush() async throws {
        guard !buffered.isEmpty || !bufferedErrors.isEmpty else { return }
        let (store, batchID, window, now) = (self.store, self.batchID, dedupeWindow, clock())
        let candidates = buffered, keys = bufferedKeys, knownErrors = bufferedErrors, phoneField = validator.options.phoneField
        let lookups = self.lookups
        buffered = []
        bufferedKeys = []
        bufferedErrors = []
        self.lookups = []
        let previous = writes.last
        writes.append(Task {
            _ = try await previous?.value  // in order; nothing after a transaction that failed
            let chunk = IngestChunk(batchID: batchID, now: now, candidates: candidates, keys: keys, recent: try await RecentMessages.merging(lookups),
                                    rejections: knownErrors)
            let stored = try await store.storeChunk(chunk) { recent, optedOut in
                Self.screen(candidates, keys: keys, recent: recent, optedOut: optedOut, window: window, phoneField: phoneField)
            }
            return ChunkOutcome(queued: stored.queue.count, errors: stored.rejections.map(\.error))
        })
        while writes.count > Self.maxQueuedWrites { try await settleOldestWrite() }
    }

    /// Waits for every queued transaction.
    private func drainWrites() async throws {
        while !writes.isEmpty { try await settleOldestWrite() }
    }

    /// Waits for the oldest queued transaction and counts what it stored.
    private func settleOldestWrite() async throws {
        let outcome = try await writes.removeFirst().value
        accepted += outcome.queued
        for error in outcome.errors {
            byReason[error.kind, default: 0] += 1
            if error.kind == .duplicate { duplicates += 1 } else { rejected += 1 }
            if errors.count < Self.maxInlineErrors { errors.append(error) }
        }
    }

    /// What one write transaction queues: the candidates whose text did not go to the same
    /// number within the window and whose number did not opt out, in that order of checks.
    static func screen(_ candidates: [ValidatedMessage], keys: [DedupeKey], recent: Set<DedupeKey>, optedOut: Set<String>,
                       window: TimeInterval, phoneField: String) -> ScreenedChunk {
        let (fresh, repeated) = screenAgainstRecent(candidates, keys: keys, recent: recent, window: window)
        let (sendable, opted) = screenOptOuts(fresh, optedOut: optedOut, phoneField: phoneField)
        return ScreenedChunk(queue: sendable, rejections: repeated + opted)
    }

    /// Marks the batch complete with its counts, durably: the client is answered only after
    /// the store says the batch would survive a power cut.
    public func finish() async throws -> BatchSummary {
        try await flush()
        try await drainWrites()
        let (id, accepted, rejected, duplicates) = (batchID, self.accepted, self.rejected, self.duplicates)
        try await store.completeBatch(id: id, counts: BatchCounts(accepted: accepted, rejected: rejected, duplicates: duplicates))
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
        // While transactions are queued, the single writer (the longest path of a big upload)
        // keeps a core to itself: with every core validating it ran four fifths of the time.
        let cores = ProcessInfo.processInfo.activeProcessorCount - (writes.isEmpty ? 0 : 1)
        let workers = min(max(1, cores), max(1, contacts.count / 1000))
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
}

// MARK: - Screening shared by ingest and the web preview
//
// `add`/`store` and `preview` both go through these, so a check added here shows in the
// preview exactly as it will apply when the batch is sent.
extension BatchIngest {
    /// In-batch duplicates, decided in row order before touching the database.
    fileprivate func screenInBatch(_ contacts: [ContactInput], _ results: [Result<ValidatedMessage, RowError>]) -> (fresh: [ValidatedMessage], rejections: [RejectedContact]) {
        var fresh: [ValidatedMessage] = []
        var rejections: [RejectedContact] = []
        for (contact, result) in zip(contacts, results) {
            switch result {
            case .success(let message):
                if seenPhones.insert(DedupeKey.digits(message.phone)).inserted {
                    fresh.append(message)
                } else {
                    rejections.append(RejectedContact(error: RowError(position: message.position, field: validator.options.phoneField, kind: .duplicate,
                                                                        reason: "\(message.phone) appears earlier in this batch"), raw: contact.raw))
                }
            case .failure(let error):
                rejections.append(RejectedContact(error: error, raw: contact.raw))
            }
        }
        return (fresh, rejections)
    }

    /// Splits candidates into those to queue (with their keys) and those whose text went to
    /// the same number within the window.
    fileprivate static func screenAgainstRecent(_ candidates: [ValidatedMessage], keys: [DedupeKey], recent: Set<DedupeKey>,
                                                window: TimeInterval) -> (fresh: [(ValidatedMessage, DedupeKey)], rejections: [RejectedContact]) {
        var fresh: [(ValidatedMessage, DedupeKey)] = []
        var rejections: [RejectedContact] = []
        for (message, key) in zip(candidates, keys) {
            if recent.contains(key) {
                rejections.append(RejectedContact(error: RowError(position: message.position, field: "message", kind: .duplicate,
                                                                    reason: "the same text was queued for \(message.phone) within the last \(Int(window / 3600))h"),
                                                    raw: message.raw))
            } else {
                fresh.append((message, key))
            }
        }
        return (fresh, rejections)
    }

    /// What `add` would queue and reject for this chunk, without writing anything: the web
    /// preview. Call it on an ingest that is never begun; chunks are screened in order.
    public func preview(_ contacts: [ContactInput]) async throws -> (accepted: [ValidatedMessage], errors: [RowError]) {
        let (fresh, rejections) = screenInBatch(contacts, await validate(contacts))
        let keys = fresh.map { DedupeKey(phone: $0.phone, bodyHash: $0.bodyHash) }
        let window = dedupeWindow
        let recent = window > 0 ? try await store.recentMessages(among: keys, since: clock().addingTimeInterval(-window), otherThan: batchID).keys : []
        let (unrepeated, repeated) = Self.screenAgainstRecent(fresh, keys: keys, recent: recent, window: window)
        let optedOut = try await store.optedOut(unrepeated.map(\.0.phone))
        let (accepted, opted) = Self.screenOptOuts(unrepeated, optedOut: optedOut, phoneField: validator.options.phoneField)
        return (accepted.map(\.0), (rejections + repeated + opted).map(\.error))
    }

    /// Splits candidates into those to queue and those whose number is on the opt-out list.
    fileprivate static func screenOptOuts(_ candidates: [(ValidatedMessage, DedupeKey)], optedOut: Set<String>,
                                          phoneField: String) -> (fresh: [(ValidatedMessage, DedupeKey)], rejections: [RejectedContact]) {
        guard !optedOut.isEmpty else { return (candidates, []) }
        var fresh: [(ValidatedMessage, DedupeKey)] = []
        var rejections: [RejectedContact] = []
        for candidate in candidates {
            let message = candidate.0
            if optedOut.contains(message.phone) {
                rejections.append(RejectedContact(error: RowError(position: message.position, field: phoneField, kind: .optedOut,
                                                                    reason: "\(message.phone) opted out (replied STOP or was added to the opt-out list)"),
                                                    raw: message.raw))
            } else {
                fresh.append(candidate)
            }
        }
        return (fresh, rejections)
    }
}
