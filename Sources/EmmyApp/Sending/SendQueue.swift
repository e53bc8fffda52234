import Foundation

/// The durable send queue as the sender sees it: this run's claims on the store's queue.
///
/// The run id marks this process's claims; a message still claimed by another run was cut
/// off by a crash and comes back in doubt (`recoverInDoubt`), to be looked up at the provider
/// before it is sent again. What the states mean is kept by the store (`AppStore`).
public struct SendQueue: Sendable {
    let store: any AppStore
    /// Identifies this process's claims.
    let runID: String

    public init(database: any AppStore, runID: String = UUID().uuidString.lowercased()) {
        self.store = database
        self.runID = runID
    }

    public typealias Job = QueueJob
    public typealias Outcome = SendOutcome

    /// Hands messages claimed by a dead run back to the pool, marked in doubt. Returns how many.
    @discardableResult
    public func recoverInDoubt() async throws -> Int {
        try await store.recoverInDoubt(runID: runID)
    }

    /// Claims up to `limit` messages in one transaction: retries that are due first, then
    /// queued messages in order. Returns the jobs and how many were newly `sending`.
    public func claim(limit: Int, now: Date = Date()) async throws -> (jobs: [Job], fresh: Int) {
        try await store.claim(limit: limit, runID: runID, now: now)
    }

    /// Gives claimed but unattempted messages back (on shutdown), still `sending`.
    public func release(_ ids: [Int64]) async throws {
        try await store.release(ids, runID: runID)
    }

    /// Tells other replicas this run is alive (a no-op on SQLite).
    public func heartbeat() async throws {
        try await store.heartbeat(runID: runID)
    }

    /// How often to heartbeat and recover dead runs' claims; nil: once at start is enough.
    public var recoveryInterval: Duration? { store.recoveryInterval }

    /// Records many outcomes at once, so sending does not take the writer away from ingest
    /// message by message. Returns how many messages entered each status.
    public func record(_ outcomes: [Outcome], now: Date = Date()) async throws -> [MessageStatus: Int] {
        try await store.record(outcomes, now: now)
    }

    /// Applies a provider status callback: remembered once, and moving the message forward only.
    public func applyCallback(providerID: String, status: MessageStatus, errorCode: String?, now: Date = Date()) async throws -> CallbackEffect {
        try await store.applyCallback(providerID: providerID, status: status, errorCode: errorCode, now: now)
    }

    /// An operator's retry: a failed, undelivered or canceled message goes back to `queued`
    /// with fresh attempts. Opted-out numbers stay suppressed.
    public func requeue(messageID: Int64, now: Date = Date()) async throws -> RequeueResult {
        try await store.requeue(messageID: messageID, now: now)
    }

    /// Requeues every failed or undelivered message of a batch (not canceled ones, not
    /// opted-out numbers). Returns how many, or nil when the batch does not exist.
    public func requeueFailed(batchID: String, now: Date = Date()) async throws -> Int? {
        try await store.requeueFailed(batchID: batchID, now: now)
    }
}
