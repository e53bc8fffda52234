import Foundation

/// Where a batch's unfinished messages are, and how fast it finishes: what the live batch page
/// shows beyond counts by status.
public struct BatchProgress: Sendable, Equatable {
    /// Waiting to be claimed by a sender.
    public var queued = 0
    /// `sending` and claimed by a sender run: in its hands (the throttle, a worker, the
    /// provider). `SendActivity` tells which.
    public var claimedIDs: [Int64] = []
    /// `sending` but unclaimed: waiting for a retry's time (or to be looked up after a crash).
    public var retrying = 0
    /// Messages that left queued and sending at or after the window's start.
    public var finishedInWindow = 0

    public init() {}
}
