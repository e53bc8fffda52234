import Foundation

/// Paces sending to `segmentsPerSecond` per sender, shared by every worker.
///
/// Each caller reserves the next free slot and sleeps until it: a scheduler, not a polling
/// token bucket, so the rate holds exactly however many workers wait. Idle time is not
/// banked: no burst after a pause.
public actor SendThrottle {
    private let rate: Double
    private var nextFree: [String: ContinuousClock.Instant] = [:]

    /// `segmentsPerSecond` ≤ 0 turns the throttle off.
    public init(segmentsPerSecond: Double) {
        rate = segmentsPerSecond
    }

    /// How long the caller must wait before sending `segments` for `sender`; the slot is
    /// reserved on return.
    public func reserve(sender: String, segments: Int, now: ContinuousClock.Instant = .now) -> Duration {
        guard rate > 0 else { return .zero }
        let cost = Duration.seconds(Double(max(1, segments)) / rate)
        let start = max(nextFree[sender] ?? now, now)
        nextFree[sender] = start + cost
        return start > now ? start - now : .zero
    }
}
