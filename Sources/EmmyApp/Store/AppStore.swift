import Foundation

/// Every read and write of EmmyApp's data: controllers, pages, the sender and the middleware
/// hold this and write no SQL. An engine (`AppDatabase` on SQLite; a PostgreSQL one) keeps
/// each call's invariants in one transaction of its own.
///
/// Async, because a network engine (postgres-nio) is, and SQLite already hops to its writer
/// queue for each transaction. Calls are transaction-sized, never row-sized: ingest stores a
/// whole chunk (thousands of rows) per call and the sender claims and records in batches, so
/// the boundary adds no hop per row.
public protocol AppStore: Sendable {
    // MARK: Health and stats

    /// True when every known migration has run (readiness).
    func isMigrated() async throws -> Bool
    /// Commits a write transaction that changes nothing, proving the engine takes writes.
    func probeWrite() async throws
    /// Messages by status word.
    func statusCounts() async throws -> [String: Int]
    func queueState(now: Date) async throws -> QueueState
    func totals() async throws -> StoreTotals

    // MARK: Batch reads (API and web pages)

    /// Batches newest first, `limit` after the batch `before`; with their counts by status and
    /// segments when `withStatuses`.
    func batches(limit: Int, before: String?, withStatuses: Bool) async throws -> [BatchRecord]
    /// One batch with its counts by status and segments; nil when there is no such batch.
    func batch(id: String) async throws -> BatchRecord?
    func messages(_ query: MessageQuery) async throws -> [MessageRecord]
    /// Hands each matching message to `body` as it is read, for downloads of any size.
    func forEachMessage(_ query: MessageQuery, _ body: @escaping @Sendable (MessageRecord) throws -> Void) async throws
    /// Hands each rejection of a batch (by row) to `body` as it is read; false when there is
    /// no such batch.
    func forEachRejection(batchID: String, _ body: @escaping @Sendable (RejectionRecord) throws -> Void) async throws -> Bool
    /// The first `limit` rejections of a batch, by row.
    func rejections(batchID: String, limit: Int) async throws -> [RejectionRecord]
    /// Where a batch's unfinished messages wait, and how many finished since `since` (the live
    /// batch page's throughput).
    func batchProgress(id: String, since: Date) async throws -> BatchProgress

    // MARK: Ingest

    /// Records a batch before any of its rows, so a crash mid-upload leaves it visible.
    func createBatch(_ batch: NewBatch) async throws
    /// Which of these (number, text) pairs were queued at or after `cutoff`, as of one read,
    /// by batches other than `batchID` (a batch never repeats a number, so its own rows need
    /// no lookup).
    func recentMessages(among keys: [DedupeKey], since cutoff: Date, otherThan batchID: String?) async throws -> RecentMessages
    /// Which of these numbers are on the opt-out list.
    func optedOut(_ phones: [String]) async throws -> Set<String>
    /// One write transaction: finds the candidates' recent pairs (the snapshot's plus any
    /// committed since it) and opted-out numbers, lets `screen` decide, then queues what it
    /// keeps and stores every rejection. Returns what was decided.
    func storeChunk(_ chunk: IngestChunk, screen: @escaping ChunkScreen) async throws -> ScreenedChunk
    /// Marks the batch complete with its counts, durably: it survives a power cut once this
    /// returns, together with every row the batch stored before.
    func completeBatch(id: String, counts: BatchCounts) async throws
    /// Closes the batches a dead run left open (call once at startup); returns how many.
    func closeInterruptedBatches() async throws -> Int

    // MARK: Send queue

    /// Hands messages claimed by dead runs back to the pool, marked in doubt; returns how many.
    /// SQLite takes every other run for dead (one process owns the file); a shared engine takes
    /// a run for dead when its heartbeat stopped, and also closes the batches it was ingesting.
    func recoverInDoubt(runID: String) async throws -> Int
    /// Tells the other replicas that `runID` (and this process's ingests) is alive; call it
    /// before the first claim and then every `recoveryInterval`.
    func heartbeat(runID: String) async throws
    /// How often a sender heartbeats and recovers dead runs' claims while it runs; nil when
    /// recovery at start is enough (SQLite: no other process can die holding claims).
    var recoveryInterval: Duration? { get }
    /// Claims up to `limit` messages for `runID`: due retries first, then queued messages in
    /// order. Returns the jobs and how many were newly `sending`.
    func claim(limit: Int, runID: String, now: Date) async throws -> (jobs: [QueueJob], fresh: Int)
    /// Gives `runID`'s claimed but unattempted messages back, still `sending`.
    func release(_ ids: [Int64], runID: String) async throws
    /// Records many outcomes in one transaction; returns how many messages entered each status.
    func record(_ outcomes: [SendOutcome], now: Date) async throws -> [MessageStatus: Int]
    /// Applies a provider status callback: remembered once, moving the message forward only.
    func applyCallback(providerID: String, status: MessageStatus, errorCode: String?, now: Date) async throws -> CallbackEffect
    /// An operator's retry of one failed, undelivered or canceled message (not opted out).
    func requeue(messageID: Int64, now: Date) async throws -> RequeueResult
    /// Requeues a batch's failed and undelivered messages (not opted-out numbers); nil when
    /// there is no such batch.
    func requeueFailed(batchID: String, now: Date) async throws -> Int?

    /// Messages whose last attempt since `since` ended with one of `codes`, counted by code:
    /// the evidence incident automation reads before it pauses sending.
    func providerRefusals(codes: [String], since: Date) async throws -> [String: Int]

    // MARK: Opt-outs and replies

    /// Adds E.164 numbers (listed ones are kept as they were) and cancels what still waits for them.
    func addOptOuts(_ phones: [String], source: String, now: Date) async throws -> OptOutAdded
    /// Removes a number; returns whether it was listed.
    func removeOptOut(_ phone: String) async throws -> Bool
    /// Records an inbound message id and applies `action` in the same transaction, once per
    /// id: a replayed START cannot undo a later STOP.
    func applyInbound(messageID: String, action: InboundAction, now: Date) async throws -> ReplyEffect

    // MARK: API tokens

    func insertToken(id: String, name: String, hash: String, createdAt: Date) async throws
    func tokens() async throws -> [StoredToken]
    /// Revokes by name or id; false when no active token matched.
    func revokeToken(nameOrID: String, now: Date) async throws -> Bool
    /// Whether an unrevoked token has this hash.
    func isActiveToken(hash: String) async throws -> Bool
}

extension AppStore {
    public func queueState() async throws -> QueueState {
        try await queueState(now: Date())
    }
}
