import Foundation

/// Whether automation may try another restart or rollback for one alert on one host: at most
/// `attempts` within the sliding window, each further apart than the last (the doubling
/// backoff of `Supervise/Backoff`). Pure: it reads the attempts the ledger recorded.
public struct RemedyBudget: Sendable {
    public enum Verdict: Sendable, Equatable {
        case allowed
        /// Too soon after the previous attempt; try again at this time.
        case backoff(until: Date)
        /// Every attempt of the window is spent: freeze and escalate.
        case exhausted(used: Int)
    }

    public let settings: RemedyBudgetSettings

    public init(_ settings: RemedyBudgetSettings) { self.settings = settings }

    /// Where counting starts: the window's start, or the last acknowledgement if later (an
    /// `ack` gives automation a fresh budget).
    public func countingFrom(now: Date, acknowledged: Date?) -> Date {
        max(now.addingTimeInterval(-settings.window.seconds), acknowledged ?? .distantPast)
    }

    /// `attempts`: times of earlier attempts since `countingFrom`, oldest first.
    public func verdict(attempts: [Date], now: Date) -> Verdict {
        if attempts.count >= settings.attempts { return .exhausted(used: attempts.count) }
        guard let last = attempts.last else { return .allowed }
        var backoff = Backoff(initial: settings.backoffInitial, maximum: settings.backoffMax)
        var delay = backoff.next()
        for _ in 1..<attempts.count { delay = backoff.next() }
        let due = last.addingTimeInterval(delay.seconds)
        return due <= now ? .allowed : .backoff(until: due)
    }
}
