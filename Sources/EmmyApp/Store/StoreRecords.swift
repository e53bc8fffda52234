import Foundation

// Values that cross the store boundary, other than batch reads (BatchRecords.swift): plain
// Sendable structs and enums an engine fills from its own rows, no engine type in sight.

/// How many messages wait to be sent, and for how long the oldest has.
public struct QueueState: Sendable {
    public var depth: Int
    public var oldestAge: Double
}

/// Whole-database totals for the seed's `/metrics_summary`.
public struct StoreTotals: Sendable {
    public var rejections: Int
    public var batches: Int
}

// MARK: - Ingest

/// A batch as recorded before its first row.
public struct NewBatch: Sendable {
    public var id: String
    public var createdAt: Date
    public var source: String
    public var template: String
    public var client: String?
    /// Already cleaned (`NewBatch.cleanFileName`).
    public var fileName: String?
}

/// A contact that was not queued, with the contact as sent, for the rejected-rows download.
public struct RejectedContact: Sendable {
    public var error: RowError
    public var raw: RawContact

    public init(error: RowError, raw: RawContact) {
        self.error = error
        self.raw = raw
    }
}

/// The (number, text) pairs of a batch already queued within the dedupe window, as one read
/// saw them before the write began, and where that read stopped: rows committed after
/// `watermark` (an engine-defined position, such as the last row id seen) are rechecked by
/// the write itself, so the slow lookup can run while the previous write is in flight.
public struct RecentMessages: Sendable {
    public var keys: Set<DedupeKey>
    public var watermark: Int64
    /// The window's start the read used: the write rechecks against the same one.
    public var since: Date

    /// What several lookups of one write transaction found, as one: every pair any of them
    /// found, the earliest snapshot (the write rechecks everything committed after it) and the
    /// earliest window start. Nil when there were none (duplicates are not checked).
    static func merging(_ lookups: [Task<RecentMessages, any Error>]) async throws -> RecentMessages? {
        var merged: RecentMessages?
        for lookup in lookups {
            let found = try await lookup.value
            guard var sum = merged else { merged = found; continue }
            sum.keys.formUnion(found.keys)
            sum.watermark = min(sum.watermark, found.watermark)
            sum.since = min(sum.since, found.since)
            merged = sum
        }
        return merged
    }
}

/// One write transaction of an ingest.
public struct IngestChunk: Sendable {
    public var batchID: String
    public var now: Date
    /// Valid messages not repeated within the batch, in row order, with their dedupe keys.
    public var candidates: [ValidatedMessage]
    public var keys: [DedupeKey]
    /// From `recentMessages` before the write; nil when duplicates are not checked.
    public var recent: RecentMessages?
    /// Contacts already refused (invalid, repeated in the batch), stored with the chunk.
    public var rejections: [RejectedContact]
}

/// What to queue and what to refuse, decided by ingest from what the write transaction found:
/// `recent`, the candidates' pairs queued within the window (the snapshot's and any committed
/// since), and `optedOut`, the candidates' numbers on the opt-out list. Pure and quick: it runs
/// inside the transaction, so the checks and the insert see the same data.
public typealias ChunkScreen = @Sendable (_ recent: Set<DedupeKey>, _ optedOut: Set<String>) -> ScreenedChunk

public struct ScreenedChunk: Sendable {
    public var queue: [(ValidatedMessage, DedupeKey)]
    public var rejections: [RejectedContact]

    public init(queue: [(ValidatedMessage, DedupeKey)], rejections: [RejectedContact]) {
        self.queue = queue
        self.rejections = rejections
    }
}

/// A batch's final counts.
public struct BatchCounts: Sendable {
    public var accepted: Int
    public var rejected: Int
    public var duplicates: Int
}

// MARK: - Send queue

/// A claimed message, ready to send.
public struct QueueJob: Sendable {
    public var message: OutgoingMessage
    /// Attempts recorded before this one.
    public var attempts: Int
    /// The provider may already have it: look before sending.
    public var inDoubt: Bool
}

/// What became of one send attempt.
public enum SendOutcome: Sendable {
    /// The provider has it (`attempted` false when found by a lookup, not sent now).
    case accepted(id: Int64, providerID: String, status: MessageStatus, attempted: Bool)
    case retry(id: Int64, at: Date, code: String, reason: String, inDoubt: Bool, attempted: Bool)
    case failed(id: Int64, code: String, reason: String)
}

/// What a provider status callback did.
public enum CallbackEffect: Sendable, Equatable {
    /// The same callback was seen before.
    case duplicate
    /// The message moved to this status.
    case moved(MessageStatus)
    /// Nothing changed: the message is already as far or further along (or not known yet).
    case ignored
}

/// What an operator's retry of one message did.
public enum RequeueResult: Sendable, Equatable {
    case requeued
    case notFound
    /// Not in a status that may be retried (already queued, sending or sent), or opted out.
    case refused(status: String)
}

// MARK: - Opt-outs and replies

/// Numbers added to the opt-out list.
public struct OptOutAdded: Sendable, Equatable {
    public var added: Int
    /// Waiting messages to these numbers that were canceled.
    public var canceled: Int
}

/// What an inbound reply asks for, decided from its words before the store records it.
public enum InboundAction: Sendable, Equatable {
    case optOut(phone: String)
    case optIn(phone: String)
    case none
}

/// What an inbound reply did.
public enum ReplyEffect: Sendable, Equatable {
    /// This provider message id was seen before: a replay, ignored.
    case repeated
    case optedOut(OptOutAdded)
    /// START: whether the number was listed.
    case optedIn(wasListed: Bool)
    /// Neither a stop nor a start word, or no usable sender.
    case none
}

// MARK: - Tokens

/// An API token as listed; the plain token is never stored, only its hash.
public struct StoredToken: Sendable {
    public var id: String
    public var name: String
    public var createdAt: Date
    public var revokedAt: Date?
}
