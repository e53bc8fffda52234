import Foundation

/// At most `limit` restarts within a sliding `window`; one more crash inside it means the
/// child is crash-looping, and restarting it again would only hide that.
public struct CrashBudget: Sendable, Equatable {
    public let limit: Int
    public let window: PromDuration
    private var restarts: [Date] = []

    public init(limit: Int, window: PromDuration) {
        self.limit = limit
        self.window = window
    }

    /// Restarts counted in the window that ends at `now`.
    public func count(at now: Date) -> Int {
        restarts.filter { now.timeIntervalSince($0) < window.seconds }.count
    }

    /// Records a restart at `now` when the budget allows one; false once it is spent.
    public mutating func spend(at now: Date) -> Bool {
        restarts.removeAll { now.timeIntervalSince($0) >= window.seconds }
        guard restarts.count < limit else { return false }
        restarts.append(now)
        return true
    }

    /// Forgets past restarts (an operator asked for a fresh start).
    public mutating func reset() { restarts = [] }
}
