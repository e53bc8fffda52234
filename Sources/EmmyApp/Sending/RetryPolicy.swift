import Foundation

/// When to try a failed send again: exponential backoff with full jitter (a random wait
/// between 0 and base × 2^(attempt−1), capped), never sooner than the provider's Retry-After,
/// and never past the attempt or age limits.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var maxAgeSeconds: Double
    public var baseSeconds: Double
    public var maxSeconds: Double

    public init(maxAttempts: Int, maxAgeSeconds: Double, baseSeconds: Double, maxSeconds: Double) {
        self.maxAttempts = maxAttempts
        self.maxAgeSeconds = maxAgeSeconds
        self.baseSeconds = baseSeconds
        self.maxSeconds = maxSeconds
    }

    public init(_ config: SendingConfig) {
        self.init(maxAttempts: config.maxAttempts, maxAgeSeconds: config.maxAgeSeconds,
                  baseSeconds: config.backoffBaseSeconds, maxSeconds: config.backoffMaxSeconds)
    }

    /// The wait before the next attempt after `attempts` attempts, or nil when the message
    /// has used its attempts or would be too old by then.
    public func delay(afterAttempts attempts: Int, ageSeconds: Double, retryAfter: Double?,
                      random: (ClosedRange<Double>) -> Double = { Double.random(in: $0) }) -> Double? {
        guard attempts < maxAttempts else { return nil }
        let ceiling = min(maxSeconds, baseSeconds * pow(2, Double(max(0, attempts - 1))))
        let wait = max(random(0...max(0, ceiling)), retryAfter ?? 0)
        guard ageSeconds + wait <= maxAgeSeconds else { return nil }
        return wait
    }
}
