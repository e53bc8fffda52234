import Foundation

/// A batch as the API answers it and the web pages show it: one type for both, so a column
/// added to `batch` shows everywhere or nowhere.
public struct BatchRecord: Sendable, Encodable {
    public var id: String
    public var createdAt: Date
    public var source: String
    public var template: String
    public var accepted: Int
    public var rejected: Int
    public var duplicates: Int
    public var complete: Bool
    /// True when the server died while ingesting it: closed at the next start, with the
    /// counts of the rows it had stored (see `AppStore.closeInterruptedBatches`).
    public var interrupted: Bool
    /// The uploaded file's name (CSV batches).
    public var fileName: String?
    /// Messages by status word; nil when the listing did not ask for them (the API's list).
    public var statuses: [String: Int]?
    /// SMS segments over the batch's messages (0 without `statuses`); shown by the web pages,
    /// not part of the API's answer.
    public var segments: Int = 0

    enum CodingKeys: String, CodingKey {
        case id, createdAt, source, template, accepted, rejected, duplicates, complete, interrupted, fileName, statuses
    }

    /// Messages in any of `statuses` (0 when counts were not read).
    public func count(_ statuses: [MessageStatus]) -> Int {
        MessageStatus.count(statuses, in: self.statuses ?? [:])
    }

    public var total: Int { (statuses ?? [:]).values.reduce(0, +) }
    /// Messages no longer waiting to be sent.
    public var finished: Int { total - count(MessageStatus.waiting) }
}

/// A stored message, as the API lists it and the web pages show it.
public struct MessageRecord: Sendable, Encodable {
    public var id: Int64
    public var batchId: String
    public var row: Int
    public var phone: String
    public var body: String
    public var encoding: String
    public var segments: Int
    public var status: String
    public var createdAt: Date
    public var updatedAt: Date
    public var attempts: Int
    public var providerId: String?
    public var errorCode: String?
    public var errorMessage: String?
}

/// Which messages to read, in which order.
public struct MessageQuery: Sendable {
    public enum Order: Sendable {
        /// By id (insertion order), the cursor the API and pages page by.
        case id
        /// By the row of the upload, then id: downloads people match against their file.
        case row
        /// Most recently changed first.
        case lastUpdated
    }

    public var batchID: String?
    /// Any of these statuses; nil for all.
    public var statuses: [MessageStatus]?
    /// Only ids above this one (the page cursor).
    public var afterID: Int64
    public var limit: Int?
    public var order: Order

    public init(batchID: String? = nil, statuses: [MessageStatus]? = nil, afterID: Int64 = 0, limit: Int? = nil, order: Order = .id) {
        self.batchID = batchID
        self.statuses = statuses
        self.afterID = afterID
        self.limit = limit
        self.order = order
    }
}

/// A refused contact of a batch, with the reason and the contact as the client sent it.
public struct RejectionRecord: Sendable {
    public var row: Int
    public var field: String
    public var kind: String
    public var reason: String
    public var original: String
}
