import Foundation
import NIOConcurrencyHelpers

/// The app's own rolling history of the last hour, one bucket per minute: what the monitoring
/// page charts when no Prometheus is at hand. Fed by the same events as the metrics (statuses
/// entered, send attempts) and by a queue-depth sample every few seconds.
public final class ActivityHistory: Sendable {
    public struct Minute: Sendable, Equatable {
        /// Minutes since 1970: the bucket's start.
        public var minute: Int
        public var sent = 0
        public var delivered = 0
        /// Failed or undelivered.
        public var failed = 0
        /// Attempts handed to the provider, and those the provider refused or that failed.
        public var attempts = 0
        public var attemptErrors = 0
        /// The last queue depth sampled in this minute, nil when none was.
        public var queueDepth: Int?

        public init(minute: Int) { self.minute = minute }

        /// Failed attempts over all attempts, nil for a minute without any.
        public var errorRatio: Double? { attempts == 0 ? nil : Double(attemptErrors) / Double(attempts) }
    }

    public static let minutes = 60
    private let buckets = NIOLockedValueBox<[Int: Minute]>([:])
    private let clock: @Sendable () -> Date

    public init(clock: @escaping @Sendable () -> Date = Date.init) { self.clock = clock }

    private func update(_ change: (inout Minute) -> Void) {
        let now = Int(clock().timeIntervalSince1970) / 60
        buckets.withLockedValue { buckets in
            change(&buckets[now, default: Minute(minute: now)])
            if buckets.count > Self.minutes + 5 { buckets = buckets.filter { now - $0.key < Self.minutes } }
        }
    }

    func entered(_ status: MessageStatus, count: Int) {
        switch status {
        case .sent: update { $0.sent += count }
        case .delivered: update { $0.delivered += count }
        case .failed, .undelivered: update { $0.failed += count }
        default: break
        }
    }

    func attempted(success: Bool) {
        update {
            $0.attempts += 1
            if !success { $0.attemptErrors += 1 }
        }
    }

    func sampled(queueDepth: Int) { update { $0.queueDepth = queueDepth } }

    /// The last hour, oldest first, one entry per minute (empty minutes included), ending with
    /// the current one.
    public func lastHour() -> [Minute] {
        let now = Int(clock().timeIntervalSince1970) / 60
        let buckets = buckets.withLockedValue { $0 }
        return ((now - Self.minutes + 1)...now).map { buckets[$0] ?? Minute(minute: $0) }
    }

    /// Successful attempts per minute over the last `minutes` whole minutes and the current one.
    public func sendRate(minutes: Int = 5) -> Double {
        let recent = lastHour().suffix(minutes)
        return Double(recent.reduce(0) { $0 + $1.attempts - $1.attemptErrors }) / Double(minutes)
    }

    /// Failed attempts over all attempts in the last `minutes`; nil when nothing was attempted.
    public func errorRatio(minutes: Int = 5) -> Double? {
        let recent = lastHour().suffix(minutes)
        let attempts = recent.reduce(0) { $0 + $1.attempts }
        return attempts == 0 ? nil : Double(recent.reduce(0) { $0 + $1.attemptErrors }) / Double(attempts)
    }
}
