import Foundation

/// Asks every host the same question at once (`details`, `audit`, `lock status`…): one
/// host's failure is its own answer, not the fleet's.
public enum FleetQuery {
    public struct Answer<Value: Sendable>: Sendable {
        public var target: DeployTarget
        public var result: Result<Value, any Error>
    }

    /// `body` for every target, at most `width` at a time; answers in the order of `targets`.
    public static func each<Value: Sendable>(_ targets: [DeployTarget], width: Int = 8,
                                             _ body: @escaping @Sendable (DeployTarget) throws -> Value) -> [Answer<Value>] {
        concurrently(targets, width: width) { target in
            Answer(target: target, result: Result { try body(target) })
        }
    }
}

/// `--since` of `logs` and `audit`: a duration back from now (`10m`, `1h30m`) or an ISO 8601 time.
public enum Since {
    public static func parse(_ text: String, now: Date = Date()) -> Date? {
        if let duration = PromDuration(parsing: text) { return now.addingTimeInterval(-duration.seconds) }
        return ISO8601DateFormatter().date(from: text)
    }
}
