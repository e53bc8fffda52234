/// Restart delays that double after each crash in a row, up to a cap.
public struct Backoff: Sendable, Equatable {
    public let initial: PromDuration
    public let maximum: PromDuration
    /// Crashes in a row since the last reset.
    public private(set) var attempt = 0

    public init(initial: PromDuration, maximum: PromDuration) {
        self.initial = initial
        self.maximum = max(initial, maximum)
    }

    /// The delay before the next restart; each call doubles the following one.
    public mutating func next() -> PromDuration {
        var delay = initial.milliseconds
        // Doubling stops at the cap, so a long crash loop cannot overflow.
        for _ in 0..<attempt where delay < maximum.milliseconds { delay *= 2 }
        attempt += 1
        return PromDuration(milliseconds: min(delay, maximum.milliseconds))
    }

    /// Back to the initial delay, once the child has stayed healthy for a while.
    public mutating func reset() { attempt = 0 }
}
